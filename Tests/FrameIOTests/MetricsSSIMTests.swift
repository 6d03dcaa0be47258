import Foundation
import XCTest
@testable import FrameIO

/// FFmpegSSIM against FFmpeg 5.1's own `ssim` filter (the ffmpeg CLI) on clips made by the CLI.
final class MetricsSSIMTests: XCTestCase {
    /// Per-frame Y, U, V, All within atol 1e-6 of the stats file (printed with %f: 6 decimals,
    /// so this is exact to FFmpeg's printed precision), dB within atol 1e-5.
    private func assertMatchesFFmpeg(_ distorted: String, _ reference: String, width: Int, height: Int,
                                     file: StaticString = #filePath, line: UInt = #line) throws {
        let oracle = try MetricsOracle.ffmpegSSIM(distorted, reference)
        let a = try MetricsOracle.planes(distorted, width: width, height: height)
        let b = try MetricsOracle.planes(reference, width: width, height: height)
        XCTAssertEqual(oracle.count, a.count, file: file, line: line)
        XCTAssertGreaterThan(oracle.count, 0, file: file, line: line)
        for (i, expected) in oracle.enumerated() {
            let got = try FFmpegSSIM.score(a[i], b[i])
            for p in 0..<3 {
                XCTAssertEqual(got.planes[p], expected.planes[p], accuracy: 1e-6, "frame \(i) plane \(p)", file: file, line: line)
            }
            XCTAssertEqual(got.all, expected.all, accuracy: 1e-6, "frame \(i) All", file: file, line: line)
            if expected.dB.isInfinite {
                XCTAssertEqual(got.dB, .infinity, file: file, line: line)
            } else {
                XCTAssertEqual(got.dB, expected.dB, accuracy: 1e-5, "frame \(i) dB", file: file, line: line)
            }
        }
    }

    func testX264ReencodesMatchFFmpeg() throws {
        let clips = MetricsOracle.Clips.shared
        for crf in [18, 30, 45] {
            try assertMatchesFFmpeg(clips.x264[crf]!, clips.reference, width: clips.width, height: clips.height)
        }
    }

    func testOddSizeMatchesFFmpeg() throws {
        let clips = MetricsOracle.Clips.shared
        try assertMatchesFFmpeg(clips.oddNoisy, clips.oddReference, width: 65, height: 49)
    }

    func testDifferentContentMatchesFFmpeg() throws {
        let clips = MetricsOracle.Clips.shared
        try assertMatchesFFmpeg(clips.other, clips.reference, width: clips.width, height: clips.height)
    }

    func testNegativeIsLowAndMatchesFFmpeg() throws {
        let clips = MetricsOracle.Clips.shared
        try assertMatchesFFmpeg(clips.negative, clips.reference, width: clips.width, height: clips.height)
        let a = try MetricsOracle.planes(clips.negative, width: clips.width, height: clips.height)
        let b = try MetricsOracle.planes(clips.reference, width: clips.width, height: clips.height)
        let score = try FFmpegSSIM.score(a[0], b[0])
        XCTAssertLessThan(score.all, 0.2)
    }

    func testIdenticalIsOneAndInfiniteDecibels() throws {
        let clips = MetricsOracle.Clips.shared
        try assertMatchesFFmpeg(clips.reference, clips.reference, width: clips.width, height: clips.height)
        let a = try MetricsOracle.planes(clips.reference, width: clips.width, height: clips.height)
        let score = try FFmpegSSIM.score(a[3], a[3])
        XCTAssertEqual(score.planes, [1, 1, 1])
        XCTAssertEqual(score.all, 1, accuracy: 1e-12)
        XCTAssertEqual(score.dB, .infinity)
    }

    func testMismatchedSizesThrow() throws {
        let a = PlanarImage(pixelFormat: "gray", planes: [try Plane(width: 16, height: 16, data: .init(repeating: 1, count: 256))])
        let b = PlanarImage(pixelFormat: "gray", planes: [try Plane(width: 16, height: 8, data: .init(repeating: 1, count: 128))])
        XCTAssertThrowsError(try FFmpegSSIM.score(a, b)) { error in
            XCTAssertTrue("\(error)".contains("16x16"), "\(error)")
        }
        let tiny = PlanarImage(pixelFormat: "gray", planes: [try Plane(width: 4, height: 4, data: .init(repeating: 1, count: 16))])
        XCTAssertThrowsError(try FFmpegSSIM.score(tiny, tiny))
    }
}
