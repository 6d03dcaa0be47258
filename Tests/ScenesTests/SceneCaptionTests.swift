@testable import Scenes
import XCTest

final class SceneCaptionTests: XCTestCase {
    private func normalized(_ s: String) -> String {
        s.lowercased().split(whereSeparator: { $0 == " " || $0 == "," || $0 == "." }).joined(separator: " ")
    }

    func testFamiliesHaveIdsNamesAndNumbers() {
        XCTAssertEqual(SceneFamily.allCases.count, 14)
        XCTAssertEqual(SceneFamily.allCases.map(\.number), Array(1...14))
        XCTAssertEqual(Set(SceneFamily.allCases.map(\.id)).count, 14)
        XCTAssertEqual(SceneFamily(id: "ball"), .ball)
        XCTAssertNil(SceneFamily(id: "dragon"))
        XCTAssertTrue(SceneFamily.allCases.allSatisfy { !$0.name.isEmpty && !$0.id.contains("-") })
    }

    func testManyTemplatesAndParaphrasesPerFamily() {
        for family in SceneFamily.allCases {
            XCTAssertGreaterThanOrEqual(SceneCaptions.templates(family).count, 10, family.id)
            XCTAssertGreaterThanOrEqual(SceneCaptions.paraphrases(family).count, 4, family.id)
            XCTAssertFalse(Scenes.trainingCaptions(family).contains { $0.contains("{") }, "\(family.id): unexpanded placeholder")
            XCTAssertFalse(Scenes.heldOutParaphrases(family).contains { $0.contains("{") }, "\(family.id): unexpanded placeholder")
        }
    }

    /// `captionVariants`: the clip's own caption first, then every other training template of its
    /// family expanded with the clip's attributes, each naming what the caption names.
    func testCaptionVariantsAreEveryTrainingWordingOfTheClipsAttributes() {
        for family in SceneFamily.allCases {
            for seed: UInt64 in [0, 7, 1_000_000_003] {
                let variants = Scenes.captionVariants(family: family, seed: seed)
                XCTAssertEqual(variants.first, Scenes.caption(family: family, seed: seed))
                XCTAssertEqual(Set(variants).count, variants.count, "no duplicates")
                XCTAssertEqual(variants.count, SceneCaptions.templates(family).count, family.id)
                XCTAssertTrue(Set(variants).isSubset(of: Scenes.trainingCaptions(family)), family.id)
                let named = Scenes.namedAttributes(variants[0], family: family)
                for v in variants { XCTAssertEqual(Scenes.namedAttributes(v, family: family) ?? named, named, "\(family.id): \(v)") }
            }
        }
    }

    func testParaphrasesNeverAppearInTraining() {
        let training = Set(SceneFamily.allCases.flatMap { Scenes.trainingCaptions($0) }.map(normalized))
        for family in SceneFamily.allCases {
            for p in Scenes.heldOutParaphrases(family) {
                XCTAssertFalse(training.contains(normalized(p)), "\(family.id): paraphrase '\(p)' is also a training caption")
            }
        }
    }

    func testClipCaptionsComeFromTheirListsAndVaryWithSeed() {
        for family in SceneFamily.allCases {
            let training = Set(Scenes.trainingCaptions(family)), held = Set(Scenes.heldOutParaphrases(family))
            var seen = Set<String>()
            for seed in UInt64(0)..<60 {
                let caption = Scenes.caption(family: family, seed: seed)
                XCTAssertTrue(training.contains(caption), "\(family.id) \(seed): \(caption)")
                XCTAssertTrue(held.contains(Scenes.paraphrase(family: family, seed: seed)), "\(family.id) \(seed)")
                seen.insert(caption)
            }
            XCTAssertGreaterThanOrEqual(seen.count, 8, "\(family.id): captions should vary with the seed")
        }
    }

    func testCaptionsStateTheAttributes() {
        let colours = BallColor.allCases.map(\.rawValue)
        var colourCounts: [BallColor: Int] = [:], directionCounts: [SceneDirection: Int] = [:]
        for seed in UInt64(0)..<200 {
            let ball = Scenes.attributes(family: .ball, seed: seed)
            let colour = try! XCTUnwrap(ball.ballColor)
            colourCounts[colour, default: 0] += 1
            for text in [Scenes.caption(family: .ball, seed: seed), Scenes.paraphrase(family: .ball, seed: seed)] {
                let words = Set(text.split(separator: " ").map(String.init))
                XCTAssertEqual(words.intersection(colours), [colour.rawValue], text)
            }
            let clouds = try! XCTUnwrap(Scenes.attributes(family: .clouds, seed: seed).direction)
            directionCounts[clouds, default: 0] += 1
            let cloudCaption = Scenes.caption(family: .clouds, seed: seed)
            XCTAssertTrue(cloudCaption.hasSuffix(clouds.rawValue) || cloudCaption.contains(" \(clouds.rawValue) ")
                          || cloudCaption.contains("\(clouds.rawValue)ward"), cloudCaption)
            let car = try! XCTUnwrap(Scenes.attributes(family: .car, seed: seed).direction)
            let carCaption = Scenes.caption(family: .car, seed: seed)
            if carCaption.contains("from") {
                XCTAssertTrue(carCaption.contains("to \(car.rawValue)"), carCaption)
            } else if carCaption.contains("left") || carCaption.contains("right") {
                XCTAssertTrue(carCaption.contains(car.rawValue), carCaption)
                XCTAssertFalse(carCaption.contains(car == .left ? "right" : "left"), carCaption)
            }
        }
        XCTAssertEqual(colourCounts.count, 4)
        XCTAssertTrue(colourCounts.values.allSatisfy { $0 > 25 }, "\(colourCounts)")
        XCTAssertTrue(directionCounts.values.allSatisfy { $0 > 60 }, "\(directionCounts)")
        XCTAssertNil(Scenes.attributes(family: .sunset, seed: 1).ballColor)
    }

    func testSplitRuleIsDisjoint() {
        XCTAssertEqual(SceneSplit(seed: 0), .train)
        XCTAssertEqual(SceneSplit(seed: SceneSplit.heldOutBase - 1), .train)
        XCTAssertEqual(SceneSplit(seed: SceneSplit.heldOutBase), .heldout)
        XCTAssertEqual(SceneSplit.train.seed(5), 5)
        XCTAssertEqual(SceneSplit.heldout.seed(5), SceneSplit.heldOutBase + 5)
        let clip = Scenes.render(family: .ball, seed: SceneSplit.heldout.seed(0), size: 8, frames: 1)
        XCTAssertEqual(clip.split, .heldout)
    }
}
