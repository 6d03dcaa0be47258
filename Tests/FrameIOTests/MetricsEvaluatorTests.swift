import Foundation
import XCTest
@testable import FrameIO

/// QualityEvaluator and TemporalConsistency on streamed sources, against the ffmpeg CLI's filters.
final class MetricsEvaluatorTests: XCTestCase {
    private func source(_ path: String, width: Int = 96, height: Int = 64, prefix: Int? = nil) throws -> PlanarImageSource {
        var images = try MetricsOracle.planes(path, width: width, height: height)
        if let prefix { images = Array(images.prefix(prefix)) }
        return PlanarImageSource(images, name: (path as NSString).lastPathComponent)
    }

    /// With `keepFrames` off (what `eval --summary-only` uses) the summaries are the same and no
    /// per-frame score is kept, so memory does not grow with the clip.
    func testSummariesWithoutKeepingFramesAreTheSame() throws {
        let clips = MetricsOracle.Clips.shared
        let distorted = clips.x264[30]!
        var options = QualityEvaluator.Options()
        options.maxInFlight = 3
        let kept = try QualityEvaluator(options: options).compare(distorted: try source(distorted), reference: try source(clips.reference))
        options.keepFrames = false
        let streamed = try QualityEvaluator(options: options).compare(distorted: try source(distorted), reference: try source(clips.reference))
        XCTAssertEqual(kept.frames.count, 12)
        XCTAssertTrue(streamed.frames.isEmpty)
        XCTAssertEqual(streamed.comparedFrames, 12)
        XCTAssertEqual(streamed.ssim, kept.ssim)
        XCTAssertEqual(streamed.psnr, kept.psnr)
        XCTAssertEqual(streamed.gaussianSSIM, kept.gaussianSSIM)
    }

    func testReportMatchesFFmpegSummaries() throws {
        let clips = MetricsOracle.Clips.shared
        let distorted = clips.x264[30]!
        var options = QualityEvaluator.Options()
        options.maxInFlight = 3
        let report = try QualityEvaluator(options: options).compare(distorted: try source(distorted), reference: try source(clips.reference))
        XCTAssertEqual(report.comparedFrames, 12)
        XCTAssertFalse(report.lengthsDiffer)
        XCTAssertEqual(report.frames.map(\.index), Array(0..<12))
        // Per frame: identical to the stats file (6 decimals).
        let perFrame = try MetricsOracle.ffmpegSSIM(distorted, clips.reference)
        for (f, line) in zip(report.frames, perFrame) {
            XCTAssertEqual(f.ssim!.all, line.all, accuracy: 1e-6)
        }
        // Summary line: `SSIM Y:... U:... V:... All:... (dB)` printed with %f.
        let ssim = try MetricsOracle.ffmpegSSIMSummary(distorted, clips.reference)
        let summary = report.ssim!
        XCTAssertEqual(summary.frames, 12)
        XCTAssertEqual(summary.planes[0], ssim["Y"]!, accuracy: 1e-6)
        XCTAssertEqual(summary.planes[1], ssim["U"]!, accuracy: 1e-6)
        XCTAssertEqual(summary.planes[2], ssim["V"]!, accuracy: 1e-6)
        XCTAssertEqual(summary.all, ssim["All"]!, accuracy: 1e-6)
        let psnr = try MetricsOracle.ffmpegPSNRSummary(distorted, clips.reference)
        XCTAssertEqual(report.psnr!.result.psnrAverage, psnr["average"]!, accuracy: 1e-5)
        XCTAssertEqual(report.psnr!.result.psnr[0], psnr["y"]!, accuracy: 1e-5)
        // Gaussian SSIM: the mean of the per-frame Y-plane values.
        let g = report.frames.map { $0.gaussianSSIM! }
        XCTAssertEqual(report.gaussianSSIM!, g.reduce(0, +) / 12, accuracy: 1e-12)
        XCTAssertGreaterThan(report.gaussianSSIM!, 0.5)
        XCTAssertLessThan(report.gaussianSSIM!, 1)
    }

    func testIdenticalClipsScoreOneAndInfinity() throws {
        let clips = MetricsOracle.Clips.shared
        let report = try QualityEvaluator().compare(distorted: try source(clips.reference), reference: try source(clips.reference))
        XCTAssertEqual(report.ssim!.all, 1, accuracy: 1e-12)
        XCTAssertEqual(report.ssim!.dB, .infinity)
        XCTAssertEqual(report.psnr!.result.psnrAverage, .infinity)
        XCTAssertEqual(report.gaussianSSIM!, 1, accuracy: 1e-12)
    }

    func testNegativeScoresLow() throws {
        let clips = MetricsOracle.Clips.shared
        let report = try QualityEvaluator().compare(distorted: try source(clips.negative), reference: try source(clips.reference))
        XCTAssertLessThan(report.ssim!.all, 0.2)
        XCTAssertLessThan(report.gaussianSSIM!, 0.3)
        XCTAssertLessThan(report.psnr!.result.psnrAverage, 15)
    }

