import Foundation
import XCTest

/// Fault injection against the built `t2v-render` binary: a full disk, the output directory
/// removed mid-run, the stdout reader going away, SIGINT/SIGTERM mid-run, two runs on one dataset
/// directory, and peak memory on long clips. Each failure must exit 1 with a message naming what
/// failed, leave nothing under the final output name, and keep existing files byte-identical.
final class FaultInjectionTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-fault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        signal(SIGPIPE, SIG_IGN)  // feeding a child that has exited must give EPIPE, not kill the tests
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: dir) }

    /// Runs ffmpeg to make a testsrc2 clip; returns its path.
    @discardableResult
    func makeClip(_ name: String, size: String, rate: Int, seconds: Double, in folder: URL? = nil) throws -> String {
        let path = (folder ?? dir).appendingPathComponent(name).path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(size):rate=\(rate):duration=\(seconds)",
                       "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", path]
        try p.run(); p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, "ffmpeg made \(name)")
        return path
    }

    /// `count` frames of 64x64 rgb24 noise-free gradients.
    func rawFrames(_ count: Int) -> Data {
        var data = Data(capacity: count * 64 * 64 * 3)
        for f in 0..<count { for i in 0..<(64 * 64 * 3) { data.append(UInt8((i + 7 * f) & 0xFF)) } }
        return data
    }

    /// Hidden temporary files (`.NAME.t2v-*.tmp`) left in `folder`.
    func leftovers(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasPrefix(".") && $0.contains("tmp") }
    }

    /// Every file in `folder` (not hidden) with its bytes.
    func snapshot(_ folder: URL) throws -> [String: Data] {
        var out: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: folder.path) where !name.hasPrefix(".") {
            out[name] = try Data(contentsOf: folder.appendingPathComponent(name))
        }
        return out
    }

    // MARK: - Disk full, directory gone, pipe closed

    func testDiskFullIsAClearFailure() throws {
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
        let raw = dir.appendingPathComponent("in.rgb")
        try rawFrames(8).write(to: raw)
        var r = try CLI.run(["encode", "--size", "64x64", "-i", raw.path, "-o", "/dev/full", "--format", "mkv"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("/dev/full") && r.stderr.lowercased().contains("no space left on device"), r.stderr)
        let clip = try makeClip("c.mp4", size: "64x64", rate: 8, seconds: 1)
        r = try CLI.run(["decode", clip, "-o", "/dev/full"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("writing /dev/full failed") && r.stderr.lowercased().contains("no space left on device"), r.stderr)
    }

    func testOutputDirectoryRemovedMidRun() throws {
        let out = dir.appendingPathComponent("gone")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let target = out.appendingPathComponent("v.mp4").path
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = ["encode", "--size", "64x64", "-i", "-", "-o", target, "--preset", "ultrafast"]
        let input = Pipe(), err = Pipe()
        p.standardInput = input
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        input.fileHandleForWriting.write(rawFrames(10))
        usleep(200_000)
        try FileManager.default.removeItem(at: out)
        input.fileHandleForWriting.write(rawFrames(10))
        try input.fileHandleForWriting.close()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 1, message)
        XCTAssertTrue(message.contains(target), "names the output: \(message)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: target))
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "nothing recreated the directory")
    }

    func testDecodeToAClosedPipeStopsWithAMessage() throws {
        let clip = try makeClip("c.mp4", size: "640x360", rate: 8, seconds: 2)
        let q = { (s: String) in "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/bash")
        p.arguments = ["-c", "\(q(CLI.binary.path)) decode \(q(clip)) -o - 2>\(q(dir.path + "/err.txt")) | head -c 1000 | wc -c; echo \"status=${PIPESTATUS[0]}\""]
        let out = Pipe()
        p.standardOutput = out
        try p.run(); p.waitUntilExit()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertTrue(text.contains("1000"), text)
        XCTAssertTrue(text.contains("status=1"), "exit 1, not killed by SIGPIPE (141): \(text)")
        let err = try String(contentsOfFile: dir.path + "/err.txt", encoding: .utf8)
        XCTAssertTrue(err.contains("the reader closed the pipe"), err)
    }

    // MARK: - Signals

    /// Starts `t2v-render args` and sends `sig` once `ready()` is true; returns status and stderr.
    func interrupt(_ args: [String], with sig: Int32, stdin: Pipe? = nil,
                   when ready: () -> Bool) throws -> (status: Int32, reason: Process.TerminationReason, stderr: String) {
        let p = Process()
        p.executableURL = CLI.binary
        p.arguments = args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        p.standardInput = stdin ?? FileHandle.nullDevice
        var text = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { text = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        try p.run()
        let deadline = Date().addingTimeInterval(60)
        while p.isRunning && !ready() && Date() < deadline { usleep(2000) }
        XCTAssertTrue(p.isRunning, "still running when the signal is sent")
        kill(p.processIdentifier, sig)
        p.waitUntilExit()
        group.wait()
        return (p.terminationStatus, p.terminationReason, String(decoding: text, as: UTF8.self))
    }

    func testSignalDuringExtractKeepsFinishedWorkAndResumes() throws {
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        for i in 0..<6 { try makeClip("v\(i).mp4", size: "96x64", rate: 16, seconds: 6, in: videos) }
        let common = ["--frames", "8", "--fps", "8", "--size", "32x32", "--shard-size", "40K", "--quiet"]
        var r = try CLI.run(["extract", videos.path, "-o", dir.path + "/whole"] + common)
        XCTAssertEqual(r.status, 0, r.stderr)
        let whole = try manifestLines(dir.appendingPathComponent("whole"))

        for (sig, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            let ds = dir.appendingPathComponent("ds-\(name)")
            // A first, complete run on two videos: its files must survive byte-identical.
            r = try CLI.run(["extract", videos.appendingPathComponent("v0.mp4").path,
                             videos.appendingPathComponent("v1.mp4").path, "-o", ds.path] + common)
            XCTAssertEqual(r.status, 0, r.stderr)
            let before = try snapshot(ds)
            let firstNew = String(format: "shard-%05d.safetensors", before.keys.filter { $0.hasPrefix("shard-") }.count)
            let s = try interrupt(["extract", videos.path, "-o", ds.path] + common, with: sig) {
                FileManager.default.fileExists(atPath: ds.appendingPathComponent(firstNew).path)
            }
            XCTAssertEqual(s.reason, .exit, "\(name): a clean exit, not death by signal")
            XCTAssertEqual(s.status, 128 + sig, "\(name): \(s.stderr)")
            XCTAssertTrue(s.stderr.contains("interrupted; finished shards are kept"), "\(name): \(s.stderr)")
            XCTAssertEqual(leftovers(ds), [], "\(name): no temporary file left")
            let after = try snapshot(ds)
            for (file, bytes) in before where file.hasPrefix("shard-") {
                XCTAssertEqual(after[file], bytes, "\(name): \(file) unchanged")
            }
            XCTAssertTrue(after["manifest.jsonl"]!.starts(with: before["manifest.jsonl"]!), "\(name): manifest only appended to")
            // Every manifest line points at a shard that exists.
            for line in try manifestLines(ds) {
                let shard = (try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["shard"] as! String
                XCTAssertNotNil(after[shard], "\(name): \(shard) of \(line)")
            }
            XCTAssertLessThan(try manifestLines(ds).count, whole.count, "\(name): stopped early")
            // Resuming finishes the job: the same clips as one uninterrupted run, none twice,
            // and the shards of the interrupted run unchanged.
            r = try CLI.run(["extract", videos.path, "-o", ds.path] + common)
            XCTAssertEqual(r.status, 0, r.stderr)
            let resumed = try snapshot(ds)
            for (file, bytes) in after where file.hasPrefix("shard-") {
                XCTAssertEqual(resumed[file], bytes, "\(name): \(file) unchanged by the resume")
            }
            let lines = try manifestLines(ds)
            XCTAssertEqual(Set(try lines.map(clipKey)), Set(try whole.map(clipKey)), name)
            XCTAssertEqual(lines.count, whole.count, "\(name): no clip written twice")
        }
    }

    func testSignalDuringEncodeKeepsTheExistingFile() throws {
        let target = dir.appendingPathComponent("v.mp4").path
        let raw = dir.appendingPathComponent("in.rgb")
        try rawFrames(4).write(to: raw)
        XCTAssertEqual(try CLI.run(["encode", "--size", "64x64", "-i", raw.path, "-o", target]).status, 0)
        let original = try Data(contentsOf: URL(fileURLWithPath: target))
        for sig in [SIGINT, SIGTERM] {
            let input = Pipe()
            let stop = NSLock()
            var stopped = false
            let frame = rawFrames(1)
            DispatchQueue.global().async {
                // Keep frames coming so the encoder reaches its next check after the signal.
                while true {
                    stop.lock(); let s = stopped; stop.unlock()
                    if s { break }
                    do { try input.fileHandleForWriting.write(contentsOf: frame) } catch { break }
                }
                try? input.fileHandleForWriting.close()
            }
            // The temporary output exists once the signal handlers are installed and frames flow.
            let s = try interrupt(["encode", "--size", "64x64", "-i", "-", "-o", target, "--preset", "ultrafast"],
                                  with: sig, stdin: input) { !self.leftovers(self.dir).isEmpty }
            stop.lock(); stopped = true; stop.unlock()
            try? input.fileHandleForReading.close()
            XCTAssertEqual(s.status, 128 + sig, s.stderr)
            XCTAssertTrue(s.stderr.contains("interrupted after"), s.stderr)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: target)), original, "the existing file is byte-identical")
            XCTAssertEqual(leftovers(dir), [], "no temporary file left")
        }
    }

    // MARK: - Two runs on one dataset directory

    func testConcurrentExtractRunsAreRefusedNotCorrupting() throws {
        let videos = dir.appendingPathComponent("videos")
        try FileManager.default.createDirectory(at: videos, withIntermediateDirectories: true)
        for i in 0..<3 { try makeClip("v\(i).mp4", size: "96x64", rate: 16, seconds: 4, in: videos) }
        let ds = dir.appendingPathComponent("ds")
        try FileManager.default.createDirectory(at: ds, withIntermediateDirectories: true)
        let args = ["extract", videos.path, "-o", ds.path, "--frames", "8", "--fps", "8", "--size", "32x32", "--quiet"]

        // Deterministic: hold the directory's lock the way a running extract does.
        let fd = open(ds.appendingPathComponent(".lock").path, O_CREAT | O_RDWR, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        XCTAssertEqual(flock(fd, LOCK_EX | LOCK_NB), 0)
        var r = try CLI.run(args)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("another extract run is writing to this directory"), r.stderr)
        XCTAssertEqual(try snapshot(ds).keys.sorted(), [], "the refused run wrote nothing")
        flock(fd, LOCK_UN)
        close(fd)

        // Racing: two real runs started together. One may be refused; the directory ends valid,
        // and a final run completes it to exactly the clips of one run.
        let a = Process(), b = Process()
        for p in [a, b] {
            p.executableURL = CLI.binary
            p.arguments = args
            p.standardError = FileHandle.nullDevice
            p.standardOutput = FileHandle.nullDevice
        }
        try a.run(); try b.run()
        a.waitUntilExit(); b.waitUntilExit()
        XCTAssertTrue([a.terminationStatus, b.terminationStatus].contains(0), "at least one run succeeds")
        r = try CLI.run(args)
        XCTAssertEqual(r.status, 0, r.stderr)
        let lines = try manifestLines(ds)
        XCTAssertEqual(lines.count, Set(try lines.map(clipKey)).count, "no clip twice")
        XCTAssertEqual(lines.count, 4 + 4 + 4, "1 s clips from three 4 s videos")
        XCTAssertEqual(leftovers(ds), [])
    }

    func manifestLines(_ ds: URL) throws -> [String] {
        try String(contentsOf: ds.appendingPathComponent("manifest.jsonl"), encoding: .utf8).split(separator: "\n").map(String.init)
    }

    func clipKey(_ line: String) throws -> String {
        let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
        return "\(obj["source"]!)#\(obj["start"]!)"
    }

    // MARK: - Bounded memory

    /// Peak RSS in KiB of `t2v-render args`, measured by GNU time (`/usr/bin/time -v`).
    func peakRSSKiB(_ args: [String]) throws -> Int {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/time") else { throw XCTSkip("no /usr/bin/time") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/time")
        p.arguments = ["-v", CLI.binary.path] + args
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, text)
        guard let line = text.split(separator: "\n").first(where: { $0.contains("Maximum resident set size") }),
              let kib = Int(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)) else {
            XCTFail("no RSS in: \(text)")
            return 0
        }
        return kib
    }

    /// Decoding, evaluating and extracting a 640x360 clip 4x longer does not raise peak memory:
    /// frames stream through. Bound: 300 MB; growth from 1 s to 4 s under 16 MB.
    func testPeakMemoryDoesNotGrowWithDuration() throws {
        if ProcessInfo.processInfo.environment["T2V_SANITIZER"] != nil {
            // ASan/TSan keep freed memory in quarantine and shadow it: RSS measures the sanitizer.
            throw XCTSkip("peak RSS is not meaningful under a sanitizer")
        }
        let short = try makeClip("short.mp4", size: "640x360", rate: 25, seconds: 1)
        let long = try makeClip("long.mp4", size: "640x360", rate: 25, seconds: 4)
        for format in ["rgb24", "f32planar"] {
            let a = try peakRSSKiB(["decode", short, "-o", "/dev/null", "--pix-fmt", format, "--threads", "1"])
            let b = try peakRSSKiB(["decode", long, "-o", "/dev/null", "--pix-fmt", format, "--threads", "1"])
            XCTAssertLessThan(b, 300 * 1024, "\(format): peak RSS \(b) KiB")
            XCTAssertLessThan(b - a, 16 * 1024, "\(format): 1 s peak \(a) KiB, 4 s peak \(b) KiB")
        }
        // Eval (two decoders, SSIM/GSSIM/PSNR per frame) likewise.
        let v1 = try peakRSSKiB(["eval", short, "--reference", short, "--summary-only", "--quiet"])
        let v2 = try peakRSSKiB(["eval", long, "--reference", long, "--summary-only", "--quiet"])
        XCTAssertLessThan(v2, 300 * 1024, "eval peak RSS \(v2) KiB")
        XCTAssertLessThan(v2 - v1, 16 * 1024, "eval: 1 s peak \(v1) KiB, 4 s peak \(v2) KiB")
        // Extract (decode + resize + shard) likewise.
        let e1 = try peakRSSKiB(["extract", short, "-o", dir.path + "/e1", "--size", "64x64", "--quiet"])
        let e2 = try peakRSSKiB(["extract", long, "-o", dir.path + "/e2", "--size", "64x64", "--quiet"])
        XCTAssertLessThan(e2, 300 * 1024, "extract peak RSS \(e2) KiB")
        XCTAssertLessThan(e2 - e1, 16 * 1024, "extract: 1 s peak \(e1) KiB, 4 s peak \(e2) KiB")
    }

    /// `render` upscales and encodes the sampled frames one at a time: three times the frames
    /// (32 vs 96, 1024x1024 H.264, where each frame is 3 MB as RGB24 and 12 MB as Float32) peak
    /// about the same. Measured here: 523 MB vs 575 MB, and 678 MB vs 756 MB in another run (the
    /// heap keeps freed tensor buffers, so multi-window renders vary by a hundred MB). Bounds:
    /// 1 GB; growth under 192 MB (keeping the 64 extra frames as RGB24 alone would add 200 MB, as
    /// Float32 800 MB).
    func testRenderPeakMemoryDoesNotGrowWithFrameCount() throws {
        if ProcessInfo.processInfo.environment["T2V_SANITIZER"] != nil {
            throw XCTSkip("peak RSS is not meaningful under a sanitizer")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-rss-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let probe = try CLI.run(["--prompt", "a red ball bouncing", "--frames", "16", "--size", "32x32", "--quiet", "-o", dir.path + "/probe.mp4"])
        if probe.stderr.contains("text encoder") || probe.stderr.contains("all-MiniLM") {
            throw XCTSkip("text encoder files are not installed (run scripts/setup.sh): \(probe.stderr)")
        }
        XCTAssertEqual(probe.status, 0, probe.stderr)
        let args = ["--prompt", "a red ball bouncing", "--size", "1024x1024", "--quiet", "-o"]
        let short = try peakRSSKiB(["--frames", "32"] + args + [dir.path + "/32.mp4"])
        let long = try peakRSSKiB(["--frames", "96"] + args + [dir.path + "/96.mp4"])
        XCTAssertLessThan(long, 1024 * 1024, "render of 96 frames: peak RSS \(long) KiB")
        XCTAssertLessThan(long - short, 192 * 1024, "render: 32 frames peak \(short) KiB, 96 frames peak \(long) KiB")
    }
}
