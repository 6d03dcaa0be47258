@testable import Scenes
import XCTest

/// The compositional caption grammar: many distinct captions a family, the training templates
/// among them, attributes stated, and never a held-out paraphrase.
final class CaptionGrammarTests: XCTestCase {
    private func normalized(_ s: String) -> String {
        s.lowercased().split(whereSeparator: { $0 == " " || $0 == "," || $0 == "." }).joined(separator: " ")
    }

    func testHundredsOfCaptionsAFamilyIncludingTheTemplates() {
        for family in SceneFamily.allCases {
            let all = Scenes.grammarCaptions(family)
            XCTAssertGreaterThanOrEqual(Set(all).count, 300, family.id)
            XCTAssertTrue(Set(Scenes.trainingCaptions(family)).isSubset(of: Set(all)), family.id)
            XCTAssertFalse(all.contains { $0.contains("{") || $0.contains("}") || $0.contains("  ") }, "\(family.id): a malformed caption")
        }
    }

    func testNoGrammarCaptionIsAHeldOutParaphrase() {
        let grammar = Set(SceneFamily.allCases.flatMap { Scenes.grammarCaptions($0) }.map(normalized))
        for family in SceneFamily.allCases {
            for p in Scenes.heldOutParaphrases(family) {
                XCTAssertFalse(grammar.contains(normalized(p)), "\(family.id): paraphrase '\(p)' is also a grammar caption")
            }
        }
    }

    func testClipCaptionsComeFromTheGrammarVaryAndStateTheAttributes() {
        for family in SceneFamily.allCases {
            let all = Set(Scenes.grammarCaptions(family))
            var seen = Set<String>()
            for seed in UInt64(0)..<200 {
                let caption = Scenes.grammarCaption(family: family, seed: seed)
                XCTAssertTrue(all.contains(caption), "\(family.id) \(seed): \(caption)")
                XCTAssertEqual(caption, Scenes.grammarCaption(family: family, seed: seed), "not a function of the seed")
                seen.insert(caption)
                let named = Scenes.namedAttributes(caption, family: family)
                let truth = Scenes.attributes(family: family, seed: seed)
                if let colour = named?.ballColor { XCTAssertEqual(colour, truth.ballColor, caption) }
                if let direction = named?.direction { XCTAssertEqual(direction, truth.direction, caption) }
            }
            XCTAssertGreaterThanOrEqual(seen.count, 60, "\(family.id): 200 clips should carry many distinct captions")
        }
        // Every ball caption names its colour, every cloud caption its direction.
        for seed in UInt64(0)..<100 {
            let ball = Scenes.grammarCaption(family: .ball, seed: seed)
            XCTAssertEqual(Scenes.namedAttributes(ball, family: .ball)?.ballColor, Scenes.attributes(family: .ball, seed: seed).ballColor, ball)
            let clouds = Scenes.grammarCaption(family: .clouds, seed: seed)
            XCTAssertEqual(Scenes.namedAttributes(clouds, family: .clouds)?.direction, Scenes.attributes(family: .clouds, seed: seed).direction, clouds)
        }
    }
}
