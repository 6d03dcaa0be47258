import Foundation
import XCTest

/// `t2v-render frames` (contact sheets) and `t2v-render decode` (raw frames).
final class FramesTests: XCTestCase {
    func testSheetIsAPNGOfTheRightSize() throws {
        let dir = try ReaderCLIClips.tempDir(self)
        let clip = try ReaderCLIClips.clip(dir)
        let sheet = dir.appendingPathComponent("sheet.png").path
        let r = try CLI.run(["frames", clip, "--sheet", sheet, "--count", "6", "--columns", "4", "--width", "32"])
        XCTAssertEqual(r.status, 0, r.stderr)
        // 4 columns x 2 rows of 32x24 tiles with 2-pixel gaps.
        _ = try ReaderCLIClips.ffmpeg(["-i", sheet, "-f", "null", "-"])  // ffmpeg decodes it (throws if not)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffprobe", "-v", "error", "-show_entries", "stream=codec_name,width,height", "-of", "csv=p=0", sheet]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(text.trimmingCharacters(in: .whitespacesAndNewlines), "png,\(4 * 32 + 5 * 2),\(2 * 24 + 3 * 2)")
    }

    func testFramesUsageErrors() throws {
        let dir = try ReaderCLIClips.tempDir(self)
        let clip = try ReaderCLIClips.clip(dir)
        for args in [["--count", "0"], ["--columns", "0"], ["--width", "2"]] {
            let r = try CLI.run(["frames", clip, "--sheet", dir.appendingPathComponent("s.png").path] + args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
        }
        let r = try CLI.run(["frames", "-", "--sheet", "x.png"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("not stdin"), r.stderr)
        let bad = try CLI.run(["frames", clip, "--sheet", dir.appendingPathComponent("no/dir/s.png").path])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("does not exist"), bad.stderr)
    }

    func testDecodeMatchesFFmpegRawvideo() throws {
        let dir = try ReaderCLIClips.tempDir(self)
        let clip = try ReaderCLIClips.clip(dir)
        let oracle = [UInt8](try ReaderCLIClips.ffmpeg(["-i", clip, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]))
        XCTAssertEqual(oracle.count, 24 * 64 * 48 * 3)
        // To a file (temp + rename) in rgb24.
        let out = dir.appendingPathComponent("frames.rgb").path
        var r = try CLI.run(["decode", clip, "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("decoded 24 frames 64x48 rgb24"), r.stderr)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: out)))
        XCTAssertEqual(bytes.count, oracle.count)
        // atol 2 levels (same swscale path: identical in practice).
        XCTAssertLessThanOrEqual(zip(bytes, oracle).map { abs(Int($0) - Int($1)) }.max() ?? 99, 2)
        // From stdin (NUT) to stdout as f32planar: v / 127.5 - 1 of the same bytes, planar.
        let nut = try ReaderCLIClips.ffmpeg(["-i", clip, "-c", "copy", "-f", "nut", "-"])
        r = try CLI.run(["decode", "-", "-o", "-", "--pix-fmt", "f32planar", "--quiet"], input: nut)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "")
        let floats: [Float] = r.stdout.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
        XCTAssertEqual(floats.count, oracle.count)
        let plane = 64 * 48
        var worst: Float = 0
        for f in 0..<24 {
            for c in 0..<3 {
                for i in 0..<plane {
                    let expected = Float(oracle[f * plane * 3 + i * 3 + c]) / 127.5 - 1
                    worst = max(worst, abs(floats[f * plane * 3 + c * plane + i] - expected))
                }
            }
        }
        XCTAssertLessThanOrEqual(worst, 2 / 127.5 + 1e-6, "atol 2 levels in [-1, 1] units")
        // --fps and --size: 12 fps halves the count; the size is honoured.
        r = try CLI.run(["decode", clip, "-o", "-", "--fps", "12", "--size", "32x24", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.count, 12 * 32 * 24 * 3)
    }

    func testDecodeErrors() throws {
        let dir = try ReaderCLIClips.tempDir(self)
        let clip = try ReaderCLIClips.clip(dir)
        var r = try CLI.run(["decode", clip, "-o", "-", "--size", "0x10"])
        XCTAssertEqual(r.status, 2, r.stderr)
        r = try CLI.run(["decode", clip, "-o", "-", "--pix-fmt", "yuv"])
        XCTAssertEqual(r.status, 2, r.stderr)
        r = try CLI.run(["decode", clip, "-o", clip])
        XCTAssertEqual(r.status, 2, r.stderr)
        // Random bytes on stdin: exit 1 with the reason, no hang.
        r = try CLI.run(["decode", "-", "-o", "-"], input: Data((0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }))
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("not a readable video"), r.stderr)
        // A missing output directory: exit 1, nothing left behind.
        r = try CLI.run(["decode", clip, "-o", dir.appendingPathComponent("none/out.rgb").path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("cannot write"), r.stderr)
    }
}
