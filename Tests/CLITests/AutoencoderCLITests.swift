import Foundation
import XCTest

/// `train-autoencoder` and `encode-latents` through the built binary: a tiny run, its resume, a
/// latent dataset read back with Python's safetensors (shapes, metadata naming the autoencoder,
/// the source's records; the values against the PyTorch twin where torch is installed), SIGINT and
/// SIGTERM keeping a checkpoint, and the messages for bad arguments and bad autoencoder files.
final class AutoencoderCLITests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-ae-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// A dataset of four captioned clips (4 frames of 16x16, two from each of two videos), made once for the class with ffmpeg
    /// and `extract`.
    nonisolated(unsafe) static var datasetResult: Result<String, FixtureError>?
    struct FixtureError: Error { let message: String }

    static let root = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-ae-cli-data-\(UUID().uuidString)")

    func dataset() throws -> String {
        if Self.datasetResult == nil { Self.datasetResult = Self.makeDataset() }
        switch Self.datasetResult! {
        case .success(let path): return path
        case .failure(let e):
            XCTFail("fixture: \(e.message)")
            throw e
        }
    }

    static func makeDataset() -> Result<String, FixtureError> {
        let clips = root.appendingPathComponent("clips")
        do {
            try FileManager.default.createDirectory(at: clips, withIntermediateDirectories: true)
            for (i, src) in ["testsrc2", "mandelbrot"].enumerated() {
                let path = clips.appendingPathComponent("c\(i).mp4").path
                let (status, _) = try Self.command(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "\(src)=size=64x64:rate=8", "-t", "2",
                                                    "-pix_fmt", "yuv420p", path])
                guard status == 0 else { return .failure(FixtureError(message: "ffmpeg could not make \(path)")) }
                try (i == 0 ? "a test pattern" : "a fractal zoom").write(toFile: clips.appendingPathComponent("c\(i).txt").path, atomically: true, encoding: .utf8)
            }
            let dataset = root.appendingPathComponent("ds").path
            let r = try CLI.run(["extract", clips.path, "-o", dataset, "--frames", "4", "--fps", "4", "--size", "16x16", "--quiet"])
            guard r.status == 0 else { return .failure(FixtureError(message: "extract: \(r.stderr)")) }
            return .success(dataset)
        } catch {
            return .failure(FixtureError(message: "\(error)"))
        }
    }

    override class func tearDown() {
        try? FileManager.default.removeItem(at: root)
        datasetResult = nil
    }

    /// Runs a program found on PATH; returns its status and stdout + stderr.
    @discardableResult
    static func command(_ args: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Whether `python3` can import `modules`.
    static func python(has modules: String) -> Bool { (try? command(["python3", "-c", "import \(modules)"]))?.status == 0 }

    func csvRows(_ path: String) throws -> Int {
        try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").count - 1
    }

    /// The tiny architecture and crops every run here uses.
    let tiny = ["--channels", "8,16,16", "--crop", "8", "--batch", "2"]

    // MARK: - The main job

    func testTrainResumeAndEncodeLatents() throws {
        let ds = try dataset()
        let ae = dir.appendingPathComponent("ae.safetensors").path
        let checkpoint = dir.appendingPathComponent("ae.ckpt.safetensors").path
        let log = dir.appendingPathComponent("ae.loss.csv").path
        var r = try CLI.run(["train-autoencoder", "--data", ds, "--steps", "3", "--checkpoint-every", "2", "-o", ae] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("train-autoencoder: 3 steps done") && r.stderr.contains("latent scale"), r.stderr)
        XCTAssertEqual(try csvRows(log), 3)
        for path in [ae, checkpoint, dir.appendingPathComponent("ae.loss.png").path] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: path), path)
        }
        // A resume ends where the checkpoint's run ends unless --extend moves the end.
        r = try CLI.run(["train-autoencoder", "--data", ds, "--steps", "5", "--checkpoint-every", "2", "--resume", "-o", ae] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("the checkpoint's run ends at step 3; pass --extend"), r.stderr)
        XCTAssertEqual(try csvRows(log), 3)
        r = try CLI.run(["train-autoencoder", "--data", ds, "--steps", "5", "--checkpoint-every", "2", "--resume", "--extend", "-q", "-o", ae] + tiny)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stderr, "", "-q prints nothing")
        XCTAssertEqual(try csvRows(log), 5)
        r = try CLI.run(["train-autoencoder", "--data", ds, "--steps", "5", "--resume", "-q", "--latent-channels", "8", "-o", ae] + tiny)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("trains 4 latent channels, not 8"), r.stderr)

        // encode-latents, in fp32: its values are compared with the fp32 PyTorch twin below.
        let latents = dir.appendingPathComponent("latents").path
        r = try CLI.run(["encode-latents", ds, "--autoencoder", ae, "--precision", "fp32", "-o", latents])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("4 clips in 1 shards") && r.stderr.contains("4x4x4x4 per clip"), r.stderr)
        let manifest = try String(contentsOfFile: latents + "/manifest.jsonl", encoding: .utf8)
        let source = try String(contentsOfFile: ds + "/manifest.jsonl", encoding: .utf8)
        XCTAssertEqual(manifest, source, "the same records, captions and order")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: latents).sorted(), ["manifest.jsonl", "shard-00000.safetensors"])

        guard Self.python(has: "safetensors, numpy") else { throw XCTSkip("python3 with safetensors and numpy is not installed: the latent files were not read back") }
        let script = """
        import hashlib, json, sys
        from safetensors import safe_open
        from safetensors.numpy import load_file
        ae, latents, ds = sys.argv[1:4]
        out = {}
        with safe_open(ae, "np") as f: aemeta = f.metadata()
        with safe_open(latents + "/shard-00000.safetensors", "np") as f: meta = f.metadata()
        x = load_file(latents + "/shard-00000.safetensors")["latents"]
        out["keys"] = sorted(load_file(latents + "/shard-00000.safetensors"))
        out["shape"] = list(x.shape); out["dtype"] = str(x.dtype); out["finite"] = bool((x == x).all())
        out["sha_ok"] = meta["t2v.autoencoder_sha256"] == hashlib.sha256(open(ae, "rb").read()).hexdigest()
        out["scale_ok"] = meta["t2v.latent_scale"] == aemeta["t2v.latent_scale"]
        out["config_ok"] = meta["t2v.autoencoder_config"] == aemeta["t2v.autoencoder_config"]
        out["step"] = aemeta["t2v.step"]
        out["config"] = json.loads(aemeta["t2v.autoencoder_config"])
        print(json.dumps(out))
        """
        let (status, output) = try Self.command(["python3", "-c", script, ae, latents, ds])
        XCTAssertEqual(status, 0, output)
        let info = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any], output)
        XCTAssertEqual(info["keys"] as? [String], ["latents"])
        XCTAssertEqual(info["shape"] as? [Int], [4, 4, 4, 4, 4])
        XCTAssertEqual(info["dtype"] as? String, "float32")
        XCTAssertEqual(info["finite"] as? Bool, true)
        XCTAssertEqual(info["sha_ok"] as? Bool, true, output)
        XCTAssertEqual(info["scale_ok"] as? Bool, true, output)
        XCTAssertEqual(info["config_ok"] as? Bool, true, output)
        XCTAssertEqual(info["step"] as? String, "5")
        XCTAssertEqual((info["config"] as? [String: Any])?["channels"] as? [Int], [8, 16, 16])

        // The values: the PyTorch twin's latents of the source clips.
        guard Self.python(has: "torch") else { throw XCTSkip("PyTorch is not installed: the latents were not compared with the twin") }
        let root = CLI.checkout
        let twin = """
        import sys; sys.path.insert(0, sys.argv[1])
        import numpy as np, torch
        from safetensors.numpy import load_file
        from t2v_twin.autoencoder import load_autoencoder
        model, _ = load_autoencoder(sys.argv[2])
        clips = load_file(sys.argv[3] + "/shard-00000.safetensors")["clips"]
        x = torch.tensor(clips.astype(np.float32) / 127.5 - 1).permute(0, 1, 4, 2, 3)
        with torch.no_grad(): z = model.latents(x).numpy()
        swift = load_file(sys.argv[4] + "/shard-00000.safetensors")["latents"]
        print(float(np.abs(z - swift).max()), float(np.abs(z).max()))
        """
        let (s2, o2) = try Self.command(["python3", "-c", twin, root.appendingPathComponent("python").path, ae, ds, latents])
        XCTAssertEqual(s2, 0, o2)
        let numbers = o2.split(whereSeparator: \.isWhitespace).compactMap { Double($0) }
        XCTAssertEqual(numbers.count, 2, o2)
        if numbers.count == 2 { XCTAssertLessThanOrEqual(numbers[0], 1e-5 + 1e-4 * numbers[1], "max |twin - swift|: \(o2)") }
    }

    // MARK: - Signals

    /// SIGINT and SIGTERM mid-run: exit 130 / 143 with a message naming the checkpoint and
    /// --resume; the checkpoint holds the step it stopped at; -o is not written; --resume finishes.
    func testSignalKeepsACheckpointThatResumes() throws {
        let ds = try dataset()
        for (sig, name) in [(SIGINT, "SIGINT"), (SIGTERM, "SIGTERM")] {
            let out = dir.appendingPathComponent("ae-\(name).safetensors").path
            let checkpoint = dir.appendingPathComponent("ae-\(name).ckpt.safetensors").path
            let child = try GeneratorFaultTests.Child(["train-autoencoder", "--data", ds, "--steps", "100000", "--checkpoint-every", "100000", "-o", out] + tiny)
            let deadline = Date().addingTimeInterval(180)
            while child.process.isRunning && !child.stderr.contains("train-autoencoder: 1/") && Date() < deadline { usleep(2000) }
            XCTAssertTrue(child.process.isRunning, "\(name): still running when the signal is sent: \(child.stderr)")
            kill(child.process.processIdentifier, sig)
            XCTAssertTrue(child.waitForExit(seconds: 180), "\(name): stopped after the signal: \(child.stderr)")
            XCTAssertEqual(child.process.terminationReason, .exit, "\(name): a clean exit, not death by the signal")
            XCTAssertEqual(child.process.terminationStatus, 128 + sig, "\(name): \(child.stderr)")
            let stderr = child.stderr
            XCTAssertTrue(stderr.contains("checkpoint saved to \(checkpoint)") && stderr.contains("--resume"), "\(name): \(stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(name): -o is written only when the run completes")
            let after = try XCTUnwrap(stderr.range(of: "interrupted at step "), stderr).upperBound
            let step = try XCTUnwrap(Int(String(stderr[after...].prefix { $0.isNumber })), stderr)
            let r = try CLI.run(["train-autoencoder", "--data", ds, "--steps", String(step + 1), "--resume", "-q", "-o", out] + tiny)
            XCTAssertEqual(r.status, 0, "\(name): resume: \(r.stderr)")
            XCTAssertTrue(FileManager.default.fileExists(atPath: out), "\(name): -o written after the resumed run")
            let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix(".") && $0.contains("tmp") }
            XCTAssertEqual(leftovers, [], "\(name): no temporary file left")
        }
    }

    // MARK: - Messages

    func testHelpAndUsageErrors() throws {
        let help = try CLI.run(["--help"])
        let text = String(decoding: help.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("train-autoencoder") && text.contains("encode-latents"), text)
        var r = try CLI.run(["train-autoencoder", "--help"])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(String(decoding: r.stdout, as: UTF8.self).contains("--latent-channels"))
        let o = dir.appendingPathComponent("ae.safetensors").path
        r = try CLI.run(["train-autoencoder", "--data", "x", "-o", o, "--latent-channels", "5"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--latent-channels must be 4 or 8"), r.stderr)
        r = try CLI.run(["train-autoencoder", "--data", "x", "-o", o, "--channels", "32,,64"])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("--channels must be positive integers separated by commas"), r.stderr)
        r = try CLI.run(["encode-latents", dir.path, "--autoencoder", o, "-o", dir.path + "/."])
        XCTAssertEqual(r.status, 2)
        XCTAssertTrue(r.stderr.contains("-o must be another folder than the dataset"), r.stderr)

        let ds = try dataset()
        r = try CLI.run(["train-autoencoder", "--data", ds, "-o", o, "--steps", "1", "--channels", "8,16,16", "--crop", "32"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("crop 32 is larger than the 16x16 frames; use a crop of at most 16"), r.stderr)
        r = try CLI.run(["train-autoencoder", "--data", ds, "-o", o, "--steps", "1", "--channels", "8,16,16", "--crop", "6"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("crop 6 must be a multiple of the autoencoder's downsampling factor 4"), r.stderr)
        r = try CLI.run(["train-autoencoder", "--data", ds, "-o", o, "--steps", "1", "--channels", "12,16"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("level 0 has 12 channels, not divisible by 8 groups"), r.stderr)
        r = try CLI.run(["train-autoencoder", "--data", dir.path + "/missing", "-o", o, "--steps", "1"])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("missing") && r.stderr.contains("extract"), r.stderr)
    }

    func testBadAutoencoderFilesAreNamed() throws {
        let ds = try dataset()
        let latents = dir.appendingPathComponent("latents").path
        // Not a safetensors file.
        let text = dir.appendingPathComponent("notes.safetensors").path
        try "not a model".write(toFile: text, atomically: true, encoding: .utf8)
        var r = try CLI.run(["encode-latents", ds, "--autoencoder", text, "-o", latents])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("--autoencoder") && r.stderr.contains(text) && r.stderr.contains("train-autoencoder"), r.stderr)
        // Missing.
        let missing = dir.appendingPathComponent("none.safetensors").path
        r = try CLI.run(["encode-latents", ds, "--autoencoder", missing, "-o", latents])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains(missing), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: latents), "nothing written for a bad autoencoder")

        // A denoiser-style file (its metadata names a denoiser configuration), written by Python.
        guard Self.python(has: "safetensors, numpy") else { throw XCTSkip("python3 with safetensors is not installed") }
        let denoiser = dir.appendingPathComponent("denoiser.safetensors").path
        let (status, output) = try Self.command(["python3", "-c", """
            import sys, numpy as np
            from safetensors.numpy import save_file
            save_file({"convIn.weight": np.zeros((8, 3, 3, 3), np.float32)}, sys.argv[1], metadata={"t2v.denoiser_config": "{}"})
            """, denoiser])
        XCTAssertEqual(status, 0, output)
        r = try CLI.run(["encode-latents", ds, "--autoencoder", denoiser, "-o", latents])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains(denoiser) && r.stderr.contains("denoiser checkpoint"), r.stderr)
    }
}
