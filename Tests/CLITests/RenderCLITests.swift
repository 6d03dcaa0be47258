import Foundation
import XCTest

/// `render`, `train` and `distill` end to end with a tiny model trained in the test on clips
/// made by the ffmpeg CLI. Oracles: ffprobe (streams, metadata), sha256sum (model hash).
final class RenderCLITests: XCTestCase {
    static var fixture: CLIFixture!
    static var root: URL { fixture.root }
    static var model: String { fixture.path("tiny.safetensors") }

    /// Shell helper for oracles.
    @discardableResult
    static func sh(_ args: [String]) throws -> (Int32, String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.nullDevice
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// One dataset and one tiny model (2 training steps) shared by the tests.
    override class func setUp() {
        fixture = CLIFixture(name: "t2v-render-cli", clips: [("testsrc2", "a test pattern"), ("mandelbrot", "a fractal zoom")],
                             size: 64, seconds: 2) { f in
            [["extract", f.path("clips"), "-o", f.path("ds"), "--frames", "4", "--fps", "4", "--size", "16x16", "--quiet"],
             ["train", "--data", f.path("ds"), "--config", "tiny", "--steps", "2", "--batch", "2", "--quiet", "-o", f.path("tiny.safetensors")]]
        }
    }

    override class func tearDown() { fixture.remove() }

    override func setUpWithError() throws { try Self.fixture.check() }

    var root: URL { Self.root }

    func render(_ extra: [String], output: String) throws -> (status: Int32, stdout: Data, stderr: String) {
        try CLI.run(["--prompt", "a test pattern", "--model", Self.model, "-o", output, "--quiet", "--size", "64x64"] + extra)
    }

    func testRenderWritesTaggedH264WithMetadataAndIsReproducible() throws {
        let a = root.appendingPathComponent("a.mp4").path, b = root.appendingPathComponent("b.mp4").path
        let c = root.appendingPathComponent("c.mp4").path
        XCTAssertEqual(try render(["--seed", "7", "--steps", "3"], output: a).status, 0)
        XCTAssertEqual(try render(["--seed", "7", "--steps", "3"], output: b).status, 0)
        XCTAssertEqual(try render(["--seed", "8", "--steps", "3"], output: c).status, 0)
        let da = try Data(contentsOf: URL(fileURLWithPath: a))
        XCTAssertEqual(da, try Data(contentsOf: URL(fileURLWithPath: b)), "same seed and settings give a byte-identical file")
        XCTAssertNotEqual(da, try Data(contentsOf: URL(fileURLWithPath: c)), "another seed gives another video")

        let (_, probe) = try Self.sh(["ffprobe", "-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", a])
        let json = try JSONSerialization.jsonObject(with: Data(probe.utf8)) as! [String: Any]
        let stream = (json["streams"] as! [[String: Any]])[0]
        XCTAssertEqual(stream["codec_name"] as? String, "h264")
        XCTAssertEqual(stream["pix_fmt"] as? String, "yuv420p")
        XCTAssertEqual(stream["width"] as? Int, 64)
        XCTAssertEqual(stream["nb_read_frames"] as? String, "4", "the tiny model's native frame count")
        XCTAssertEqual(stream["color_space"] as? String, "bt709")
        let tags = (json["format"] as! [String: Any])["tags"] as! [String: String]
        XCTAssertEqual(tags["title"], "a test pattern")
        let comment = tags["comment"] ?? ""
        let (_, sum) = try Self.sh(["sha256sum", Self.model])
        let hash = String(sum.prefix(64))
        for expected in ["prompt=a test pattern", "seed=7", "steps=3", "sampler=ddim", "guidance=3.0", "model_sha256=\(hash)"] {
            XCTAssertTrue(comment.contains(expected), "metadata comment '\(comment)' lacks \(expected)")
        }
    }

    func testGuidanceOneSamplersFramesAndPipe() throws {
        let out = root.appendingPathComponent("g.webm").path
        var r = try render(["--guidance", "1", "--sampler", "dpmpp", "--steps", "2", "--frames", "6", "--json"], output: out)
        XCTAssertEqual(r.status, 0, r.stderr)
        let summary = try JSONSerialization.jsonObject(with: r.stdout) as! [String: Any]
        XCTAssertEqual(summary["frames"] as? Int, 6, "any frame count: the temporal bias is relative")
        let (_, codec) = try Self.sh(["ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "csv=p=0", out])
        XCTAssertEqual(codec.trimmingCharacters(in: .whitespacesAndNewlines), "vp9")
        // Clamping the predicted clean frames (DDIM).
        let clipped = root.appendingPathComponent("clip.mp4").path
        r = try render(["--clip-sample", "1", "--steps", "2", "--frames", "4"], output: clipped)
        XCTAssertEqual(r.status, 0, r.stderr)
        let (_, clipComment) = try Self.sh(["ffprobe", "-v", "error", "-show_entries", "format_tags=comment", "-of", "csv=p=0", clipped])
        XCTAssertTrue(clipComment.contains("clip_sample=1.0"), "the clamp is part of the settings in the metadata: \(clipComment)")
        // DDIM's eta: stochastic steps, reproducible from the seed, in the metadata.
        let (eta1, eta2, eta0) = (root.appendingPathComponent("eta1.mp4").path, root.appendingPathComponent("eta2.mp4").path,
                                  root.appendingPathComponent("eta0.mp4").path)
        for (path, eta) in [(eta1, "1"), (eta2, "1"), (eta0, "0")] {
            r = try render(["--eta", eta, "--steps", "3", "--frames", "4"], output: path)
            XCTAssertEqual(r.status, 0, r.stderr)
        }
        XCTAssertEqual(FileManager.default.contents(atPath: eta1), FileManager.default.contents(atPath: eta2))
        XCTAssertNotEqual(FileManager.default.contents(atPath: eta1), FileManager.default.contents(atPath: eta0))
        let (_, etaComment) = try Self.sh(["ffprobe", "-v", "error", "-show_entries", "format_tags=comment", "-of", "csv=p=0", eta1])
        XCTAssertTrue(etaComment.contains("eta=1.0"), etaComment)
        // -o - streams NUT into ffmpeg.
        r = try CLI.run(["--prompt", "a fractal zoom", "--model", Self.model, "-o", "-", "--quiet", "--steps", "2", "--sampler", "ddpm"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let nut = root.appendingPathComponent("pipe.nut")
        try r.stdout.write(to: nut)
        let (_, frames) = try Self.sh(["ffprobe", "-v", "error", "-count_frames", "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0", nut.path])
        XCTAssertEqual(frames.trimmingCharacters(in: .whitespacesAndNewlines), "4")
    }

    func testBadInputsGiveClearErrors() throws {
        let out = root.appendingPathComponent("bad.mp4").path
        var r = try CLI.run(["--prompt", "  ", "-o", out])
        XCTAssertEqual(r.status, 2); XCTAssertTrue(r.stderr.contains("--prompt is empty"), r.stderr)
        r = try CLI.run(["--prompt", "x", "--frames", "0", "-o", out])
        XCTAssertEqual(r.status, 2); XCTAssertTrue(r.stderr.contains("--frames"), r.stderr)
        r = try CLI.run(["--prompt", "x", "--size", "12", "-o", out])
        XCTAssertEqual(r.status, 2); XCTAssertTrue(r.stderr.contains("--size"), r.stderr)
        // Encoder options are refused before the denoise (1000 steps would take minutes).
        r = try CLI.run(["--prompt", "x", "--model", Self.model, "--steps", "1000", "--crf", "99", "-o", out])
        XCTAssertEqual(r.status, 1); XCTAssertTrue(r.stderr.contains("crf 99 is out of range 0...51 for h264"), r.stderr)
        r = try CLI.run(["--prompt", "x", "--model", Self.model, "--steps", "1000", "--format", "png", "-o", out])
        XCTAssertEqual(r.status, 1); XCTAssertTrue(r.stderr.contains("a PNG sequence needs a frame-number pattern"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out))
        // A negative number is a value (refused by the range check), not a missing one.
        r = try CLI.run(["--prompt", "x", "--guidance", "-1", "-o", out])
        XCTAssertEqual(r.status, 2); XCTAssertTrue(r.stderr.contains("--guidance must be in 0...50, got -1"), r.stderr)
        r = try CLI.run(["distill", "--teacher", "t", "--data", "d", "--guidance", "-2", "-o", out])
        XCTAssertEqual(r.status, 2); XCTAssertTrue(r.stderr.contains("--guidance must be in 1...50, got -2"), r.stderr)
        // One strict WxH parser for render, encode and extract: trailing or missing parts are refused.
        for size in ["16x16x", "16x", "x16", "+16x16", "16x16x16", "16 x16"] {
            for args in [["--prompt", "x", "--size", size, "-o", out], ["encode", "--size", size, "-i", "-", "-o", out],
                         ["extract", "x", "-o", "y", "--size", size]] {
                r = try CLI.run(args)
                XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)"); XCTAssertTrue(r.stderr.contains("--size"), "\(args): \(r.stderr)")
            }
        }
        r = try CLI.run(["--prompt", "x", "--model", Self.model, "--sampler", "dpmpp", "--clip-sample", "1", "-o", out])
        XCTAssertEqual(r.status, 1); XCTAssertTrue(r.stderr.contains("clip-sample works with the ddim and ddpm samplers"), r.stderr)
        r = try CLI.run(["--prompt", "x", "--eta", "-0.5", "-o", out])
        XCTAssertEqual(r.status, 2); XCTAssertTrue(r.stderr.contains("--eta must be in 0...10, got -0.5"), r.stderr)
        r = try CLI.run(["--prompt", "x", "--guidance-rescale", "1.5", "-o", out])
        XCTAssertEqual(r.status, 2); XCTAssertTrue(r.stderr.contains("--guidance-rescale must be in 0...1, got 1.5"), r.stderr)
        r = try CLI.run(["--prompt", "x", "--guidance-interval", "700-300", "-o", out])
        XCTAssertEqual(r.status, 2); XCTAssertTrue(r.stderr.contains("--guidance-interval must be FIRST:LAST"), r.stderr)
        r = try CLI.run(["--prompt", "x", "--sampler", "ddpm", "--eta", "1", "-o", out])
        XCTAssertEqual(r.status, 2); XCTAssertTrue(r.stderr.contains("--eta applies to the ddim sampler"), r.stderr)
        r = try CLI.run(["--prompt", "x", "--model", Self.model, "--clip-sample", "0", "-o", out])
        XCTAssertEqual(r.status, 1); XCTAssertTrue(r.stderr.contains("clip-sample must be a positive number"), r.stderr)
        r = try CLI.run(["--prompt", "x", "--model", root.appendingPathComponent("none.safetensors").path, "-o", out])
        XCTAssertEqual(r.status, 1); XCTAssertTrue(r.stderr.contains("does not exist"), r.stderr)
        // A weights file whose stored config does not match its tensors.
        let broken = root.appendingPathComponent("broken.safetensors").path
        let script = """
        import sys, json
        from safetensors.numpy import load_file, save_file
        from safetensors import safe_open
        with safe_open(sys.argv[1], "np") as f: meta = f.metadata()
        t = load_file(sys.argv[1])
        c = json.loads(meta["t2v.denoiser_config"]); c["baseChannels"] = 24
        meta["t2v.denoiser_config"] = json.dumps(c)
        save_file(t, sys.argv[2], metadata=meta)
        """
        XCTAssertEqual(try Self.sh(["python3", "-c", script, Self.model, broken]).0, 0)
        r = try CLI.run(["--prompt", "x", "--model", broken, "-o", out])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("broken.safetensors"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "nothing written on failure")
        // A size the model cannot make is upscaled, never refused; a frame count is any positive number.
        r = try render(["--size", "30x18", "--steps", "1"], output: root.appendingPathComponent("odd.mkv").path)
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    /// `train --init`: a new run starts from a trained model's weights, also at another resolution
    /// (the 16x16 model continues on 32x32 clips). Oracle: the safetensors package reads both files;
    /// at a vanishing learning rate the exported weights equal the starting ones, which a random
    /// start (the test's failure mode) would not. A --config that adds cross-attention keeps every
    /// starting weight and adds only the new blocks; one that changes the architecture is refused.
    func testTrainInitStartsFromWeightsAtAnotherResolution() throws {
        let ds32 = root.appendingPathComponent("ds32").path
        var r = try CLI.run(["extract", root.appendingPathComponent("clips").path, "-o", ds32,
                             "--frames", "4", "--fps", "4", "--size", "32x32", "--quiet"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = root.appendingPathComponent("init32.safetensors").path
        r = try CLI.run(["train", "--data", ds32, "--init", Self.model, "--steps", "2", "--batch", "1", "--lr", "1e-30",
                         "--seed", "99", "--quiet", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let script = """
        import sys, json
        from safetensors import safe_open
        with safe_open(sys.argv[1], 'np') as a, safe_open(sys.argv[2], 'np') as b:
            assert sorted(a.keys()) == sorted(b.keys()), 'different tensors'
            diff = max(float(abs(a.get_tensor(k) - b.get_tensor(k)).max()) for k in a.keys())
            print(diff, json.loads(b.metadata()['t2v.denoiser_config'])['resolution'])
        """
        let (status, text) = try Self.sh(["python3", "-c", script, Self.model, out])
        XCTAssertEqual(status, 0, text)
        let fields = text.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertEqual(fields.count, 2, text)
        XCTAssertLessThan(Double(fields[0]) ?? 1, 1e-6, "weights moved from the --init file: \(text)")
        XCTAssertEqual(fields.last, "32", "the run trains at the dataset's resolution")

        // Misuse gets a clear message.
        r = try CLI.run(["train", "--data", ds32, "--init", Self.model, "--resume", "--steps", "2", "-o", out])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("--init starts a new run"), r.stderr)
        r = try CLI.run(["train", "--data", ds32, "--init", Self.model, "--no-temporal", "--steps", "2", "-o", out])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("does not apply with --init"), r.stderr)
        // --config with --init may only add zero-started modules; another architecture is named.
        let wide = root.appendingPathComponent("wide.json").path, xattn = root.appendingPathComponent("xattn.json").path
        let configs = """
        import sys, json
        from safetensors import safe_open
        with safe_open(sys.argv[1], 'np') as f: c = json.loads(f.metadata()['t2v.denoiser_config'])
        json.dump(dict(c, baseChannels=2 * c['baseChannels']), open(sys.argv[2], 'w'))
        json.dump(dict(c, crossAttention=True), open(sys.argv[3], 'w'))
        """
        let (made, madeText) = try Self.sh(["python3", "-c", configs, Self.model, wide, xattn])
        XCTAssertEqual(made, 0, madeText)
        r = try CLI.run(["train", "--data", ds32, "--init", Self.model, "--config", wide, "--steps", "2", "--quiet", "-o", out])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("baseChannels") && r.stderr.contains("only crossAttention, temporalConvolution, temporalConditioning and temporalPositions may be added"), r.stderr)
        let grown = root.appendingPathComponent("grown.safetensors").path
        r = try CLI.run(["train", "--data", ds32, "--init", Self.model, "--config", xattn, "--steps", "2", "--batch", "1",
                         "--lr", "1e-30", "--quiet", "-o", grown])
        XCTAssertEqual(r.status, 0, r.stderr)
        let kept = """
        import sys, json
        from safetensors import safe_open
        with safe_open(sys.argv[1], 'np') as a, safe_open(sys.argv[2], 'np') as b:
            added = sorted(set(b.keys()) - set(a.keys()))
            assert set(a.keys()) <= set(b.keys()), 'weights lost'
            assert added and all('rossAttention' in k for k in added), added
            diff = max(float(abs(a.get_tensor(k) - b.get_tensor(k)).max()) for k in a.keys())
            assert diff < 1e-6, diff
            assert json.loads(b.metadata()['t2v.denoiser_config'])['crossAttention'] is True
        print('ok')
        """
        let (keptStatus, keptText) = try Self.sh(["python3", "-c", kept, Self.model, grown])
        XCTAssertEqual(keptStatus, 0, keptText)
        let notModel = root.appendingPathComponent("clips/c0.txt").path
        r = try CLI.run(["train", "--data", ds32, "--init", notModel, "--steps", "2", "--quiet", "-o", out])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("--init") && r.stderr.contains("c0.txt"), r.stderr)
    }

    /// `train --text-noise`: stored in the checkpoint (and so in the run's settings), a resume
    /// that would change it is refused, out-of-range values are refused before any work.
    func testTrainTextNoiseIsKeptAcrossResume() throws {
        let out = root.appendingPathComponent("tn.safetensors").path
        let ds = root.appendingPathComponent("ds").path
        var r = try CLI.run(["train", "--data", ds, "--config", "tiny", "--steps", "2", "--batch", "1", "--text-noise", "0.5", "--quiet", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let script = "import sys, json; from safetensors import safe_open\nwith safe_open(sys.argv[1], 'np') as f: print(json.loads(f.metadata()['t2v.training_config'])['textNoise'])"
        let ckpt = root.appendingPathComponent("tn.ckpt.safetensors").path
        let (status, stored) = try Self.sh(["python3", "-c", script, ckpt])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(stored.trimmingCharacters(in: .whitespacesAndNewlines), "0.5")
        r = try CLI.run(["train", "--data", ds, "--steps", "3", "--resume", "--extend", "--text-noise", "1", "--quiet", "-o", out])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("trains with --text-noise 0.5, not 1.0"), r.stderr)
        r = try CLI.run(["train", "--data", ds, "--steps", "3", "--resume", "--extend", "--quiet", "-o", out])
        XCTAssertEqual(r.status, 0, "a resume without the flag keeps the checkpoint's: \(r.stderr)")
        r = try CLI.run(["train", "--data", ds, "--steps", "2", "--text-noise", "11", "-o", out])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("--text-noise must be in 0...10"), r.stderr)
    }

    /// Joint image-video training is `train`'s default recipe: half of each batch's clip slots
    /// hold single frames unless `--image-fraction 0` (or `--no-temporal`, which has no temporal
    /// stream to spare) says otherwise; a resume keeps what the checkpoint trains with.
    func testTrainDefaultsToJointImageVideoTraining() throws {
        let ds = root.appendingPathComponent("ds").path
        let script = "import sys, json; from safetensors import safe_open\nwith safe_open(sys.argv[1], 'np') as f: print(json.loads(f.metadata()['t2v.training_config']).get('imageFraction'))"
        func stored(_ name: String) throws -> String {
            let (status, text) = try Self.sh(["python3", "-c", script, root.appendingPathComponent("\(name).ckpt.safetensors").path])
            XCTAssertEqual(status, 0, text)
            return text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let runs: [(name: String, flags: [String], fraction: String)] = [
            ("joint", [], "0.5"), ("clips", ["--image-fraction", "0"], "None"),
            ("quarter", ["--image-fraction", "0.25"], "0.25"), ("spatial", ["--no-temporal"], "None")]
        for run in runs {
            let out = root.appendingPathComponent("\(run.name).safetensors").path
            let r = try CLI.run(["train", "--data", ds, "--config", "tiny", "--steps", "2", "--batch", "2", "--quiet", "-o", out] + run.flags)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertEqual(try stored(run.name), run.fraction, run.name)
        }
        // A run trained on clips only resumes as one: the default applies to new runs.
        let clips = root.appendingPathComponent("clips.safetensors").path
        var r = try CLI.run(["train", "--data", ds, "--steps", "3", "--resume", "--extend", "--quiet", "-o", clips])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try stored("clips"), "None")
        r = try CLI.run(["train", "--data", ds, "--steps", "4", "--resume", "--extend", "--image-fraction", "0.5", "--quiet", "-o", clips])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("trains with --image-fraction 0.0, not 0.5"), r.stderr)
        r = try CLI.run(["train", "--data", ds, "--steps", "2", "--no-temporal", "--image-fraction", "0.5", "-o", clips])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("--no-temporal has none"), r.stderr)
    }

    /// `--high-noise-fraction` and `--high-noise-from`: stored in the checkpoint, kept by a resume
    /// (another value is refused), validated before the data loads.
    func testTrainHighNoiseFractionIsStoredAndChecked() throws {
        let ds = root.appendingPathComponent("ds").path
        let out = root.appendingPathComponent("high.safetensors").path
        var r = try CLI.run(["train", "--data", ds, "--config", "tiny", "--steps", "2", "--batch", "2", "--quiet",
                             "--high-noise-fraction", "0.5", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let script = "import sys, json; from safetensors import safe_open\nwith safe_open(sys.argv[1], 'np') as f: c = json.loads(f.metadata()['t2v.training_config']); print(c.get('highNoiseFraction'), c.get('highNoiseFrom'))"
        let (status, text) = try Self.sh(["python3", "-c", script, root.appendingPathComponent("high.ckpt.safetensors").path])
        XCTAssertEqual(status, 0, text)
        XCTAssertEqual(text.trimmingCharacters(in: .whitespacesAndNewlines), "0.5 0.9")
        r = try CLI.run(["train", "--data", ds, "--steps", "3", "--resume", "--extend", "--high-noise-fraction", "0.25", "--quiet", "-o", out])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("trains with --high-noise-fraction 0.5"), r.stderr)
        for (flags, message) in [(["--high-noise-fraction", "1.5"], "--high-noise-fraction must be in 0...1"),
                                 (["--high-noise-from", "0.8"], "--high-noise-from applies with --high-noise-fraction"),
                                 (["--high-noise-fraction", "0.5", "--high-noise-from", "1"], "--high-noise-from must be in [0, 1)")] {
            r = try CLI.run(["train", "--data", "/nonexistent", "--steps", "2", "-o", out] + flags)
            XCTAssertEqual(r.status, 2, r.stderr)
            XCTAssertTrue(r.stderr.contains(message), r.stderr)
        }
    }

    /// `--precision`: recorded in the checkpoint and the exported model, kept by a resume
    /// (an explicit other value is refused), forced to fp32 by T2V_PRECISION=fp32, and a bad
    /// T2V_PRECISION is refused before any work.
    func testTrainRecordsThePrecisionAndResumeKeepsIt() throws {
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let out = root.appendingPathComponent("bf.safetensors").path
        let ds = root.appendingPathComponent("ds").path
        let ckpt = root.appendingPathComponent("bf.ckpt.safetensors").path
        let meta = "import sys, json; from safetensors import safe_open\nwith safe_open(sys.argv[1], 'np') as f: m = f.metadata()\n"
            + "print(json.loads(m['t2v.training_config']).get('precision', 'fp32') if sys.argv[2] == 'config' else m[sys.argv[2]])"
        func stored(_ path: String, _ key: String) throws -> String {
            try Self.sh(["python3", "-c", meta, path, key]).1.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        guard cpuinfo.contains("avx512_bf16") else {
            let r = try CLI.run(["train", "--data", ds, "--config", "tiny", "--steps", "1", "--precision", "bf16", "-o", out])
            XCTAssertEqual(r.status, 1, r.stderr)
            XCTAssertTrue(r.stderr.contains("AVX512_BF16"), r.stderr)
            throw XCTSkip("this CPU lacks AVX512_BF16: only the refusal was checked")
        }
        var r = try CLI.run(["train", "--data", ds, "--config", "tiny", "--steps", "2", "--batch", "1", "--precision", "bf16", "--quiet", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try stored(ckpt, "config"), "bf16")
        XCTAssertEqual(try stored(out, "t2v.precision"), "bf16")
        r = try CLI.run(["train", "--data", ds, "--steps", "3", "--resume", "--extend", "--precision", "fp32", "--quiet", "-o", out])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("trains in bf16, not --precision fp32"), r.stderr)
        r = try CLI.run(["train", "--data", ds, "--steps", "3", "--resume", "--extend", "--quiet", "-o", out])
        XCTAssertEqual(r.status, 0, "a resume without the flag keeps the checkpoint's: \(r.stderr)")
        XCTAssertEqual(try stored(ckpt, "config"), "bf16")
        // The environment forces fp32; a new fp32 run records nothing (its JSON is as before).
        var env = ProcessInfo.processInfo.environment
        env["T2V_PRECISION"] = "fp32"
        let plain = root.appendingPathComponent("fp.safetensors").path
        r = try CLI.run(["train", "--data", ds, "--config", "tiny", "--steps", "1", "--batch", "1", "--quiet", "-o", plain], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try stored(plain, "t2v.precision"), "fp32")
        XCTAssertEqual(try stored(root.appendingPathComponent("fp.ckpt.safetensors").path, "config"), "fp32")
        // With neither, a new run trains in bf16 on this CPU (the default where AVX512_BF16 is present).
        env["T2V_PRECISION"] = nil
        let automatic = root.appendingPathComponent("auto.safetensors").path
        r = try CLI.run(["train", "--data", ds, "--config", "tiny", "--steps", "1", "--batch", "1", "--quiet", "-o", automatic], environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(try stored(automatic, "t2v.precision"), "bf16")
        env["T2V_PRECISION"] = "half"
        r = try CLI.run(["train", "--data", ds, "--config", "tiny", "--steps", "1", "-o", plain], environment: env)
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("T2V_PRECISION=half: expected fp32 or bf16"), r.stderr)
        r = try CLI.run(["--prompt", "a test pattern", "--model", out, "-o", out + ".mp4", "--json", "--quiet", "--precision", "bf16"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let summary = try JSONSerialization.jsonObject(with: r.stdout) as! [String: Any]
        XCTAssertEqual(summary["precision"] as? String, "bf16")
    }

    /// A model with cross-attention to the prompt's tokens trains, distils and renders from the CLI.
    func testCrossAttentionModelTrainsDistilsAndRenders() throws {
        let ds = root.appendingPathComponent("ds").path
        let config = root.appendingPathComponent("xattn.json")
        try Data(#"{"baseChannels": 16, "channelMultipliers": [1, 2], "heads": 2, "groups": 4, "crossAttention": true}"#.utf8).write(to: config)
        let out = root.appendingPathComponent("xattn.safetensors").path
        var r = try CLI.run(["train", "--data", ds, "--config", config.path, "--steps", "2", "--batch", "2", "--quiet", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let student = root.appendingPathComponent("xattn-student.safetensors").path
        r = try CLI.run(["distill", "--teacher", out, "--data", ds, "--from-steps", "4", "--to-steps", "2", "--steps-per-round", "1",
                         "--batch", "1", "--guidance", "2", "--quiet", "-o", student])
        XCTAssertEqual(r.status, 0, r.stderr)
        for model in [out, student] {
            r = try CLI.run(["--prompt", "a red ball bouncing", "--model", model, "-o", model + ".mp4", "--quiet", "--steps", "2",
                             "--guidance", "2"])
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertTrue(FileManager.default.fileExists(atPath: model + ".mp4"))
        }
        // The ablation of a config with the temporal convolution drops it with the temporal stream.
        let tconv = root.appendingPathComponent("tconv.json")
        try Data(#"{"baseChannels": 16, "channelMultipliers": [1, 2], "heads": 2, "groups": 4, "temporalConvolution": true}"#.utf8).write(to: tconv)
        r = try CLI.run(["train", "--data", ds, "--config", tconv.path, "--no-temporal", "--steps", "1", "--batch", "1", "--quiet",
                         "-o", root.appendingPathComponent("ablation.safetensors").path])
        XCTAssertEqual(r.status, 0, r.stderr)
    }

    func testTrainResumesAndDistillStoresSteps() throws {
        let out = root.appendingPathComponent("m.safetensors").path
        let ds = root.appendingPathComponent("ds").path
        var r = try CLI.run(["train", "--data", ds, "--config", "tiny", "--steps", "4", "--batch", "1", "--checkpoint-every", "1", "--quiet", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        let csv = try String(contentsOfFile: root.appendingPathComponent("m.loss.csv").path, encoding: .utf8)
        XCTAssertEqual(csv.split(separator: "\n").count, 5, "header + 4 steps: \(csv)")
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("m.loss.png").path))
        // Continue the same run to 6 steps: the log keeps its first 4 rows.
        r = try CLI.run(["train", "--data", ds, "--config", "tiny", "--steps", "4", "--batch", "1", "--quiet", "--resume", "-o", out])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CLI.run(["train", "--data", ds, "--steps", "4", "--resume", "--quiet", "-o", root.appendingPathComponent("other.safetensors").path])
        XCTAssertEqual(r.status, 1, "no checkpoint for that output")
        XCTAssertTrue(r.stderr.contains("no checkpoint"), r.stderr)

        /// Distils `out` 4 -> 2 steps into `path` with `extra` flags; returns the student's metadata
        /// value for `key` (read by the safetensors package) and `render --json`'s summary with it.
        func distilled(_ path: String, _ extra: [String], key: String) throws -> (String, [String: Any]) {
            let d = try CLI.run(["distill", "--teacher", out, "--data", ds, "--from-steps", "4", "--to-steps", "2", "--steps-per-round", "1",
                                 "--batch", "1", "--quiet", "-o", path] + extra)
            XCTAssertEqual(d.status, 0, d.stderr)
            let script = "import sys; from safetensors import safe_open\nwith safe_open(sys.argv[1], 'np') as f: print(f.metadata()[sys.argv[2]])"
            let value = try Self.sh(["python3", "-c", script, path, key]).1.trimmingCharacters(in: .whitespacesAndNewlines)
            let rendered = try CLI.run(["--prompt", "a test pattern", "--model", path, "-o", path + ".mp4", "--json", "--quiet"])
            XCTAssertEqual(rendered.status, 0, rendered.stderr)
            return (value, try JSONSerialization.jsonObject(with: rendered.stdout) as! [String: Any])
        }
        let student = root.appendingPathComponent("s.safetensors").path
        let (steps, summary) = try distilled(student, [], key: "t2v.sampling_steps")
        XCTAssertEqual(steps, "2")
        XCTAssertEqual(summary["steps"] as? Int, 2, "a student samples with its own step count by default")
        XCTAssertEqual(summary["guidance"] as? Double, 3, "an unguided student keeps guidance 3 by default")
        r = try CLI.run(["distill", "--teacher", out, "--data", ds, "--from-steps", "6", "--to-steps", "4", "-o", student])
        XCTAssertEqual(r.status, 2, "6 is not 4 times a power of two")

        // Guided distillation: the student stores the scale and samples without guidance by default.
        let guided = root.appendingPathComponent("g.safetensors").path
        let (scale, guidedSummary) = try distilled(guided, ["--guidance", "2.5"], key: "t2v.distilled_guidance")
        XCTAssertEqual(scale, "2.5")
        XCTAssertEqual(guidedSummary["guidance"] as? Double, 1, "a guided student samples its conditional branch alone by default")
        // A negative prompt needs guidance above 1: a clear error, not a silently ignored prompt.
        r = try CLI.run(["--prompt", "a test pattern", "--negative-prompt", "blur", "--model", guided, "-o", root.appendingPathComponent("n.mp4").path])
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("negative prompt") && r.stderr.contains("guidance 2.5 distilled")
                      && r.stderr.contains("use guidance above 1"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("n.mp4").path))
        r = try CLI.run(["distill", "--teacher", out, "--data", ds, "--guidance", "0.5", "-o", guided])
        XCTAssertEqual(r.status, 2, "guidance below 1 is refused")
        XCTAssertTrue(r.stderr.contains("--guidance"), r.stderr)

        // A guidance stage first (Meng et al. stage 1), with the annealed rate: the stage's guided
        // 4-step student is written beside the final 2-step one, both carrying the scale.
        let staged = root.appendingPathComponent("st.safetensors").path
        let (stagedScale, stagedSummary) = try distilled(staged, ["--guidance", "2", "--guidance-steps", "1", "--lr-schedule", "linear"],
                                                         key: "t2v.distilled_guidance")
        XCTAssertEqual(stagedScale, "2.0")
        XCTAssertEqual(stagedSummary["steps"] as? Int, 2)
        let stageStudent = root.appendingPathComponent("st-4steps.safetensors").path
        let script = "import sys; from safetensors import safe_open\nwith safe_open(sys.argv[1], 'np') as f: m = f.metadata(); print(m['t2v.sampling_steps'], m['t2v.distilled_guidance'])"
        XCTAssertEqual(try Self.sh(["python3", "-c", script, stageStudent]).1.trimmingCharacters(in: .whitespacesAndNewlines), "4 2.0")
        let log = try String(contentsOfFile: root.appendingPathComponent("st.loss.csv").path, encoding: .utf8)
        XCTAssertEqual(log.split(separator: "\n").count, 3, "header, the stage's step and the round's: \(log)")
        // Guidance rescale: recorded in the student; refused outside 0...1 and without guidance.
        let rescaled = root.appendingPathComponent("gr.safetensors").path
        let (rescale, _) = try distilled(rescaled, ["--guidance", "2", "--guidance-rescale", "0.7"], key: "t2v.distilled_guidance_rescale")
        XCTAssertEqual(rescale, "0.7")
        r = try CLI.run(["distill", "--teacher", out, "--data", ds, "--guidance", "2", "--guidance-rescale", "1.5", "-o", rescaled])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("--guidance-rescale must be in 0...1"), r.stderr)
        r = try CLI.run(["distill", "--teacher", out, "--data", ds, "--guidance-rescale", "0.5", "-o", rescaled])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("--guidance-rescale needs --guidance above 1"), r.stderr)
        // A guidance interval: recorded in the student; refused when malformed or without guidance.
        let limited = root.appendingPathComponent("gi.safetensors").path
        let (interval, _) = try distilled(limited, ["--guidance", "2", "--guidance-interval", "100:800"], key: "t2v.distilled_guidance_interval")
        XCTAssertEqual(interval, "100:800")
        r = try CLI.run(["distill", "--teacher", out, "--data", ds, "--guidance", "2", "--guidance-interval", "800:100", "-o", limited])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("--guidance-interval must be FIRST:LAST"), r.stderr)
        r = try CLI.run(["distill", "--teacher", out, "--data", ds, "--guidance-interval", "100:800", "-o", limited])
        XCTAssertEqual(r.status, 2, r.stderr)
        XCTAssertTrue(r.stderr.contains("--guidance-interval needs --guidance above 1"), r.stderr)
        r = try CLI.run(["distill", "--teacher", out, "--data", ds, "--guidance-steps", "5", "-o", staged])
        XCTAssertEqual(r.status, 2, "a guidance stage without guidance is refused")
        XCTAssertTrue(r.stderr.contains("--guidance-steps needs --guidance above 1"), r.stderr)
    }
}
