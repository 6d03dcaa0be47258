import Foundation
import XCTest

/// `t2v-render encode`: raw frames in, video out; checked with the ffmpeg/ffprobe CLIs.
final class EncodeTests: XCTestCase {
    let width = 64, height = 48

    /// A temp directory removed after the test.
    private func tempDir() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-encode-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        return dir
    }

    /// `count` frames of a smooth moving pattern, raw rgb24.
    private func rawFrames(_ count: Int, width: Int? = nil, height: Int? = nil, noise: Bool = false) -> Data {
        let w = width ?? self.width, h = height ?? self.height
        var bytes = [UInt8](repeating: 0, count: w * h * 3 * count)
        var state: UInt32 = 12345
        for t in 0..<count { for y in 0..<h { for x in 0..<w {
            let i = ((t * h + y) * w + x) * 3
            if noise {
                for c in 0..<3 { state = state &* 1_664_525 &+ 1_013_904_223; bytes[i + c] = UInt8(state >> 24) }
            } else {
                bytes[i] = UInt8((x * 4 + t * 3) & 255)
                bytes[i + 1] = UInt8((y * 5 + 40) & 255)
                bytes[i + 2] = UInt8((x + y + t * 2) & 255)
            }
        } } }
        return Data(bytes)
    }

    /// Runs a shell pipeline; returns (status, stdout, stderr).
    private func shell(_ script: String) throws -> (status: Int32, stdout: Data, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", script]
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        final class Box: @unchecked Sendable { var data = Data() }  // written by one reader, read after wait()
        let errBox = Box()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { errBox.data = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        p.waitUntilExit()
        return (p.terminationStatus, outData, String(decoding: errBox.data, as: UTF8.self))
    }

    private func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    func testHelpListsEncode() throws {
        let root = try CLI.run(["--help"])
        XCTAssertTrue(String(decoding: root.stdout, as: UTF8.self).contains("encode"))
        let help = try CLI.run(["encode", "--help"])
        XCTAssertEqual(help.status, 0, help.stderr)
        let text = String(decoding: help.stdout, as: UTF8.self)
        for flag in ["--size", "--pix-fmt", "--fps", "--crf", "--preset", "--codec", "--format", "--metadata", "-i", "-o", "--json"] {
            XCTAssertTrue(text.contains(flag), "help lacks \(flag)")
        }
        XCTAssertTrue(text.contains("h264, vp9, av1"), "codec choices listed")
    }

    func testEncodeFileWithJSONAndMetadata() throws {
        let dir = try tempDir()
        let input = dir.appendingPathComponent("in.rgb"), output = dir.appendingPathComponent("out.mp4")
        try rawFrames(10).write(to: input)
        let r = try CLI.run(["encode", "--size", "64x48", "--fps", "10", "--crf", "18", "--preset", "veryfast",
                             "--metadata", "title=Fox", "comment=seed 1", "--json", "-i", input.path, "-o", output.path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any] ?? [:]
        XCTAssertEqual(json["frameCount"] as? Int, 10)
        XCTAssertEqual(json["codecName"] as? String, "libx264")
        XCTAssertEqual(json["durationSeconds"] as? Double ?? -1, 1.0, accuracy: 1e-9)
        let probe = try shell("ffprobe -v error -count_frames -show_streams -show_format -of json \(q(output.path))")
        let info = try JSONSerialization.jsonObject(with: probe.stdout) as? [String: Any] ?? [:]
        let stream = (info["streams"] as? [[String: Any]])?.first ?? [:]
        let tags = (info["format"] as? [String: Any])?["tags"] as? [String: String] ?? [:]
        XCTAssertEqual(stream["nb_read_frames"] as? String, "10")
        XCTAssertEqual(stream["r_frame_rate"] as? String, "10/1")
        XCTAssertEqual(stream["color_space"] as? String, "bt709")
        XCTAssertEqual(tags["title"], "Fox")
        XCTAssertEqual(tags["comment"], "seed 1")
    }

    func testSummaryLineOnStderr() throws {
        let dir = try tempDir()
        let output = dir.appendingPathComponent("out.webm")
        let r = try CLI.run(["encode", "--size", "64x48", "-i", "-", "-o", output.path], input: rawFrames(4))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.hasPrefix("encode: 4 frames 64x48 -> \(output.path) (libvpx-vp9, webm, yuv420p)"), r.stderr)
        XCTAssertEqual(r.stdout.count, 0)
    }

    func testFloatPlanarInput() throws {
        // f32planar [-1, 1] of the same picture as rgb24: lossless ffv1 4:4:4 outputs agree (atol 1).
        let dir = try tempDir()
        let rgb = [UInt8](rawFrames(3))
        var floats = [Float](repeating: 0, count: rgb.count)
        let plane = width * height
        for t in 0..<3 { for i in 0..<plane { for c in 0..<3 {
            floats[t * plane * 3 + c * plane + i] = Float(rgb[(t * plane + i) * 3 + c]) / 127.5 - 1
        } } }
        let fIn = dir.appendingPathComponent("in.f32"), bIn = dir.appendingPathComponent("in.rgb")
        try floats.withUnsafeBytes { Data($0) }.write(to: fIn)
        try Data(rgb).write(to: bIn)
        let a = dir.appendingPathComponent("a.mkv").path, b = dir.appendingPathComponent("b.mkv").path
        for (input, fmt, out) in [(fIn.path, "f32planar", a), (bIn.path, "rgb24", b)] {
            let r = try CLI.run(["encode", "--size", "64x48", "--pix-fmt", fmt, "--codec", "ffv1", "--out-pix-fmt", "yuv444p",
                                 "-i", input, "-o", out])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let da = try shell("ffmpeg -v error -i \(q(a)) -f rawvideo -").stdout
        let db = try shell("ffmpeg -v error -i \(q(b)) -f rawvideo -").stdout
        XCTAssertEqual(da.count, plane * 3 * 3)
        XCTAssertEqual(da.count, db.count)
        XCTAssertLessThanOrEqual(zip(da, db).map { abs(Int($0) - Int($1)) }.max() ?? 99, 1)
    }

    func testStdoutPipeIntoFFmpeg() throws {
        let dir = try tempDir()
        let input = dir.appendingPathComponent("in.rgb")
        try rawFrames(20).write(to: input)
        for format in ["nut", "webm", "mkv", "mp4"] {
            let extra = format == "nut" ? "" : "--format \(format)"
            let r = try shell(
                "set -o pipefail; \(q(CLI.binary.path)) encode --size 64x48 --crf 10 \(extra) -i \(q(input.path)) -o - | ffmpeg -v error -i - -f rawvideo -pix_fmt rgb24 -")
            XCTAssertEqual(r.status, 0, "\(format): \(r.stderr)")
            XCTAssertEqual(r.stdout.count, 20 * width * height * 3, "\(format): every frame decodes from the pipe")
        }
    }

    func testClosedPipeIsAClearError() throws {
        let dir = try tempDir()
        let input = dir.appendingPathComponent("noise.rgb")
        try rawFrames(60, width: 128, height: 128, noise: true).write(to: input)  // ~3 MB of output
        let r = try shell(
            "\(q(CLI.binary.path)) encode --size 128x128 --crf 0 --preset ultrafast -i \(q(input.path)) -o - | head -c 1000 >/dev/null; echo \"status=${PIPESTATUS[0]}\"")
        XCTAssertEqual(String(decoding: r.stdout, as: UTF8.self), "status=1\n", r.stderr)
        XCTAssertTrue(r.stderr.contains("stdout: cannot write (output pipe closed: the reading process exited)"), r.stderr)
    }

    func testUsageErrors() throws {
        let cases: [([String], String)] = [
            (["encode", "--size", "64by48", "-i", "-", "-o", "a.mp4"], "The value '64by48' is invalid for '--size <size>'"),
            (["encode", "--size", "64x48", "--fps", "0", "-i", "-", "-o", "a.mp4"], "The value '0' is invalid for '--fps <fps>'"),
            (["encode", "--size", "64x48", "--metadata", "novalue", "-i", "-", "-o", "a.mp4"], "'novalue' is not key=value"),
            (["encode", "--size", "64x48", "--json", "-i", "-", "-o", "-"], "--json writes to stdout"),
            (["encode", "--size", "64x48", "--codec", "mpeg2", "-i", "-", "-o", "a.mp4"], "mpeg2"),
        ]
        for (args, message) in cases {
            let r = try CLI.run(args)
            // ArgumentParser's usage status: EX_USAGE (64) on Linux, 2 elsewhere (as in CLIHelpTests).
            XCTAssertTrue([2, 64].contains(r.status), "\(args): status \(r.status): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
    }

    func testRuntimeErrors() throws {
        let dir = try tempDir()
        let input = dir.appendingPathComponent("in.rgb")
        try rawFrames(2).dropLast(100).write(to: input)
        let cases: [([String], Data?, String)] = [
            (["-i", dir.appendingPathComponent("missing.rgb").path, "-o", dir.appendingPathComponent("a.mp4").path], nil,
             "missing.rgb: no such file"),
            (["-i", input.path, "-o", dir.appendingPathComponent("b.mp4").path], nil,
             "ended inside frame 2: got 9116 of 9216 bytes; check --size 64x48"),
            (["-i", "-", "-o", dir.appendingPathComponent("c.mp4").path], Data(), "stdin holds no frames"),
            (["-i", input.path, "-o", dir.appendingPathComponent("nodir/d.mp4").path], nil, "does not exist; create it first"),
            (["-i", input.path, "-o", dir.appendingPathComponent("e.mp4").path, "--codec", "gif"], nil,
             "codec gif cannot be stored in mp4"),
        ]
        for (args, stdin, message) in cases {
            let r = try CLI.run(["encode", "--size", "64x48"] + args, input: stdin)
            XCTAssertEqual(r.status, 1, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["in.rgb"], "no partial outputs")
    }
}
