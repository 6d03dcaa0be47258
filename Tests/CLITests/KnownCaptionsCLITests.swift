import Foundation
import XCTest

/// The training captions kept in a model file: `train` writes them (`captions.embeddings` and the
/// `t2v.captions` list), `distill` carries them into the student, and `render` places a prompt
/// against them: `--json` gives the nearest caption and its similarity, and a prompt far from all
/// of them renders with a warning naming the nearest known scenes.
final class KnownCaptionsCLITests: XCTestCase {
    static let captions = ["a red ball bouncing on a plain background", "fireworks bursting over a city at night"]
    static var fixture: CLIFixture!

    override class func setUp() {
        fixture = CLIFixture(name: "t2v-captions", clips: [("testsrc2", captions[0]), ("mandelbrot", captions[1])],
                             size: 32, seconds: 1) { f in
            [["extract", f.path("clips"), "-o", f.path("ds"), "--frames", "4", "--fps", "4", "--size", "16x16", "--quiet"],
             ["train", "--data", f.path("ds"), "--config", "tiny", "--steps", "2", "--batch", "2", "-q", "-o", f.path("teacher.safetensors")],
             ["distill", "--teacher", f.path("teacher.safetensors"), "--data", f.path("ds"), "--from-steps", "4", "--to-steps", "2",
              "--steps-per-round", "1", "--batch", "2", "-q", "-o", f.path("student.safetensors")]]
        }
    }

    func path(_ name: String) -> String { Self.fixture.path(name) }

    override class func tearDown() { fixture.remove() }

    override func setUpWithError() throws { try Self.fixture.check() }

    func testTeacherAndStudentKeepTheTrainingCaptions() throws {
        let script = """
        import json, struct, sys
        f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]; h = json.loads(f.read(n))
        print(json.dumps({"captions": json.loads(h["__metadata__"]["t2v.captions"]), "shape": h["captions.embeddings"]["shape"]}))
        """
        for file in ["teacher.safetensors", "student.safetensors"] {
            let (status, out) = try RenderCLITests.sh(["python3", "-c", script, path(file)])
            XCTAssertEqual(status, 0, out)
            let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any], out)
            XCTAssertEqual(doc["captions"] as? [String], Self.captions.sorted(), file)
            XCTAssertEqual(doc["shape"] as? [Int], [2, 384], file)
        }
    }

    func testRenderPlacesThePromptAndWarnsWhenItIsFar() throws {
        // A training caption: its own nearest caption, similarity 1, no warning.
        var r = try CLI.run(["-p", Self.captions[1], "-o", path("near.mp4"), "--model", path("student.safetensors"), "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        var doc = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(doc["nearestCaption"] as? String, Self.captions[1])
        XCTAssertEqual(try XCTUnwrap(doc["captionSimilarity"] as? Double), 1, accuracy: 1e-4)
        XCTAssertEqual(doc["farFromTraining"] as? Bool, false)
        XCTAssertFalse(r.stderr.contains("far from what the model learned"), r.stderr)

        // Another subject: rendered all the same, with a warning naming the nearest known scenes.
        r = try CLI.run(["-p", "a cat playing the piano", "-o", path("far.mp4"), "--model", path("student.safetensors"), "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: path("far.mp4")))
        XCTAssertTrue(r.stderr.contains("warning: the prompt is far from what the model learned"), r.stderr)
        XCTAssertTrue(r.stderr.contains("Nearest known scenes: \""), r.stderr)
        doc = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertEqual(doc["farFromTraining"] as? Bool, true)
        XCTAssertLessThan(try XCTUnwrap(doc["captionSimilarity"] as? Double), 0.45)

        // -q says nothing.
        r = try CLI.run(["-p", "a cat playing the piano", "-o", path("far2.mp4"), "--model", path("student.safetensors"), "-q"])
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.stderr, "")
    }

    func testAModelWithoutCaptionsRendersWithoutTheFields() throws {
        // A file as models were written before they kept their captions: the same tensors and
        // metadata less the captions (rewritten with the safetensors package, an outside writer).
        let script = """
        import sys
        from safetensors import safe_open
        from safetensors.numpy import save_file
        with safe_open(sys.argv[1], "np") as f:
            meta = {k: v for k, v in f.metadata().items() if k != "t2v.captions"}
            save_file({k: f.get_tensor(k) for k in f.keys() if not k.startswith("captions.")}, sys.argv[2], metadata=meta)
        """
        let (importable, _) = try RenderCLITests.sh(["python3", "-c", "import safetensors, numpy"])
        try XCTSkipIf(importable != 0, "the safetensors and numpy Python packages are not installed (run scripts/setup.sh)")
        let (status, out) = try RenderCLITests.sh(["python3", "-c", script, path("student.safetensors"), path("old.safetensors")])
        XCTAssertEqual(status, 0, out)
        let r = try CLI.run(["-p", "a cat playing the piano", "-o", path("old.mp4"), "--model", path("old.safetensors"), "--json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let doc = try XCTUnwrap(JSONSerialization.jsonObject(with: r.stdout) as? [String: Any])
        XCTAssertNil(doc["nearestCaption"])
        XCTAssertNil(doc["farFromTraining"])
        XCTAssertFalse(r.stderr.contains("far from what the model learned"), r.stderr)
    }
}
