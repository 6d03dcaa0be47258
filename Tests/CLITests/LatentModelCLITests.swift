import Foundation
import XCTest

/// A latent model end to end with tiny networks: train-autoencoder, encode-latents, train on the
/// latents with --autoencoder (the model file bundles it), distill, render (the decoder draws the
/// frames at f x the latent size). Oracle: ffprobe for the rendered video. Refusals: a latent
/// dataset without --autoencoder, another autoencoder than the dataset's, pixels for a latent
/// teacher.
final class LatentModelCLITests: XCTestCase {
    static var fixture: CLIFixture!

    override class func setUp() {
        fixture = CLIFixture(name: "t2v-latent", clips: [("testsrc2", "a test pattern"), ("mandelbrot", "a fractal zoom")],
                             size: 64, seconds: 1) { f in
            [["extract", f.path("clips"), "-o", f.path("ds"), "--frames", "4", "--fps", "4", "--size", "32x32", "--quiet"],
             ["train-autoencoder", "--data", f.path("ds"), "-o", f.path("ae.safetensors"), "--steps", "3", "--batch", "2",
              "--channels", "8,16,16", "--latent-channels", "4", "-q"],
             ["encode-latents", f.path("ds"), "--autoencoder", f.path("ae.safetensors"), "-o", f.path("lat"), "-q"],
             ["train", "--data", f.path("lat"), "--autoencoder", f.path("ae.safetensors"), "--config", "tiny", "--steps", "2",
              "--batch", "2", "-q", "-o", f.path("teacher.safetensors")]]
        }
    }

    func path(_ name: String) -> String { Self.fixture.path(name) }

    override class func tearDown() { fixture.remove() }

    override func setUpWithError() throws { try Self.fixture.check() }

