import XCTest
@testable import Generator

/// Sliding-window sampling: window layout, the blend, and a long clip from a real model.
final class SlidingWindowTests: XCTestCase {
    func testLayoutCoversTheClipWithTheRequestedOverlap() {
        XCTAssertEqual(SlidingWindows(frames: 48, window: 16, overlap: 8).starts, [0, 8, 16, 24, 32])
        // Otherwise the fewest windows that keep the overlap, spread evenly (overlaps 9 or 10).
        XCTAssertEqual(SlidingWindows(frames: 42, window: 16, overlap: 8).starts, [0, 7, 13, 20, 26])
        XCTAssertEqual(SlidingWindows(frames: 40, window: 16, overlap: 0).starts, [0, 12, 24])
        XCTAssertEqual(SlidingWindows(frames: 32, window: 16, overlap: 0).starts, [0, 16])
        // Not longer than the window: one window, the clip itself.
        XCTAssertEqual(SlidingWindows(frames: 16, window: 16, overlap: 8).starts, [0])
        XCTAssertEqual(SlidingWindows(frames: 5, window: 16, overlap: 8).window, 5)
        for (frames, window, overlap) in [(17, 16, 8), (100, 16, 4), (33, 8, 7), (64, 16, 15)] {
            let w = SlidingWindows(frames: frames, window: window, overlap: overlap)
            XCTAssertEqual(w.starts.first, 0)
            XCTAssertEqual(w.starts.last! + window, frames)
            for (a, b) in zip(w.starts, w.starts.dropFirst()) {
                XCTAssertGreaterThanOrEqual(a + window - b, overlap, "neighbours share at least the overlap")
                XCTAssertGreaterThan(b, a)
            }
        }
    }

    func testBlendIsExactForAFrameWiseFunctionAndMixesOnlyOverlaps() {
        let frames = 20, frameSize = 3
        let x = (0..<frames * frameSize).map { Float($0) }
        let w = SlidingWindows(frames: frames, window: 8, overlap: 4)
        // A function of each frame alone gives the same blended result as on the whole clip.
        var calls = [Int]()
        let out = w.blend(x, frameSize: frameSize, outputs: 2) { part, n in
            calls.append(n)
            return [part.map { 2 * $0 }, part.map { $0 + 1 }]
        }
        XCTAssertEqual(calls, [8, 8, 8, 8])
        for i in 0..<x.count {
            XCTAssertEqual(out[0][i], 2 * x[i], accuracy: 1e-3)
            XCTAssertEqual(out[1][i], x[i] + 1, accuracy: 1e-3)
        }
        // Windows that disagree: each frame is a weighted mean of the windows covering it, and a
        // frame covered by one window takes that window's value.
        var index = 0
        let ids = w.blend(x, frameSize: frameSize, outputs: 1) { part, _ in
            defer { index += 1 }
            return [[Float](repeating: Float(index), count: part.count)]
        }[0]
        XCTAssertEqual(ids[0], 0)                        // frame 0: window 0 only
        XCTAssertEqual(ids[(frames - 1) * frameSize], 3) // last frame: last window only
        for f in 0..<frames {
            let v = ids[f * frameSize]
            let covering = w.starts.enumerated().filter { $0.element <= f && f < $0.element + 8 }.map { Float($0.offset) }
            XCTAssertGreaterThanOrEqual(v, covering.min()! - 1e-5)
            XCTAssertLessThanOrEqual(v, covering.max()! + 1e-5)
        }
        // Single window: the body's output is returned as is.
        let single = SlidingWindows(frames: 4, window: 8, overlap: 4).blend([1, 2, 3, 4], frameSize: 1, outputs: 1) { p, n in
            XCTAssertEqual(n, 4)
            return [p.map { -$0 }]
        }
        XCTAssertEqual(single, [[-1, -2, -3, -4]])
    }
}
