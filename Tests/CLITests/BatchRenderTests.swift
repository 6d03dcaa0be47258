import Foundation
import XCTest

/// `render --prompts FILE --output-dir DIR [--shard i/N]`: shards together give the unsharded
/// run's files byte for byte; finished files are skipped; a stopped run resumes; a failed line is
/// logged and the rest go on; a bad prompts file is refused before any denoising.
final class BatchRenderTests: XCTestCase {
    static var fixture: CLIFixture!
    static var root: URL { fixture.root }
    static var model: String { fixture.path("tiny.safetensors") }

    override class func setUp() {
        fixture = CLIFixture(name: "t2v-batch", clips: [("testsrc2", "a test pattern")], size: 32, seconds: 1) { f in
            [["extract", f.path("clips"), "-o", f.path("ds"), "--frames", "4", "--fps", "4", "--size", "16x16", "--quiet"],
             ["train", "--data", f.path("ds"), "--config", "tiny", "--steps", "1", "--batch", "1", "--quiet", "-o", f.path("tiny.safetensors")]]
        }
    }

    override class func tearDown() { fixture.remove() }

    override func setUpWithError() throws { try Self.fixture.check() }

    /// A prompts file of `count` lines with seeds 0..<count (and `extra` lines appended).
    private func promptsFile(_ count: Int, extra: [String] = []) throws -> String {
        let words = ["a sunset", "a red ball", "fireworks", "snow in a forest", "a car at night"]
        let lines = (0..<count).map { #"{"prompt": "\#(words[$0 % words.count])", "seed": \#($0)}"# } + extra
        let path = Self.root.appendingPathComponent("prompts-\(UUID().uuidString.prefix(6)).jsonl").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private func batch(_ prompts: String, _ dir: String, _ extra: [String] = []) throws -> (status: Int32, stdout: Data, stderr: String) {
        try CLI.run(["--prompts", prompts, "--output-dir", dir, "--model", Self.model, "--steps", "2", "--size", "32x32", "-q"] + extra)
    }

    private func files(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".mp4") {
            var isDir: ObjCBool = false
            let path = URL(fileURLWithPath: dir).appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDir), !isDir.boolValue else { continue }
            out[name] = try Data(contentsOf: path)
        }
        return out
    }

