import Foundation
import XCTest

/// Fault injection against the generator commands of the built `t2v-render` binary: SIGINT and
/// SIGTERM in the middle of `render` (while denoising and while encoding), `train` and `distill`;
/// a full disk (`/dev/full`), a reader that closes the pipe early, and outputs that cannot be
/// written. Every failure must exit 1 (not die by the signal), say what happened on stderr, keep
/// an existing output byte-identical and leave no temporary file; an interrupted `train` must
/// leave a checkpoint that `--resume` completes. Timeouts are generous (the machine is shared);
/// nothing asserts on timings.
final class GeneratorFaultTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-genfault-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        signal(SIGPIPE, SIG_IGN)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    // MARK: - Fixtures

    /// A tiny dataset (two 2 s clips as 4 frames of 16x16) and a tiny model trained on it for
    /// 2 steps (the distillation teacher), made once for the class.
    struct Fixture { let root: URL; let dataset: String; let teacher: String }
    nonisolated(unsafe) static var fixtureResult: Result<Fixture, FixtureError>?
    struct FixtureError: Error { let message: String }

    func fixture() throws -> Fixture {
        if Self.fixtureResult == nil { Self.fixtureResult = Self.makeFixture() }
        switch Self.fixtureResult! {
        case .success(let f): return f
        case .failure(let e):
            if e.message.contains("text encoder") || e.message.contains("all-MiniLM") {
                throw XCTSkip("text encoder files are not installed (run scripts/setup.sh): \(e.message)")
            }
            XCTFail("fixture: \(e.message)")
            throw e
        }
    }

    static func makeFixture() -> Result<Fixture, FixtureError> {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-genfault-data-\(UUID().uuidString)")
        let clips = root.appendingPathComponent("clips")
        do {
            try FileManager.default.createDirectory(at: clips, withIntermediateDirectories: true)
            for (i, src) in ["testsrc2", "mandelbrot"].enumerated() {
                let path = clips.appendingPathComponent("c\(i).mp4").path
                let p = Process()
                p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                p.arguments = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "\(src)=size=64x64:rate=8", "-t", "2", "-pix_fmt", "yuv420p", path]
                p.standardOutput = FileHandle.nullDevice
                p.standardError = FileHandle.nullDevice
                try p.run(); p.waitUntilExit()
                guard p.terminationStatus == 0 else { return .failure(FixtureError(message: "ffmpeg could not make \(path)")) }
                try (i == 0 ? "a test pattern" : "a fractal zoom").write(toFile: clips.appendingPathComponent("c\(i).txt").path, atomically: true, encoding: .utf8)
            }
            let dataset = root.appendingPathComponent("ds").path
            var r = try CLI.run(["extract", clips.path, "-o", dataset, "--frames", "4", "--fps", "4", "--size", "16x16", "--quiet"])
            guard r.status == 0 else { return .failure(FixtureError(message: "extract: \(r.stderr)")) }
            let teacher = root.appendingPathComponent("teacher.safetensors").path
            r = try CLI.run(["train", "--data", dataset, "--config", "tiny", "--steps", "2", "--batch", "1", "--quiet", "-o", teacher])
            guard r.status == 0 else { return .failure(FixtureError(message: "train: \(r.stderr)")) }
            return .success(Fixture(root: root, dataset: dataset, teacher: teacher))
        } catch {
            return .failure(FixtureError(message: "\(error)"))
        }
    }

    override class func tearDown() {
        if case .success(let f)? = fixtureResult { try? FileManager.default.removeItem(at: f.root) }
        fixtureResult = nil
    }

    // MARK: - Helpers

    /// A running `t2v-render` whose stderr is collected while it runs (so a test can wait for a
    /// progress line).
    final class Child: @unchecked Sendable {
        let process = Process()
        private let lock = NSLock()
        private var data = Data()
        private let done = DispatchGroup()

        init(_ args: [String]) throws {
            process.executableURL = CLI.binary
            process.arguments = args
            let err = Pipe()
            process.standardError = err
            process.standardOutput = FileHandle.nullDevice
            process.standardInput = FileHandle.nullDevice
            try process.run()
            done.enter()
            let handle = err.fileHandleForReading
            DispatchQueue.global().async { [self] in
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    lock.lock(); data.append(chunk); lock.unlock()
                }
                done.leave()
            }
        }

        var stderr: String { lock.lock(); defer { lock.unlock() }; return String(decoding: data, as: UTF8.self) }

        /// Waits up to `seconds` for the exit; kills it (SIGKILL) and returns false on timeout.
        func waitForExit(seconds: Double) -> Bool {
            let deadline = Date().addingTimeInterval(seconds)
            while process.isRunning && Date() < deadline { usleep(5000) }
            if process.isRunning {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                _ = done.wait(timeout: .now() + 10)
                return false
            }
            process.waitUntilExit()
            _ = done.wait(timeout: .now() + 10)
            return true
        }
    }

    struct Outcome { let status: Int32; let reason: Process.TerminationReason; let stderr: String }

    /// Starts `t2v-render args`, waits (up to 3 minutes) until `ready` says it is in the middle of
    /// the work, checks `before` while it is still running, sends `sig` and waits (up to 3
    /// minutes) for it to stop.
    func interrupt(_ args: [String], with sig: Int32, file: StaticString = #filePath, line: UInt = #line,
                   when ready: (Child) -> Bool, before: (() -> Void)? = nil) throws -> Outcome {
        let child = try Child(args)
        let deadline = Date().addingTimeInterval(180)
        while child.process.isRunning && !ready(child) && Date() < deadline { usleep(2000) }
        XCTAssertTrue(child.process.isRunning, "still running when the signal is sent: \(child.stderr)", file: file, line: line)
        XCTAssertTrue(ready(child), "reached the point to interrupt: \(child.stderr)", file: file, line: line)
        before?()
        if child.process.isRunning { kill(child.process.processIdentifier, sig) }
        let stopped = child.waitForExit(seconds: 180)
        XCTAssertTrue(stopped, "stopped after the signal (killed after 3 minutes): \(child.stderr)", file: file, line: line)
        return Outcome(status: child.process.terminationStatus, reason: child.process.terminationReason, stderr: child.stderr)
    }

    /// Runs `script` with bash; returns its status and stdout.
    func bash(_ script: String) throws -> (status: Int32, stdout: String) {
        try RenderCLITests.sh(["bash", "-c", script])
    }

    /// Quotes `s` for bash.
    func q(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    /// Hidden temporary files (`.NAME.t2v-*.tmp`) left in `folder`.
    func leftovers(_ folder: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasPrefix(".") && $0.contains("tmp") }
    }

    func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// Reads and checks a safetensors file independently of the product: 8-byte little-endian
    /// header length, a JSON header whose tensors' offsets tile the data exactly to the end of the
    /// file. Returns the metadata and the tensor names.
    func safetensors(_ path: String) throws -> (metadata: [String: String], names: [String]) {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count >= 8 else { throw FixtureError(message: "\(path): \(data.count) bytes") }
        let n = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        guard n > 0, 8 + n <= data.count else { throw FixtureError(message: "\(path): header length \(n) of \(data.count) bytes") }
        guard let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any] else {
            throw FixtureError(message: "\(path): header is not a JSON object")
        }
        var ranges: [(Int, Int)] = []
        var names: [String] = []
        for (name, value) in header where name != "__metadata__" {
            guard let t = value as? [String: Any], let offsets = t["data_offsets"] as? [Int], offsets.count == 2,
                  let shape = t["shape"] as? [Int], t["dtype"] as? String == "F32" else {
                throw FixtureError(message: "\(path): bad entry \(name)")
            }
            guard offsets[1] - offsets[0] == 4 * shape.reduce(1, *) else { throw FixtureError(message: "\(path): \(name) size") }
            ranges.append((offsets[0], offsets[1]))
            names.append(name)
        }
        ranges.sort { $0.0 < $1.0 }
        var end = 0
        for (a, b) in ranges {
            guard a == end else { throw FixtureError(message: "\(path): data not contiguous at \(a)") }
            end = b
        }
        guard 8 + n + end == data.count else {
            throw FixtureError(message: "\(path): data ends at \(8 + n + end), file has \(data.count) bytes (truncated?)")
        }
        return ((header["__metadata__"] as? [String: String]) ?? [:], names.sorted())
    }

    /// Data rows (header excluded) of a loss CSV.
    func csvRows(_ path: String) throws -> Int {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count - 1
    }

    // MARK: - render

    /// SIGINT and SIGTERM while denoising and while encoding, onto an existing file: exit 1 with
    /// "interrupted", the file byte-identical, no temporary file.
    func testSignalDuringRenderKeepsTheExistingFile() throws {
        let model = try CLI.shippedModel()
        let target = dir.appendingPathComponent("v.mp4").path
        let first = try CLI.run(["--model", model, "--prompt", "a sunset over the ocean", "--steps", "1", "--size", "64x64", "--quiet", "-o", target])
        XCTAssertEqual(first.status, 0, first.stderr)
        let original = try XCTUnwrap(bytes(target))

        for (sig, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            // In the denoising loop: 1000 steps of the 4-step model (minutes if not stopped); the
            // first progress line comes after the first step.
            var s = try interrupt(["--model", model, "--prompt", "snow falling in a forest", "--steps", "1000", "-o", target],
                                  with: sig, when: { $0.stderr.contains("render: 1/") })
            XCTAssertEqual(s.reason, .exit, "\(name) while denoising: a clean exit, not death by the signal")
            XCTAssertEqual(s.status, 128 + sig, "\(name) while denoising: \(s.stderr)")
            XCTAssertTrue(s.stderr.contains("interrupted while denoising") && s.stderr.contains("nothing was written to \(target)"),
                          "\(name) while denoising: \(s.stderr)")
            XCTAssertEqual(bytes(target), original, "\(name) while denoising: the existing file is byte-identical")
            XCTAssertEqual(leftovers(dir), [], "\(name) while denoising: no temporary file left")

            // While encoding: one step, then 16 frames upscaled to 1024x1024 into H.264. The
            // writer's temporary file exists from the first frame until the file is complete.
            s = try interrupt(["--model", model, "--prompt", "snow falling in a forest", "--steps", "1", "--size", "1024x1024", "-o", target],
                              with: sig, when: { _ in !self.leftovers(self.dir).isEmpty })
            XCTAssertEqual(s.reason, .exit, "\(name) while encoding: a clean exit, not death by the signal")
            XCTAssertEqual(s.status, 128 + sig, "\(name) while encoding: \(s.stderr)")
            XCTAssertTrue(s.stderr.contains("interrupted while") && s.stderr.contains("nothing was written to \(target)"),
                          "\(name) while encoding: \(s.stderr)")
            XCTAssertFalse(s.stderr.contains("render: 16 frames"), "\(name) while encoding: no success line: \(s.stderr)")
            XCTAssertEqual(bytes(target), original, "\(name) while encoding: the existing file is byte-identical")
            XCTAssertEqual(leftovers(dir), [], "\(name) while encoding: no temporary file left")
        }
    }

    /// A disk-full device: as root, a private node of /dev/full's device (1, 7) in the test's
    /// folder, so that a regression that renames a file onto the output cannot replace the
    /// system's /dev/full; otherwise /dev/full itself (which a non-root process cannot replace).
    func fullDevice() throws -> String {
        let own = dir.appendingPathComponent("full").path
        if getuid() == 0, mknod(own, S_IFCHR | 0o666, dev_t(1 << 8 | 7)) == 0 {
            let fd = open(own, O_WRONLY)
            if fd >= 0 {
                let n = write(fd, "x", 1)
                let e = errno
                close(fd)
                if n < 0 && e == ENOSPC { return own }
            }
            unlink(own)
        }
        guard FileManager.default.fileExists(atPath: "/dev/full") else { throw XCTSkip("no /dev/full") }
        return "/dev/full"
    }

    /// `-o` a full device (MKV and fragmented MP4) and `-o -` into a pipe whose reader exits after
    /// 1000 bytes: exit 1 with a message, not a hang (killed after 5 minutes) or death by a signal.
    func testRenderToAFullDiskOrAClosedPipeIsAClearFailure() throws {
        let model = try CLI.shippedModel()
        let full = try fullDevice()
        let base = "timeout -s KILL 300 \(q(CLI.binary.path)) --model \(q(model)) --prompt 'fireworks in the night sky' --steps 1 --quiet"
        for format in ["mkv", "mp4"] {
            let errFile = dir.appendingPathComponent("full-\(format).txt").path
            let r = try bash("\(base) -o \(q(full)) --format \(format) 2>\(q(errFile)); echo \"status=$?\"")
            let err = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
            XCTAssertTrue(r.stdout.contains("status=1"), "\(format): exit 1, not a hang (137) or a crash: \(r.stdout) \(err)")
            XCTAssertTrue(err.contains("writing \(full) failed") && err.lowercased().contains("no space left on device"), "\(format): \(err)")
            var st = stat()
            XCTAssertEqual(stat(full, &st), 0)
            XCTAssertEqual(st.st_mode & S_IFMT, S_IFCHR, "\(format): \(full) is still the device, not replaced by a file")
        }
        XCTAssertEqual(leftovers(dir), [], "no temporary file left")

        // 512x512 gives about 250 KB of NUT, far more than a pipe buffers: writes fail once head exits.
        let errFile = dir.appendingPathComponent("pipe.txt").path
        let r = try bash("\(base) --size 512x512 -o - 2>\(q(errFile)) | head -c 1000 | wc -c; echo \"status=${PIPESTATUS[0]}\"")
        let err = (try? String(contentsOfFile: errFile, encoding: .utf8)) ?? ""
        XCTAssertTrue(r.stdout.contains("1000"), "the reader got its 1000 bytes: \(r.stdout)")
        XCTAssertTrue(r.stdout.contains("status=1"), "exit 1, not SIGPIPE (141), a hang (137) or a crash: \(r.stdout) \(err)")
        XCTAssertTrue(err.contains("writing stdout failed") && err.contains("pipe closed"), err)
    }

    /// `-o` into a folder that does not exist, under a file, or onto a folder, and `--sheet` into
    /// a missing folder: exit 1 naming the path, before any denoising, nothing created, an
    /// existing video untouched.
    func testRenderIntoAMissingDirectoryNamesThePath() throws {
        let model = try CLI.shippedModel()
        let common = ["--model", model, "--prompt", "a campfire", "--steps", "1", "--size", "64x64"]
        let missing = dir.appendingPathComponent("no/such")
        let out = missing.appendingPathComponent("v.mp4").path
        var r = try CLI.run(common + ["-o", out])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(out) && r.stderr.contains("the directory \(missing.path) does not exist"), r.stderr)
        XCTAssertFalse(r.stderr.contains("render: 1/"), "refused before denoising: \(r.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("no").path), "nothing created")

        let file = dir.appendingPathComponent("existing.mp4").path
        r = try CLI.run(common + ["--quiet", "-o", file])
        XCTAssertEqual(r.status, 0, r.stderr)
        let original = try XCTUnwrap(bytes(file))
        r = try CLI.run(common + ["-o", file + "/v.mp4"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(file + "/v.mp4") && r.stderr.contains("is not a directory"), r.stderr)
        r = try CLI.run(common + ["-o", dir.path])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(dir.path) && r.stderr.contains("is a directory"), r.stderr)

        // The contact sheet's folder is missing: refused before the video replaces anything.
        let sheet = dir.appendingPathComponent("sheets/s.png").path
        r = try CLI.run(common + ["-o", file, "--sheet", sheet])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains(sheet) && r.stderr.contains("does not exist"), r.stderr)
        XCTAssertFalse(r.stderr.contains("render: 1/"), "refused before denoising: \(r.stderr)")
        XCTAssertEqual(bytes(file), original, "the existing video is untouched")
        XCTAssertEqual(leftovers(dir), [])
    }

    // MARK: - train

    /// SIGINT and SIGTERM mid-run: exit 1 with a message naming the checkpoint and --resume; the
    /// checkpoint is complete (independent parse) at the step the message gives, the loss log
    /// has that many rows, -o is absent (SIGINT) or byte-identical (SIGTERM, an older file); then
    /// `--resume` finishes, writes a complete -o that `render` loads.
    func testSignalDuringTrainCheckpointsAndResumes() throws {
        let f = try fixture()
        for (sig, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            let out = dir.appendingPathComponent("m-\(name).safetensors").path
            let checkpoint = dir.appendingPathComponent("m-\(name).ckpt.safetensors").path
            let log = dir.appendingPathComponent("m-\(name).loss.csv").path
            let older = Data("an older model that must survive".utf8)
            if sig == SIGTERM { try older.write(to: URL(fileURLWithPath: out)) }
            // 100000 steps, checkpoints only every 100000: the checkpoint comes from the signal.
            let s = try interrupt(["train", "--data", f.dataset, "--config", "tiny", "--steps", "100000", "--batch", "1",
                                   "--checkpoint-every", "100000", "-o", out],
                                  with: sig, when: { $0.stderr.contains("train: 1/") }, before: {
                XCTAssertEqual(self.bytes(out), sig == SIGTERM ? older : nil, "\(name): -o is not written while training")
            })
            XCTAssertEqual(s.reason, .exit, "\(name): a clean exit, not death by the signal")
            XCTAssertEqual(s.status, 128 + sig, "\(name): \(s.stderr)")
            XCTAssertTrue(s.stderr.contains("checkpoint saved to \(checkpoint)") && s.stderr.contains("--resume"), "\(name): \(s.stderr)")
            let after = try XCTUnwrap(s.stderr.range(of: "interrupted at step "), "\(name): \(s.stderr)").upperBound
            let step = try XCTUnwrap(Int(String(s.stderr[after...].prefix { $0.isNumber })), "\(name): \(s.stderr)")
            XCTAssertGreaterThanOrEqual(step, 1)
            XCTAssertLessThan(step, 100000, "\(name): stopped early")
            let ckpt = try safetensors(checkpoint)
            XCTAssertEqual(ckpt.metadata["t2v.step"], String(step), "\(name): the checkpoint holds the step it stopped at")
            for prefix in ["model.", "ema.", "adam."] {
                XCTAssertTrue(ckpt.names.contains { $0.hasPrefix(prefix) }, "\(name): checkpoint has \(prefix)* tensors")
            }
            XCTAssertEqual(try csvRows(log), step, "\(name): the loss log has one row per step done")
            XCTAssertEqual(bytes(out), sig == SIGTERM ? older : nil, "\(name): -o is not written by an interrupted run")
            XCTAssertEqual(leftovers(dir), [], "\(name): no temporary file left")

            // --resume from that checkpoint to 2 more steps completes and writes -o.
            let r = try CLI.run(["train", "--data", f.dataset, "--steps", String(step + 2), "--batch", "1", "--resume", "--quiet", "-o", out])
            XCTAssertEqual(r.status, 0, "\(name): resume: \(r.stderr)")
            let model = try safetensors(out)
            XCTAssertEqual(model.metadata["t2v.step"], String(step + 2), "\(name): -o holds the resumed run's end")
            XCTAssertEqual(model.metadata["t2v.weights"], "ema")
            XCTAssertNotNil(model.metadata["t2v.denoiser_config"])
            XCTAssertEqual(try csvRows(log), step + 2, "\(name): the log continues")
            XCTAssertEqual(leftovers(dir), [], "\(name): no temporary file left after the resume")
            let v = dir.appendingPathComponent("check-\(name).mp4").path
            let rendered = try CLI.run(["--model", out, "--prompt", "a test pattern", "--steps", "1", "--size", "32x32", "--quiet", "-o", v])
            XCTAssertEqual(rendered.status, 0, "\(name): render loads the resumed model: \(rendered.stderr)")
        }
    }

    /// -o under /dev/full, in a missing folder, or onto a FIFO (a stand-in for a device: -o is
    /// written beside and renamed, which would replace it), and a --checkpoint in a missing
    /// folder: exit 1 naming the path, before any training step, nothing created.
    func testTrainRefusesOutputsItCannotWrite() throws {
        let f = try fixture()
        let common = ["train", "--data", f.dataset, "--config", "tiny", "--steps", "2", "--batch", "1"]
        if FileManager.default.fileExists(atPath: "/dev/full") {
            let r = try CLI.run(common + ["-o", "/dev/full/m.safetensors"])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("/dev/full/m.safetensors") && r.stderr.contains("/dev/full is not a directory"), r.stderr)
            XCTAssertFalse(r.stderr.contains("train: 1/"), "refused before training: \(r.stderr)")
        }
        let missing = dir.appendingPathComponent("missing")
        var r = try CLI.run(common + ["-o", missing.appendingPathComponent("m.safetensors").path])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("the directory \(missing.path) does not exist"), r.stderr)
        XCTAssertFalse(r.stderr.contains("train: 1/"), "refused before training: \(r.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path), "nothing created")

        let out = dir.appendingPathComponent("m.safetensors").path
        let checkpoint = missing.appendingPathComponent("c.safetensors").path
        r = try CLI.run(common + ["--checkpoint", checkpoint, "-o", out])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("--checkpoint \(checkpoint)") && r.stderr.contains("does not exist"), r.stderr)
        XCTAssertFalse(r.stderr.contains("train: 1/"), "refused before training: \(r.stderr)")
        XCTAssertNil(bytes(out))

        let fifo = dir.appendingPathComponent("fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o644), 0, String(cString: strerror(errno)))
        r = try CLI.run(common + ["-o", fifo])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("-o \(fifo)") && r.stderr.contains("not a regular file"), r.stderr)
        XCTAssertFalse(r.stderr.contains("train: 1/"), "refused before training: \(r.stderr)")
        var st = stat()
        XCTAssertEqual(stat(fifo, &st), 0)
        XCTAssertEqual(st.st_mode & S_IFMT, S_IFIFO, "the FIFO is still a FIFO")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), ["fifo"], "nothing written beside it")
    }

    /// A folder without write permission: refused up front by render, train and distill. Root
    /// ignores permission bits, so this cannot be arranged as root.
    func testUnwritableOutputDirectoryIsRefused() throws {
        guard getuid() != 0 else { throw XCTSkip("running as root: permission bits do not stop root, so an unwritable folder cannot be made") }
        let f = try fixture()
        let model = try CLI.shippedModel()
        let locked = dir.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        XCTAssertEqual(chmod(locked.path, 0o555), 0)
        defer { chmod(locked.path, 0o755) }
        for args in [["--model", model, "--prompt", "a campfire", "--steps", "1", "-o", locked.path + "/v.mp4"],
                     ["train", "--data", f.dataset, "--config", "tiny", "--steps", "2", "-o", locked.path + "/m.safetensors"],
                     ["distill", "--teacher", f.teacher, "--data", f.dataset, "--from-steps", "8", "--to-steps", "4", "-o", locked.path + "/s.safetensors"]] {
            let r = try CLI.run(args)
            XCTAssertEqual(r.status, 1, "\(args[0]): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("no permission to write in \(locked.path)"), "\(args[0]): \(r.stderr)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: locked.path), [])
    }

    // MARK: - distill

    /// A checkpoint remembers its teacher's sha256: --resume under a --teacher file that changed
    /// since (the same path, another model), under a missing one, or from a checkpoint that does
    /// not record it, is refused with a message naming what to do, and the checkpoint and -o are
    /// left as they were.
    func testDistillResumeRefusesAnotherTeacher() throws {
        let f = try fixture()
        let teacher = dir.appendingPathComponent("teacher.safetensors").path
        try FileManager.default.copyItem(atPath: f.teacher, toPath: teacher)
        let out = dir.appendingPathComponent("s.safetensors").path
        let checkpoint = dir.appendingPathComponent("s.ckpt.safetensors").path
        let common = ["distill", "--teacher", teacher, "--data", f.dataset, "--from-steps", "64", "--to-steps", "4", "--batch", "1",
                      "--steps-per-round", "100000", "-o", out]
        let s = try interrupt(common, with: SIGINT, when: { $0.stderr.contains("distill: 1/") })
        XCTAssertEqual(s.status, 128 + SIGINT, s.stderr)
        let sum = String(try RenderCLITests.sh(["sha256sum", teacher]).1.prefix(64))
        XCTAssertEqual(try safetensors(checkpoint).metadata["t2v.teacher_sha256"], sum, "the checkpoint records the teacher's sha256 (oracle: sha256sum)")
        let saved = bytes(checkpoint)

        // Another model at the same path, as a work folder retrained with other settings leaves it.
        let other = dir.appendingPathComponent("other.safetensors").path
        var r = try CLI.run(["train", "--data", f.dataset, "--config", "tiny", "--steps", "2", "--batch", "1", "--seed", "9", "--quiet", "-o", other])
        XCTAssertEqual(r.status, 0, r.stderr)
        let otherSum = String(try RenderCLITests.sh(["sha256sum", other]).1.prefix(64))
        XCTAssertNotEqual(otherSum, sum)
        try FileManager.default.removeItem(atPath: teacher)
        try FileManager.default.copyItem(atPath: other, toPath: teacher)
        r = try CLI.run(common + ["--resume", "--quiet"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("the teacher changed since the checkpoint was written") && r.stderr.contains(String(sum.prefix(16)))
                      && r.stderr.contains(String(otherSum.prefix(16))) && r.stderr.contains("Resume with the original teacher"), r.stderr)
        XCTAssertEqual(bytes(checkpoint), saved, "the refused resume leaves the checkpoint as it was")
        XCTAssertNil(bytes(out), "and writes no student")

        try FileManager.default.removeItem(atPath: teacher)
        r = try CLI.run(common + ["--resume", "--quiet"])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("--teacher \(teacher): no such file"), r.stderr)

        // A checkpoint of an older t2v-render, without the key: refused, not trusted.
        try FileManager.default.copyItem(atPath: f.teacher, toPath: teacher)
        let old = dir.appendingPathComponent("old.ckpt.safetensors").path
        let strip = """
            import sys
            from safetensors.numpy import load_file, save_file
            from safetensors import safe_open
            with safe_open(sys.argv[1], 'np') as f: meta = f.metadata()
            del meta['t2v.teacher_sha256']
            save_file(load_file(sys.argv[1]), sys.argv[2], metadata=meta)
            """
        XCTAssertEqual(try RenderCLITests.sh(["python3", "-c", strip, checkpoint, old]).0, 0)
        r = try CLI.run(common + ["--resume", "--quiet", "--checkpoint", old])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("does not record which teacher it was distilled from") && r.stderr.contains("Delete it"), r.stderr)
    }

    /// SIGINT and SIGTERM in the first round, and SIGINT after a finished round: exit 1 naming
    /// the checkpoint, --resume and -o; the existing -o byte-identical; the checkpoint complete;
    /// students of finished rounds complete (and listed), none of unfinished ones; no temporary
    /// file; a resume with other settings refused; --resume finishes the run and removes the
    /// checkpoint. A missing -o folder is refused before any work.
    func testSignalDuringDistillLeavesTheOutputUntouched() throws {
        let f = try fixture()
        let out = dir.appendingPathComponent("s.safetensors").path
        let older = Data("an older student that must survive".utf8)
        try older.write(to: URL(fileURLWithPath: out))
        let student32 = dir.appendingPathComponent("s-32steps.safetensors").path
        let checkpoint = dir.appendingPathComponent("s.ckpt.safetensors").path
        let common = ["distill", "--teacher", f.teacher, "--data", f.dataset, "--from-steps", "64", "--to-steps", "4", "--batch", "1", "-o", out]

        for (sig, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            let s = try interrupt(common + ["--steps-per-round", "100000"], with: sig, when: { $0.stderr.contains("distill: 1/") })
            XCTAssertEqual(s.reason, .exit, "\(name): a clean exit, not death by the signal")
            XCTAssertEqual(s.status, 128 + sig, "\(name): \(s.stderr)")
            XCTAssertTrue(s.stderr.contains("in the round to 32 steps; checkpoint saved to \(checkpoint)") && s.stderr.contains("--resume")
                          && s.stderr.contains("\(out) was not written"), "\(name): \(s.stderr)")
            XCTAssertEqual(bytes(out), older, "\(name): the existing -o is byte-identical")
            XCTAssertNil(bytes(student32), "\(name): no student of an unfinished round")
            XCTAssertEqual(leftovers(dir), [], "\(name): no temporary file left")
            let ckpt = try safetensors(checkpoint)
            XCTAssertEqual(ckpt.metadata["t2v.round_teacher_timesteps"]?.split(separator: ",").count, 64, "\(name): the checkpoint is in the first round")
            for prefix in ["teacher.", "student.", "adam."] {
                XCTAssertTrue(ckpt.names.contains { $0.hasPrefix(prefix) }, "\(name): checkpoint has \(prefix)* tensors")
            }
            // Resuming with other settings is refused, naming both.
            let mismatch = try CLI.run(common + ["--steps-per-round", "7", "--resume"])
            XCTAssertEqual(mismatch.status, 1, mismatch.stderr)
            XCTAssertTrue(mismatch.stderr.contains("--steps-per-round 100000") && mismatch.stderr.contains("--steps-per-round 7"), mismatch.stderr)
        }

        // After the first round (64 -> 32) is written, three rounds remain: interrupt one of them.
        let s = try interrupt(common + ["--steps-per-round", "30"], with: SIGINT,
                              when: { _ in FileManager.default.fileExists(atPath: student32) })
        XCTAssertEqual(s.status, 128 + SIGINT, s.stderr)
        XCTAssertTrue(s.stderr.contains("\(out) was not written") && s.stderr.contains("kept: \(student32)"), s.stderr)
        XCTAssertEqual(bytes(out), older, "the existing -o is byte-identical")
        XCTAssertEqual(try safetensors(student32).metadata["t2v.sampling_steps"], "32", "the finished round's student is complete")
        XCTAssertEqual(leftovers(dir), [], "no temporary file left")
        // --resume finishes the run: the final student replaces -o, every round's student is
        // there, and the checkpoint is removed.
        let resumed = try CLI.run(common + ["--steps-per-round", "30", "--resume", "--quiet"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(try safetensors(out).metadata["t2v.sampling_steps"], "4", "the resumed run wrote -o")
        let teacherSum = try RenderCLITests.sh(["sha256sum", f.teacher]).1.prefix(64)
        XCTAssertEqual(try safetensors(out).metadata["t2v.teacher_sha256"].map { Substring($0) }, teacherSum,
                       "the student records the teacher file's sha256 (oracle: sha256sum)")
        for steps in [32, 16, 8] {
            XCTAssertEqual(try safetensors(dir.appendingPathComponent("s-\(steps)steps.safetensors").path).metadata["t2v.sampling_steps"], String(steps))
        }
        XCTAssertNil(bytes(checkpoint), "the finished run's checkpoint is removed")
        XCTAssertEqual(try csvRows(dir.appendingPathComponent("s.loss.csv").path), 4 * 30, "the loss log has one row per step of the four rounds")
        XCTAssertNotNil(bytes(dir.appendingPathComponent("s.loss.png").path), "the loss curve is drawn")
        XCTAssertEqual(leftovers(dir), [], "no temporary file left after the resume")
        // The interrupted and resumed run equals one straight through, byte for byte.
        let straightOut = dir.appendingPathComponent("straight").path
        try FileManager.default.createDirectory(atPath: straightOut, withIntermediateDirectories: true)
        let straight = try CLI.run(Array(common.dropLast(2)) + ["--steps-per-round", "30", "--quiet", "-o", straightOut + "/s.safetensors"])
        XCTAssertEqual(straight.status, 0, straight.stderr)
        XCTAssertEqual(bytes(straightOut + "/s.safetensors"), bytes(out), "resumed student differs from the straight run's")

        let missing = dir.appendingPathComponent("missing")
        let r = try CLI.run(Array(common.dropLast(2)) + ["--steps-per-round", "1", "-o", missing.appendingPathComponent("s.safetensors").path])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("the directory \(missing.path) does not exist"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path))
    }
}
