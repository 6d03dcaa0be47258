import FrameIO
@testable import Scenes
import XCTest

/// `ObjectTracker` on rendered scenes (where the truth is known), on clips without the object,
/// and the track summaries.
final class ObjectTrackerTests: XCTestCase {
    /// A held-out clip of `family` rendered at `size`, planar floats in [-1, 1].
    static func clip(_ family: SceneFamily, seed: UInt64, size: Int = 32) -> [Float] {
        var out = [Float]()
        Scenes.renderFrames(family: family, seed: SceneSplit.heldout.seed(seed), size: size, frames: 16) { frame in
            out += frame.packedRGB.map { Float($0) / 127.5 - 1 }.planar(size: size)
        }
        return out
    }

    func testFindsTheBallInItsColourInEveryFrame() {
        for i in 0..<12 {
            let seed = SceneSplit.heldout.seed(UInt64(700 + i))
            let track = ObjectTracker.track(Self.clip(.ball, seed: UInt64(700 + i)), family: .ball, frames: 16, size: 32)!
            XCTAssertEqual(track.presentFrames, 16, "clip \(i)")
            XCTAssertEqual(track.majorityColor, Scenes.attributes(family: .ball, seed: seed).ballColor, "clip \(i)")
            XCTAssertLessThan(track.medianStep ?? 1, 0.15, "clip \(i): the ball moves a few pixels a frame")
        }
    }

    func testFollowsTheCarInItsDirection() {
        var found = 0
        for i in 0..<12 {
            let seed = SceneSplit.heldout.seed(UInt64(700 + i))
            let track = ObjectTracker.track(Self.clip(.car, seed: UInt64(700 + i)), family: .car, frames: 16, size: 32)!
            found += track.presentFrames
            XCTAssertEqual(track.direction(), Scenes.attributes(family: .car, seed: seed).direction, "clip \(i)")
        }
        XCTAssertGreaterThanOrEqual(Double(found) / (12 * 16), 0.98)
    }

    func testNoBallInAFlatOrNoisyField() {
        let size = 32, plane = size * size
        let flat = [Float](repeating: 0.5, count: 3 * plane)
        XCTAssertNil(ObjectTracker.ball(flat, size: size))
        // Grain as strong as a poorly denoised sample's: no blob of a ball's size and shape.
        var rng = SceneRNG(seed: 1, stream: 1)
        let grainy = flat.map { $0 + 0.15 * (rng.unit() * 2 - 1) }
        XCTAssertNil(ObjectTracker.ball(grainy, size: size))
        // A red disc of the corpus's radius is found, as red, where it was drawn.
        var disc = flat
        for y in 0..<size { for x in 0..<size where (x - 20) * (x - 20) + (y - 10) * (y - 10) <= 9 {
            disc[y * size + x] = 0.8; disc[plane + y * size + x] = -0.8; disc[2 * plane + y * size + x] = -0.8
        } }
        let d = ObjectTracker.ball(disc, size: size)
        XCTAssertEqual(d?.color, .red)
        XCTAssertEqual(d?.x ?? 0, 20.5 / 32, accuracy: 0.01)
        XCTAssertEqual(d?.y ?? 0, 10.5 / 32, accuracy: 0.01)
        // A colour bar across the frame is not a ball.
        var bar = flat
        for y in 8..<12 { for x in 0..<size { bar[y * size + x] = 0.8; bar[plane + y * size + x] = -0.8 } }
        XCTAssertNil(ObjectTracker.ball(bar, size: size))
    }

    func testTrackSummaries() {
        let d = { (x: Float) in ObjectDetection(x: x, y: 0.5, area: 10, color: .blue) }
        let track = ObjectTrack(detections: [d(0.2), d(0.25), nil, d(0.35), d(0.4)])
        XCTAssertEqual(track.presentFrames, 4)
        XCTAssertEqual(track.presence, 0.8, accuracy: 1e-12)
        XCTAssertEqual(track.medianStep ?? 0, 0.05, accuracy: 1e-6)
        XCTAssertEqual(track.direction(), .right)
        XCTAssertEqual(track.majorityColor, .blue)
        XCTAssertEqual(ObjectTrack(detections: [d(0.4), d(0.3), d(0.2)]).direction(), .left)
        XCTAssertNil(ObjectTrack(detections: [d(0.4), d(0.41), d(0.4)]).direction(), "moves less than the minimum travel")
        XCTAssertNil(ObjectTrack(detections: [d(0.1), nil, nil, nil, d(0.9)]).direction(), "found in under half the frames")
        XCTAssertNil(ObjectTrack(detections: [nil, nil]).medianStep)
        // A ball that jumps across the frame is not smooth next to the real step.
        let jumpy = ObjectTrack(detections: (0..<16).map { d($0 % 2 == 0 ? 0.1 : 0.8) })
        let steady = ObjectTrack(detections: (0..<16).map { d(0.1 + 0.05 * Float($0)) })
        XCTAssertEqual(jumpy.medianStep ?? 0, 0.7, accuracy: 1e-6)
        XCTAssertEqual(steady.medianStep ?? 0, 0.05, accuracy: 1e-6)
    }

    func testNamedAttributesOfCaptions() {
        for caption in Scenes.trainingCaptions(.ball) + Scenes.heldOutParaphrases(.ball) {
            let named = Scenes.namedAttributes(caption, family: .ball)?.ballColor
            let words = BallColor.allCases.filter { caption.contains($0.rawValue) }
            XCTAssertEqual(named, words.count == 1 ? words[0] : nil, caption)
        }
        for seed in 0..<20 as Range<UInt64> {
            for family in [SceneFamily.car, .clouds] {
                let caption = Scenes.caption(family: family, seed: seed)
                let named = Scenes.namedAttributes(caption, family: family)?.direction
                if caption.contains("left") || caption.contains("right") {
                    XCTAssertEqual(named, Scenes.attributes(family: family, seed: seed).direction, caption)
                } else {
                    XCTAssertNil(named, caption)
                }
            }
        }
        XCTAssertNil(Scenes.namedAttributes("a cat playing the piano", family: .ball))
        XCTAssertNil(Scenes.namedAttributes("a sunset over the ocean", family: .sunset))
    }
}

private extension Array where Element == Float {
    /// Interleaved RGB of a `size` x `size` frame to planar `[3, size, size]`.
    func planar(size: Int) -> [Float] {
        let plane = size * size
        var out = [Float](repeating: 0, count: 3 * plane)
        for i in 0..<plane { for c in 0..<3 { out[c * plane + i] = self[3 * i + c] } }
        return out
    }
}