    func testTheModelFileBundlesTheAutoencoderAndRendersAtItsScale() throws {
        // The file holds the denoiser (4 input channels, 8x8 latents) and the autoencoder.
        let script = """
        import json, struct, sys
        f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]; h = json.loads(f.read(n))
        meta = h.pop("__metadata__")
        cfg = json.loads(meta["t2v.denoiser_config"])
        print(cfg["inChannels"], cfg["resolution"], sum(k.startswith("autoencoder.") for k in h) > 0,
              "t2v.autoencoder_config" in meta, len(meta["t2v.autoencoder_sha256"]))
        """
        let (status, out) = try RenderCLITests.sh(["python3", "-c", script, path("teacher.safetensors")])
        XCTAssertEqual(status, 0)
        XCTAssertEqual(out.trimmingCharacters(in: .whitespacesAndNewlines), "4 8 True True 64")

        let r = try CLI.run(["-p", "a test pattern", "-o", path("x.mp4"), "--model", path("teacher.safetensors"), "--steps", "3",
                             "--size", "64x64", "--json", "-q"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(doc["nativeSize"] as? Int, 32, "the decoder draws 4x the 8x8 latents")
        let (probe, info) = try RenderCLITests.sh(["ffprobe", "-v", "error", "-count_frames", "-show_entries",
                                                   "stream=width,height,nb_read_frames", "-of", "csv=p=0", path("x.mp4")])
        XCTAssertEqual(probe, 0)
        XCTAssertEqual(info.trimmingCharacters(in: .whitespacesAndNewlines), "64,64,4")
    }

    func testDistillingALatentTeacherKeepsTheAutoencoder() throws {
        var r = try CLI.run(["distill", "--teacher", path("teacher.safetensors"), "--data", path("lat"), "--from-steps", "4",
                             "--to-steps", "2", "--steps-per-round", "1", "--batch", "2", "-q", "-o", path("student.safetensors")])
        XCTAssertEqual(r.status, 0, r.stderr)
        r = try CLI.run(["-p", "a fractal zoom", "-o", path("s.mp4"), "--model", path("student.safetensors"), "--json", "-q"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(doc["nativeSize"] as? Int, 32)
        XCTAssertEqual(doc["steps"] as? Int, 2)
    }

    func testMismatchesAreRefusedWithWhatToDo() throws {
        // A latent dataset without --autoencoder.
        var r = try CLI.run(["train", "--data", path("lat"), "--config", "tiny", "--steps", "1", "-q", "-o", path("no.safetensors")])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("is a latent dataset") && r.stderr.contains("--autoencoder"), r.stderr)
        // Another autoencoder than the one the latents were coded with.
        XCTAssertEqual(try CLI.run(["train-autoencoder", "--data", path("ds"), "-o", path("other.safetensors"), "--steps", "1",
                                    "--batch", "1", "--channels", "8,16,16", "--seed", "9", "-q"]).status, 0)
        r = try CLI.run(["train", "--data", path("lat"), "--autoencoder", path("other.safetensors"), "--config", "tiny", "--steps", "1",
                         "-q", "-o", path("no.safetensors")])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("was coded with the autoencoder of sha256"), r.stderr)
        // --autoencoder with pixels, and pixels for a latent teacher.
        r = try CLI.run(["train", "--data", path("ds"), "--autoencoder", path("ae.safetensors"), "--config", "tiny", "--steps", "1",
                         "-q", "-o", path("no.safetensors")])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("applies to a latent dataset"), r.stderr)
        r = try CLI.run(["distill", "--teacher", path("teacher.safetensors"), "--data", path("ds"), "--from-steps", "4",
                         "--to-steps", "2", "--steps-per-round", "1", "-q", "-o", path("no.safetensors")])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("3-channel pixels; the teacher takes 4 channels"), r.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path("no.safetensors")))
    }

    func testEvalAutoencoderScoresReconstructionsPerGroup() throws {
        let r = try CLI.run(["eval-autoencoder", "--autoencoder", path("ae.safetensors"), "--data", path("ds"), "--json",
                             "--sheet", path("recon.png"), "-q"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let scores = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [[String: Any]])
        // Two clips, c0 and c1: groups "c0" and "c1" (the name up to its last '-' is the whole
        // stem here), then "all".
        XCTAssertEqual(scores.map { $0["group"] as? String }, ["c0", "c1", "all"])
        let all = try XCTUnwrap(scores.last)
        XCTAssertEqual(all["clips"] as? Int, 2)
        XCTAssertEqual(all["frames"] as? Int, 8)
        let psnr = try XCTUnwrap(all["psnr"] as? Double), ssim = try XCTUnwrap(all["ssim"] as? Double)
        XCTAssertTrue(psnr.isFinite && psnr > 0 && (-1...1).contains(ssim), "\(all)")
        let (status, info) = try RenderCLITests.sh(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", path("recon.png")])
        XCTAssertEqual(status, 0)
        XCTAssertFalse(info.isEmpty)
        let bad = try CLI.run(["eval-autoencoder", "--autoencoder", path("teacher.safetensors"), "--data", path("ds"), "-q"])
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.stderr.contains("denoiser"), bad.stderr)
    }

    func testEvalAutoencoderWritesTheReconstructionsAsADataset() throws {
        let recon = "recon-\(UUID().uuidString)"
        let r = try CLI.run(["eval-autoencoder", "--autoencoder", path("ae.safetensors"), "--data", path("ds"),
                             "--reconstructions", path(recon), "-q"])
        XCTAssertEqual(r.status, 0, r.stderr)
        func records(_ dir: String) throws -> [[String: Any]] {
            try String(contentsOfFile: path(dir) + "/manifest.jsonl", encoding: .utf8).split(separator: "\n").map {
                try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
            }
        }
        let (original, decoded) = (try records("ds"), try records(recon))
        XCTAssertEqual(decoded.count, original.count)
        for key in ["caption", "source", "frames", "width", "height"] {
            XCTAssertEqual(decoded.map { "\($0[key] ?? "")" }, original.map { "\($0[key] ?? "")" }, key)
        }
        // The decoded dataset is what eval-autoencoder reads: coding it again scores it like any dataset.
        XCTAssertEqual(try CLI.run(["eval-autoencoder", "--autoencoder", path("ae.safetensors"), "--data", path(recon), "-q"]).status, 0)
        // An existing directory is refused before any work, and left as it was.
        let again = try CLI.run(["eval-autoencoder", "--autoencoder", path("ae.safetensors"), "--data", path("ds"),
                                 "--reconstructions", path(recon), "-q"])
        XCTAssertEqual(again.status, 1)
        XCTAssertTrue(again.stderr.contains("already exists"), again.stderr)
        XCTAssertEqual(try records(recon).count, original.count)
        let folder = URL(fileURLWithPath: path(recon)).deletingLastPathComponent().path
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.contains(".partial-") }
        XCTAssertEqual(leftovers, [])
    }
}
