import Foundation
import XCTest

/// `t2v-render extract` end to end: the built binary on clips made by the ffmpeg CLI.
final class ExtractCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-extract-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("videos"), withIntermediateDirectories: true)
        for i in 0..<6 {
            let path = dir.appendingPathComponent("videos/v\(i).mp4").path
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            p.arguments = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                           "testsrc2=size=96x64:rate=16:duration=\(2 + i % 3)", "-pix_fmt", "yuv420p", path]
            try p.run(); p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0)
            try "caption \(i)".write(toFile: dir.appendingPathComponent("videos/v\(i).txt").path, atomically: true, encoding: .utf8)
        }
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    func manifestKeys(_ d: String) throws -> Set<String> {
        let text = try String(contentsOfFile: d + "/manifest.jsonl", encoding: .utf8)
        return Set(text.split(separator: "\n").map { line -> String in
            let obj = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            return "\(obj["source"]!)#\(obj["start"]!)#\(obj["caption"]!)"
        })
    }

    func testShardedHalvesMergedEqualOneRunAndPythonReadsShards() throws {
        let videos = dir.appendingPathComponent("videos").path
        let common = ["--frames", "8", "--fps", "8", "--size", "32x32", "--quiet"]
        var r = try CLI.run(["extract", videos, "-o", dir.path + "/whole"] + common)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CLI.run(["extract", videos, "-o", dir.path + "/p0", "--shard", "0/2"] + common)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CLI.run(["extract", videos, "-o", dir.path + "/p1", "--shard", "1/2"] + common)
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CLI.run(["extract", "--merge", dir.path + "/p0", dir.path + "/p1", "-o", dir.path + "/merged", "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let whole = try manifestKeys(dir.path + "/whole")
        XCTAssertEqual(whole.count, 18, "1 s clips from videos of 2, 3, 4, 2, 3, 4 s")
        XCTAssertEqual(try manifestKeys(dir.path + "/merged"), whole)
        XCTAssertLessThan(try manifestKeys(dir.path + "/p0").count, whole.count)

        let script = """
        import json, sys, numpy as np
        from safetensors.numpy import load_file
        d = sys.argv[1]
        n = 0
        for line in open(d + "/manifest.jsonl"):
            r = json.loads(line)
            t = load_file(d + "/" + r["shard"])["clips"]
            assert t.dtype == np.uint8 and t.shape[1:] == (8, 32, 32, 3), t.shape
            clip = t[r["index"]]
            assert clip.std() > 10, "testsrc2 has structure"
            n += 1
        print(n)
        """
        let py = Process()
        py.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        py.arguments = ["python3", "-c", script, dir.path + "/merged"]
        let out = Pipe()
        py.standardOutput = out
        try py.run(); py.waitUntilExit()
        XCTAssertEqual(py.terminationStatus, 0)
        XCTAssertEqual(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines), "\(whole.count)")
    }

    func testKilledRunResumesWithoutLossOrDuplicates() throws {
        let videos = dir.appendingPathComponent("videos").path
        let args = ["extract", videos, "--frames", "8", "--fps", "8", "--size", "32x32", "--shard-size", "40K", "--quiet"]
        XCTAssertEqual(try CLI.run(args + ["-o", dir.path + "/whole"]).status, 0)
        // Start a run and SIGKILL it as soon as its first shard is committed.
        let target = dir.path + "/killed"
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = args + ["-o", target]
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(30)
        while p.isRunning && Date() < deadline
            && !FileManager.default.fileExists(atPath: target + "/shard-00000.safetensors") {
            usleep(2000)
        }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        let r = try CLI.run(args + ["-o", target])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try manifestKeys(target), try manifestKeys(dir.path + "/whole"))
        let lines = try String(contentsOfFile: target + "/manifest.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, try manifestKeys(target).count, "no duplicated clip")
    }

    func testBadInputsAreReportedAndTheRestExtracted() throws {
        let videos = dir.appendingPathComponent("videos")
        try Data(repeating: 0x42, count: 5000).write(to: videos.appendingPathComponent("corrupt.mp4"))
        FileManager.default.createFile(atPath: videos.appendingPathComponent("empty.mkv").path, contents: Data())
        try "just text".write(to: videos.appendingPathComponent("readme.md"), atomically: true, encoding: .utf8)
        var r = try CLI.run(["extract", videos.path, "-o", dir.path + "/ds", "--frames", "8", "--size", "16x16"])
        XCTAssertEqual(r.status, 0, r.stderr)
        for name in ["corrupt.mp4", "empty.mkv", "readme.md"] { XCTAssertTrue(r.stderr.contains(name), r.stderr) }
        XCTAssertTrue(r.stderr.contains("3 errors"), r.stderr)
        let errors = try String(contentsOfFile: dir.path + "/ds/errors.jsonl", encoding: .utf8)
        XCTAssertEqual(errors.split(separator: "\n").count, 3)
        XCTAssertEqual(try manifestKeys(dir.path + "/ds").count, 18, "1 s clips from videos of 2, 3, 4, 2, 3, 4 s")
        r = try CLI.run(["extract", videos.path, "-o", dir.path + "/ds2", "--frames", "8", "--size", "16x16", "--strict", "--quiet"])
        XCTAssertEqual(r.status, 1, "--strict fails when an input is unreadable")
        r = try CLI.run(["extract", videos.appendingPathComponent("corrupt.mp4").path, "-o", dir.path + "/ds3"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("no input could be read"), r.stderr)
    }

    func testUsageErrors() throws {
        for args in [["extract", "x", "-o", "y", "--size", "0x4"], ["extract", "x", "-o", "y", "--shard", "2/2"],
                     ["extract", "x", "-o", "y", "--fps", "-1"], ["extract", "-o", "y"]] {
            let r = try CLI.run(args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("Error"), r.stderr)
        }
        let r = try CLI.run(["extract", dir.path + "/nope.mp4", "-o", dir.path + "/out"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("nope.mp4"), r.stderr)
    }
}