    func testDifferentLengthsCompareCommonPrefix() throws {
        let clips = MetricsOracle.Clips.shared
        var options = QualityEvaluator.Options()
        options.metrics = [.ssim]
        let report = try QualityEvaluator(options: options).compare(
            distorted: try source(clips.x264[18]!, prefix: 7), reference: try source(clips.reference))
        XCTAssertEqual(report.comparedFrames, 7)
        XCTAssertEqual(report.distortedFrameCount, 7)
        XCTAssertEqual(report.referenceFrameCount, 12)
        XCTAssertTrue(report.lengthsDiffer)
        XCTAssertNil(report.psnr)
        XCTAssertNil(report.frames[0].gaussianSSIM)
    }

    func testSizeMismatchNamesBothInputs() throws {
        let clips = MetricsOracle.Clips.shared
        XCTAssertThrowsError(try QualityEvaluator().compare(
            distorted: try source(clips.oddReference, width: 65, height: 49), reference: try source(clips.reference))) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("65x49") && text.contains("96x64") && text.contains("odd_ref.nut"), text)
        }
    }

    func testInMemoryRGBFramesAgainstDecodedClip() throws {
        // The lossless reference as RGB frames in memory vs the same pictures decoded as YUV:
        // converting back to yuv420p is close but not lossless (RGB round trip).
        let clips = MetricsOracle.Clips.shared
        let rgb = [UInt8](try MetricsOracle.ffmpeg(["-i", clips.reference, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
        let n = 96 * 64 * 3
        let frames = try (0..<(rgb.count / n)).map { try RGBFrame(width: 96, height: 64, packed: Array(rgb[$0 * n..<($0 + 1) * n])) }
        let report = try QualityEvaluator().compare(distorted: RGBFrameSource(frames), reference: try source(clips.reference))
        XCTAssertEqual(report.comparedFrames, 12)
        XCTAssertGreaterThan(report.ssim!.all, 0.97)
        XCTAssertLessThan(report.ssim!.all, 1)
    }

    func testTemporalConsistencyMatchesShiftedFFmpegSSIM() throws {
        // Oracle: ffmpeg's ssim of the clip against itself delayed by one frame.
        let clips = MetricsOracle.Clips.shared
        let stats = clips.reference + ".shift.log"
        _ = try MetricsOracle.ffmpeg(["-i", clips.reference, "-i", clips.reference, "-lavfi",
                                      "[0:v]trim=start_frame=1,setpts=PTS-STARTPTS[a];[1:v]setpts=PTS-STARTPTS[b];[a][b]ssim=shortest=1:stats_file=\(stats)",
                                      "-f", "null", "-"])
        let expected = try String(contentsOfFile: stats, encoding: .utf8).split(separator: "\n").map { line -> Double in
            let token = line.split(separator: " ").first { $0.hasPrefix("All:") }!
            return Double(token.dropFirst(4))!
        }
        let report = try TemporalConsistency.evaluate(try source(clips.reference))
        XCTAssertEqual(report.frames, 12)
        XCTAssertEqual(report.pairs.count, 11)
        XCTAssertEqual(expected.count, 11)
        for (got, want) in zip(report.pairs, expected) { XCTAssertEqual(got, want, accuracy: 1e-6) }
        XCTAssertLessThan(report.mean, 0.999)
        let gaussian = try TemporalConsistency.evaluate(try source(clips.reference), definition: .gssim)
        XCTAssertEqual(gaussian.pairs.count, 11)
        XCTAssertLessThan(gaussian.mean, 1)
    }

    func testStillClipIsOne() throws {
        let clips = MetricsOracle.Clips.shared
        let report = try TemporalConsistency.evaluate(try source(clips.still))
        XCTAssertEqual(report.frames, 6)
        XCTAssertEqual(report.pairs.count, 5)
        for value in report.pairs { XCTAssertEqual(value, 1, accuracy: 1e-12) }
        // The same through in-memory RGB frames.
        let frame = try RGBFrame(width: 32, height: 24, packed: (0..<(32 * 24 * 3)).map { UInt8($0 % 251) })
        let rgb = try TemporalConsistency.evaluate(frames: Array(repeating: frame, count: 4), definition: .gssim)
        XCTAssertEqual(rgb.pairs.count, 3)
        XCTAssertEqual(rgb.mean, 1, accuracy: 1e-12)
        // One frame: no pairs, mean nan.
        XCTAssertTrue(try TemporalConsistency.evaluate(frames: [frame]).mean.isNaN)
    }

    func testScaledSourceMatchesFFmpegScaleFilter() throws {
        // The 65x49 clip resized to 96x64 by ScaledPlanesSource vs by `-vf scale=96:64`.
        let clips = MetricsOracle.Clips.shared
        let expected = [UInt8](try MetricsOracle.ffmpeg(["-i", clips.oddReference, "-vf", "scale=96:64",
                                                         "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"]))
        let scaled = try ScaledPlanesSource(try source(clips.oddReference, width: 65, height: 49), width: 96, height: 64)
        var got = [UInt8]()
        while let image = try scaled.nextPlanes() {
            XCTAssertEqual(image.planes.map(\.width), [96, 48, 48])
            for plane in image.planes { got += plane.data }
        }
        XCTAssertEqual(got.count, expected.count)
        let differing = zip(got, expected).filter { $0 != $1 }.count
        XCTAssertEqual(differing, 0, "\(differing) of \(got.count) samples differ")
        XCTAssertThrowsError(try ScaledPlanesSource(PlanarImageSource([]), width: 0, height: 4))
    }
}
