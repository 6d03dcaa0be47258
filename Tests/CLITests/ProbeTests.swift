import Foundation
import XCTest

/// Runs ffmpeg for CLI tests (the oracle and the clip maker).
enum ReaderCLIClips {
    /// Runs `ffmpeg -v error -y args`; returns stdout, failing loudly on error.
    static func ffmpeg(_ args: [String]) throws -> Data {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffmpeg", "-nostdin", "-v", "error", "-y"] + args
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["args": args]) }
        return data
    }

    /// A fresh temporary directory removed at teardown.
    static func tempDir(_ test: XCTestCase) throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-reader-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// A 64x48, 24 fps, 1 s H.264 clip tagged BT.709.
    static func clip(_ dir: URL) throws -> String {
        let path = dir.appendingPathComponent("clip.mp4").path
        _ = try ffmpeg(["-f", "lavfi", "-i", "testsrc2=s=64x48:r=24:d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                        "-colorspace", "bt709", "-color_range", "tv", path])
        return path
    }
}

/// `t2v-render probe`.
final class ProbeTests: XCTestCase {
    func testJSONParsesAndMatchesTheClip() throws {
        let dir = try ReaderCLIClips.tempDir(self)
        let clip = try ReaderCLIClips.clip(dir)
        let r = try CLI.run(["probe", clip, "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(json["width"] as? Int, 64)
        XCTAssertEqual(json["height"] as? Int, 48)
        XCTAssertEqual(json["codecName"] as? String, "h264")
        XCTAssertEqual(json["pixelFormat"] as? String, "yuv420p")
        XCTAssertEqual(json["colorSpace"] as? String, "bt709")
        XCTAssertEqual(json["frameCount"] as? Int, 24)
        XCTAssertEqual(json["duration"] as? Double ?? -1, 1.0, accuracy: 1e-6)
        let rate = try XCTUnwrap(json["frameRate"] as? [String: Int])
        XCTAssertEqual(rate, ["num": 24, "den": 1])
    }

    func testTextSummary() throws {
        let dir = try ReaderCLIClips.tempDir(self)
        let clip = try ReaderCLIClips.clip(dir)
        let r = try CLI.run(["probe", clip])
        XCTAssertEqual(r.status, 0, r.stderr)
        let text = String(decoding: r.stdout, as: UTF8.self)
        for needle in ["h264, 64x48, yuv420p", "24.000 fps", "space bt709, range tv", "audio:      no"] {
            XCTAssertTrue(text.contains(needle), "'\(needle)' missing from:\n\(text)")
        }
    }

    func testStdin() throws {
        let dir = try ReaderCLIClips.tempDir(self)
        let clip = try ReaderCLIClips.clip(dir)
        let nut = try ReaderCLIClips.ffmpeg(["-i", clip, "-c", "copy", "-f", "nut", "-"])
        let r = try CLI.run(["probe", "-", "--json"], input: nut)
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(json["formatName"] as? String, "nut")
        XCTAssertEqual(json["path"] as? String, "-")
        XCTAssertEqual(json["width"] as? Int, 64)
    }

    func testErrors() throws {
        let dir = try ReaderCLIClips.tempDir(self)
        let missing = dir.appendingPathComponent("missing.mp4").path
        var r = try CLI.run(["probe", missing])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("\(missing): no such file"), r.stderr)
        let text = dir.appendingPathComponent("notes.txt").path
        try "not a video".write(toFile: text, atomically: true, encoding: .utf8)
        r = try CLI.run(["probe", text])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("not a readable video"), r.stderr)
        r = try CLI.run(["probe", dir.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("directory"), r.stderr)
        r = try CLI.run(["probe"])
        XCTAssertEqual(r.status, 2, r.stderr)
    }
}
