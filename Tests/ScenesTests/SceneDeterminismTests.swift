import FrameIO
@testable import Scenes
import XCTest

/// A clip is a pure function of (family, seed).
final class SceneDeterminismTests: XCTestCase {
    func testSameSeedGivesIdenticalPixelsAndCaption() {
        for family in SceneFamily.allCases {
            let a = Scenes.render(family: family, seed: 7, size: 24, frames: 5)
            let b = Scenes.render(family: family, seed: 7, size: 24, frames: 5)
            XCTAssertEqual(a.frames, b.frames, "\(family.id)")
            XCTAssertEqual(a.caption, b.caption, "\(family.id)")
            XCTAssertEqual(a.attributes, b.attributes, "\(family.id)")
            XCTAssertEqual(a.frames.count, 5)
            XCTAssertTrue(a.frames.allSatisfy { $0.width == 24 && $0.height == 24 })
        }
    }

    func testDifferentSeedsDiffer() {
        for family in SceneFamily.allCases {
            let a = Scenes.render(family: family, seed: 7, size: 24, frames: 3)
            let b = Scenes.render(family: family, seed: 8, size: 24, frames: 3)
            let diff = zip(a.frames[1].packedRGB, b.frames[1].packedRGB).filter { $0 != $1 }.count
            XCTAssertGreaterThan(diff, 24 * 24 / 10, "\(family.id): seeds 7 and 8 should give visibly different clips")
        }
    }

    func testStreamingMatchesRender() {
        let clip = Scenes.render(family: .car, seed: 3, size: 32, frames: 4)
        var streamed: [RGBFrame] = []
        Scenes.renderFrames(family: .car, seed: 3, size: 32, frames: 4) { streamed.append($0) }
        XCTAssertEqual(streamed, clip.frames)
    }

    func testLongerClipExtendsShorterOne() {
        // Motion is defined per frame, so the first frames do not depend on the clip length
        // (except where a scene schedules events over the clip: fireworks, storm, stars, car, sunrise).
        for family in [SceneFamily.ball, .clouds, .snow, .underwater, .leaves, .aurora] {
            let short = Scenes.render(family: family, seed: 11, size: 32, frames: 4)
            let long = Scenes.render(family: family, seed: 11, size: 32, frames: 8)
            XCTAssertEqual(Array(long.frames.prefix(4)), short.frames, "\(family.id)")
        }
    }

    func testFramesAreTemporallyCoherent() {
        // Motion is smooth, not flicker: frames one step apart differ clearly less than frames
        // four steps apart, and something moves.
        func medianDifference(_ l: [[Float]], lag: Int) -> Float {
            var d: [Float] = []
            for t in lag..<l.count {
                d.append(zip(l[t], l[t - lag]).map { abs($0 - $1) }.reduce(0, +) / Float(l[t].count))
            }
            return d.sorted()[d.count / 2]
        }
        for family in SceneFamily.allCases {
            for seed: UInt64 in [21, 22] {
                let l = Scenes.render(family: family, seed: seed, size: 48, frames: 16).frames.map(ClipStats.luma)
                let one = medianDifference(l, lag: 1), four = medianDifference(l, lag: 4)
                XCTAssertGreaterThan(one, 0.001, "\(family.id) seed \(seed): nothing moves")
                XCTAssertLessThan(one, 0.9 * four, "\(family.id) seed \(seed): a 1-frame step (\(one)) should change less than a 4-frame step (\(four))")
            }
        }
    }
}
