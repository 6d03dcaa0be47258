import Foundation
import XCTest
@testable import FrameIO

/// The metrics on files decoded by VideoReader (VideoPlanesSource), against the ffmpeg CLI.
final class MetricsVideoSourceTests: XCTestCase {
    func testTwoFilesMatchFFmpegPerFrame() throws {
        let clips = MetricsOracle.Clips.shared
        let distorted = clips.x264[30]!
        let report = try QualityEvaluator().compare(distorted: try VideoPlanesSource(path: distorted),
                                                    reference: try VideoPlanesSource(path: clips.reference))
        let oracle = try MetricsOracle.ffmpegSSIM(distorted, clips.reference)
        XCTAssertEqual(report.comparedFrames, oracle.count)
        XCTAssertEqual(report.distorted, distorted)
        for (f, line) in zip(report.frames, oracle) {
            for p in 0..<3 { XCTAssertEqual(f.ssim!.planes[p], line.planes[p], accuracy: 1e-6) }
            XCTAssertEqual(f.ssim!.all, line.all, accuracy: 1e-6)
        }
        let psnr = try MetricsOracle.ffmpegPSNRSummary(distorted, clips.reference)
        XCTAssertEqual(report.psnr!.result.psnrAverage, psnr["average"]!, accuracy: 1e-5)
    }

    func testFileAgainstInMemoryFrames() throws {
        // The reference's pictures as RGB frames in memory (what a generator would hand over)
        // against the x264 re-encode on disk.
        let clips = MetricsOracle.Clips.shared
        let rgb = [UInt8](try MetricsOracle.ffmpeg(["-i", clips.reference, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
        let n = clips.width * clips.height * 3
        let frames = try (0..<(rgb.count / n)).map {
            try RGBFrame(width: clips.width, height: clips.height, packed: Array(rgb[$0 * n..<($0 + 1) * n]))
        }
        let inMemory = try QualityEvaluator().compare(distorted: try VideoPlanesSource(path: clips.x264[18]!),
                                                      reference: RGBFrameSource(frames))
        let onDisk = try QualityEvaluator().compare(distorted: try VideoPlanesSource(path: clips.x264[18]!),
                                                    reference: try VideoPlanesSource(path: clips.reference))
        XCTAssertEqual(inMemory.comparedFrames, 12)
        // The RGB round trip costs a little similarity, not much.
        XCTAssertEqual(inMemory.ssim!.all, onDisk.ssim!.all, accuracy: 0.02)
        XCTAssertLessThan(inMemory.ssim!.all, 1)
    }
}