    func testShardsTogetherEqualTheUnshardedRunByteForByte() throws {
        let prompts = try promptsFile(7)
        let all = Self.root.appendingPathComponent("all").path, split = Self.root.appendingPathComponent("split").path
        var r = try batch(prompts, all)
        XCTAssertEqual(r.status, 0, r.stderr)
        for i in 0..<3 {
            r = try batch(prompts, split, ["--shard", "\(i)/3"])
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        let a = try files(all), b = try files(split)
        XCTAssertEqual(a.keys.sorted(), (1...7).map { String(format: "%06d.mp4", $0) })
        XCTAssertEqual(a, b, "sharded files differ from the unsharded run's")
        // ffprobe reads every file as a whole video with the line's prompt in its metadata.
        let (status, title) = try RenderCLITests.sh(["ffprobe", "-v", "error", "-show_entries", "format_tags=title", "-of", "csv=p=0",
                                                     all + "/000002.mp4"])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(title.trimmingCharacters(in: .whitespacesAndNewlines), "a red ball")
    }

    func testFinishedFilesAreSkippedAndAStoppedRunResumes() throws {
        let prompts = try promptsFile(6)
        let reference = Self.root.appendingPathComponent("ref").path, dir = Self.root.appendingPathComponent("resume").path
        XCTAssertEqual(try batch(prompts, reference).status, 0)
        // A killed run leaves finished files and perhaps a hidden staging file.
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for name in ["000001.mp4", "000004.mp4"] {
            try FileManager.default.copyItem(atPath: reference + "/" + name, toPath: dir + "/" + name)
        }
        let stale = dir + "/.000002.mp4.t2v-deadbeef.tmp"
        FileManager.default.createFile(atPath: stale, contents: Data("partial".utf8))
        let before = try FileManager.default.attributesOfItem(atPath: dir + "/000001.mp4")[.modificationDate] as? Date
        Thread.sleep(forTimeInterval: 1.1)
        let r = try batch(prompts, dir, ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual((doc["skipped"] as? [String])?.count, 2)
        XCTAssertEqual((doc["rendered"] as? [String])?.count, 4)
        let after = try FileManager.default.attributesOfItem(atPath: dir + "/000001.mp4")[.modificationDate] as? Date
        XCTAssertEqual(before, after, "a finished file was rendered again")
        XCTAssertFalse(FileManager.default.fileExists(atPath: stale), "the stale staging file was left behind")
        XCTAssertEqual(try files(dir), try files(reference))
    }

    func testSIGTERMKeepsFinishedFilesAndTheRerunCompletesTheBatch() throws {
        let prompts = try promptsFile(40)
        let reference = Self.root.appendingPathComponent("ref40").path, dir = Self.root.appendingPathComponent("killed").path
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["--prompts", prompts, "--output-dir", dir, "--model", Self.model, "--steps", "2", "--size", "32x32", "-q"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning, Date() < deadline, !FileManager.default.fileExists(atPath: dir + "/000002.mp4") { usleep(5_000) }
        kill(p.processIdentifier, SIGTERM)
        p.waitUntilExit()
        let done = try files(dir).count
        if p.terminationStatus == 0 { throw XCTSkip("the batch finished before SIGTERM arrived") }
        XCTAssertEqual(p.terminationStatus, 143)
        XCTAssertLessThan(done, 40)
        let hidden = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasPrefix(".") }
        XCTAssertEqual(hidden, [], "a staging file was left behind")
        let r = try batch(prompts, dir, ["--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual((doc["skipped"] as? [String])?.count, done, "finished files were rendered again")
        XCTAssertEqual(try batch(prompts, reference).status, 0)
        XCTAssertEqual(try files(dir), try files(reference))
    }

    func testAFailedLineIsLoggedAndTheRestGoOn() throws {
        let prompts = try promptsFile(4)
        let dir = Self.root.appendingPathComponent("failing").path
        // Line 3's file name is taken by a folder: that line fails at write time.
        try FileManager.default.createDirectory(atPath: dir + "/000003.mp4", withIntermediateDirectories: true)
        let r = try batch(prompts, dir)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("1 of 4 prompts failed") && r.stderr.contains("errors.jsonl"), r.stderr)
        XCTAssertEqual(try files(dir).keys.sorted(), ["000001.mp4", "000002.mp4", "000004.mp4"])
        let log = try String(contentsOfFile: dir + "/errors.jsonl", encoding: .utf8)
        let entry = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(log.utf8)) as? [String: Any])
        XCTAssertEqual(entry["line"] as? Int, 3)
        XCTAssertTrue((entry["error"] as? String ?? "").contains("000003.mp4"), log)
    }

    func testABadPromptsFileIsRefusedBeforeAnyRender() throws {
        for (extra, expected) in [([#"{"prompt": "x", "sed": 1}"#], "line 3: unknown key \"sed\""),
                                  (["not json"], "line 3: not a JSON object"),
                                  ([#"{"seed": 1}"#], "line 3: no \"prompt\""),
                                  ([#"{"prompt": "x", "steps": 0}"#], "line 3: steps must be in 1...1000"),
                                  ([#"{"prompt": "x", "output": "../x.mp4"}"#], "line 3: output \"../x.mp4\" must be a plain file name"),
                                  ([#"{"prompt": "x", "output": "000001.mp4"}"#], "line 3: output \"000001.mp4\" is also line 1's")] {
            let prompts = try promptsFile(2, extra: extra)
            let dir = Self.root.appendingPathComponent("bad-\(UUID().uuidString.prefix(6))").path
            let r = try batch(prompts, dir)
            XCTAssertEqual(r.status, 1, extra[0])
            XCTAssertTrue(r.stderr.contains(expected), "\(extra[0]): \(r.stderr)")
            XCTAssertTrue(((try? files(dir)) ?? [:]).isEmpty, "\(extra[0]): something was rendered")
        }
        // Options are checked too: single-video flags do not mix with --prompts.
        let prompts = try promptsFile(1)
        var r = try CLI.run(["--prompts", prompts, "--output-dir", Self.root.path + "/x", "-p", "a sunset", "--model", Self.model])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("drop --prompt and -o"), r.stderr)
        r = try CLI.run(["--prompts", prompts, "--output-dir", Self.root.path + "/x", "--shard", "2/2", "--model", Self.model])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--shard must be i/N"), r.stderr)
        r = try CLI.run(["--prompts", prompts, "--model", Self.model])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--prompts needs --output-dir"), r.stderr)
    }
}
