import Foundation
import XCTest
@testable import FrameIO

/// FFmpegPSNR against FFmpeg 5.1's own `psnr` filter (per-frame metadata and the summary line).
final class MetricsPSNRTests: XCTestCase {
    /// Per frame: MSE per plane and mse_avg within rtol 1e-6 (the metadata prints a float with
    /// %f), PSNR per plane and psnr_avg within atol 1e-4 dB; `inf` for identical planes.
    private func assertMatchesFFmpeg(_ distorted: String, _ reference: String, width: Int, height: Int,
                                     file: StaticString = #filePath, line: UInt = #line) throws {
        let oracle = try MetricsOracle.ffmpegPSNR(distorted, reference)
        let a = try MetricsOracle.planes(distorted, width: width, height: height)
        let b = try MetricsOracle.planes(reference, width: width, height: height)
        XCTAssertEqual(oracle.count, a.count, file: file, line: line)
        XCTAssertGreaterThan(oracle.count, 0, file: file, line: line)
        var summary = PSNRSummary()
        for (i, expected) in oracle.enumerated() {
            let got = try FFmpegPSNR.score(a[i], b[i])
            summary.add(got)
            for (p, name) in ["y", "u", "v"].enumerated() {
                let mse = expected["mse.\(name)"]!
                XCTAssertEqual(got.mse[p], mse, accuracy: max(1e-6 * mse, 1e-6), "frame \(i) mse \(name)", file: file, line: line)
                let psnr = expected["psnr.\(name)"]!
                if psnr.isInfinite { XCTAssertEqual(got.psnr[p], .infinity, file: file, line: line) }
                else { XCTAssertEqual(got.psnr[p], psnr, accuracy: 1e-4, "frame \(i) psnr \(name)", file: file, line: line) }
            }
            XCTAssertEqual(got.mseAverage, expected["mse_avg"]!, accuracy: max(1e-6 * expected["mse_avg"]!, 1e-6),
                           file: file, line: line)
            if expected["psnr_avg"]!.isInfinite { XCTAssertEqual(got.psnrAverage, .infinity, file: file, line: line) }
            else { XCTAssertEqual(got.psnrAverage, expected["psnr_avg"]!, accuracy: 1e-4, file: file, line: line) }
        }
        // The summary line: PSNR of the mean MSE per plane and overall, min/max over frames.
        let line2 = try MetricsOracle.ffmpegPSNRSummary(distorted, reference)
        let mean = summary.result
        for (key, value) in [("y", mean.psnr[0]), ("u", mean.psnr[1]), ("v", mean.psnr[2]),
                             ("average", mean.psnrAverage), ("min", mean.psnrMin), ("max", mean.psnrMax)] {
            let expected = line2[key]!
            if expected.isInfinite { XCTAssertEqual(value, .infinity, key, file: file, line: line) }
            else { XCTAssertEqual(value, expected, accuracy: 1e-5, key, file: file, line: line) }
        }
    }

    func testX264ReencodesMatchFFmpeg() throws {
        let clips = MetricsOracle.Clips.shared
        for crf in [18, 45] {
            try assertMatchesFFmpeg(clips.x264[crf]!, clips.reference, width: clips.width, height: clips.height)
        }
    }

    func testOddSizeAndOtherContentMatchFFmpeg() throws {
        let clips = MetricsOracle.Clips.shared
        try assertMatchesFFmpeg(clips.oddNoisy, clips.oddReference, width: 65, height: 49)
        try assertMatchesFFmpeg(clips.other, clips.reference, width: clips.width, height: clips.height)
    }

    func testIdenticalIsInfinite() throws {
        let clips = MetricsOracle.Clips.shared
        try assertMatchesFFmpeg(clips.reference, clips.reference, width: clips.width, height: clips.height)
        let a = try MetricsOracle.planes(clips.reference, width: clips.width, height: clips.height)
        let score = try FFmpegPSNR.score(a[0], a[0])
        XCTAssertEqual(score.mse, [0, 0, 0])
        XCTAssertEqual(score.psnrAverage, .infinity)
    }

    func testKnownValue() throws {
        // Every sample off by 5: MSE 25, PSNR 10*log10(65025/25) = 34.15140 dB.
        let a = try Plane(width: 9, height: 7, data: .init(repeating: 100, count: 63))
        let b = try Plane(width: 9, height: 7, data: .init(repeating: 105, count: 63))
        XCTAssertEqual(try FFmpegPSNR.mse(a, b), 25)
        XCTAssertEqual(FFmpegPSNR.decibels(mse: 25), 34.1514035, accuracy: 1e-6)
    }
}
