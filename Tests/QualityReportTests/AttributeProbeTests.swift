import FrameIO
@testable import QualityReport
import Scenes
import XCTest

/// `AttributeProbe`: the captions it prompts with name the value they stand for, its reading of
/// real clips is their true attribute, and its summary counts what it was given.
final class AttributeProbeTests: XCTestCase {
    func testCaptionsNameTheirValueAndKeepTheSetsApart() {
        for family in AttributeProbe.families {
            let values = AttributeProbe.values(family)
            XCTAssertGreaterThanOrEqual(values.count, 2, family.id)
            for paraphrase in [false, true] {
                var seen = Set<String>()
                for value in values {
                    let captions = AttributeProbe.captions(family, value: value, paraphrase: paraphrase)
                    XCTAssertGreaterThanOrEqual(captions.count, 2, "\(family.id) \(value): too few captions to vary the wording")
                    for caption in captions {
                        XCTAssertEqual(AttributeProbe.named(Scenes.namedAttributes(caption, family: family), family), value, caption)
                        XCTAssertTrue(seen.insert(caption).inserted, "\(caption) stands for two values")
                    }
                    let pool = paraphrase ? Scenes.heldOutParaphrases(family) : Scenes.trainingCaptions(family)
                    XCTAssertTrue(Set(captions).isSubset(of: pool), "\(family.id) \(value)")
                }
            }
            let training = Set(values.flatMap { AttributeProbe.captions(family, value: $0, paraphrase: false) })
            let held = Set(values.flatMap { AttributeProbe.captions(family, value: $0, paraphrase: true) })
            XCTAssertTrue(training.isDisjoint(with: held), "\(family.id): a paraphrase is a training caption")
        }
        XCTAssertEqual(AttributeProbe.values(.city), [])
    }

    /// The attribute-free negative prompt: the caption's other words stay, and the caption
    /// parser (an oracle written for the corpus, not for this) finds no attribute left in it.
    func testAttributeFreeCaptionsNameNoAttribute() {
        XCTAssertEqual(AttributeProbe.withoutAttribute("a red ball bouncing", family: .ball), "a ball bouncing")
        XCTAssertEqual(AttributeProbe.withoutAttribute("bouncing ball, red", family: .ball), "bouncing ball,")
        XCTAssertEqual(AttributeProbe.withoutAttribute("a car driving left along a road at night", family: .car),
                       "a car driving along a road at night")
        XCTAssertEqual(AttributeProbe.withoutAttribute("clouds passing from right to left", family: .clouds), "clouds passing from to")
        for family in AttributeProbe.families {
            for paraphrase in [false, true] {
                for value in AttributeProbe.values(family) {
                    for caption in AttributeProbe.captions(family, value: value, paraphrase: paraphrase) {
                        let bare = AttributeProbe.withoutAttribute(caption, family: family)
                        XCTAssertNil(AttributeProbe.named(Scenes.namedAttributes(bare, family: family), family), "\(caption) -> \(bare)")
                        XCTAssertLessThan(bare.split(separator: " ").count, caption.split(separator: " ").count, caption)
                    }
                }
            }
        }
    }

    /// Real held-out clips rendered at 64x64 and downscaled to 32x32 as the probe downscales a
    /// model's frames: the judges read each clip's true attribute.
    func testReadsRealClipsRight() throws {
        let scaler = try FrameScaler(inputWidth: 64, inputHeight: 64, outputWidth: 32, outputHeight: 32)
        for family in AttributeProbe.families {
            for i in 0..<10 {
                let seed = SceneSplit.heldout.seed(UInt64(900 + i))
                var clip: [Float] = []
                try Scenes.renderFrames(family: family, seed: seed, size: 64, frames: 16) { frame in
                    clip += try scaler.scale(frame).planarFloat
                }
                let truth = AttributeProbe.named(Scenes.attributes(family: family, seed: seed), family)
                XCTAssertNotNil(truth)
                XCTAssertEqual(AttributeProbe.read(clip, family: family, frames: 16, size: 32), truth, "\(family.id) clip \(i)")
            }
        }
        let flat = [Float](repeating: 0.2, count: 16 * 3 * 32 * 32)
        XCTAssertNil(AttributeProbe.read(flat, family: .ball, frames: 16, size: 32), "no ball in a flat field")
        XCTAssertNil(AttributeProbe.read(flat, family: .car, frames: 16, size: 32), "no headlight in a flat field")
        XCTAssertNil(AttributeProbe.read(flat, family: .city, frames: 16, size: 32), "the city has no attribute")
    }

    func testSummaryCountsRightJudgedAndChance() {
        let cells = [
            AttributeProbe.Cell(family: "ball", value: "red", paraphrase: false, captions: ["a", "b", "c", "d"],
                                read: ["red", "red", "blue", AttributeProbe.none]),
            AttributeProbe.Cell(family: "ball", value: "blue", paraphrase: false, captions: ["a", "b", "c", "d"],
                                read: ["blue", "red", AttributeProbe.none, AttributeProbe.none]),
        ]
        XCTAssertEqual(cells[0].right, 2)
        XCTAssertEqual(cells[0].judged, 3)
        let md = AttributeProbe.markdown(cells)
        XCTAssertTrue(md.contains("| ball | training | red | 2/4 | red 2, blue 1, none 1 |"), md)
        // 3 right of 8: 37.5% ± sqrt(0.375 · 0.625 / 8) = 17.1; 5 of 8 read; 3/5 right among those; chance 1/2.
        XCTAssertTrue(md.contains("| ball | training | 3/8 (37.5% ± 17.1) | 5/8 | 60.0% | 50% |"), md)
        XCTAssertTrue(md.contains("| all | training | 3/8 (37.5% ± 17.1) | 5/8 | 60.0% | - |"), md)
        XCTAssertFalse(md.contains("paraphrases |"), "no paraphrase rows without paraphrase cells")
    }
}
