import Foundation
import XCTest

/// `t2v-scenes report`: usage errors exit 2, a missing held-out dataset is a clear runtime error,
/// and a quick report with a baseline shows it beside the model under test.
final class ReportCLITests: XCTestCase {
    func testBadFlagsAreUsageErrors() throws {
        let seeds = try ScenesCLI.run(["report", "--seeds", "0"])
        XCTAssertEqual(seeds.status, 2, seeds.stderr)
        XCTAssertTrue(seeds.stderr.contains("--seeds"), seeds.stderr)
        let out = try ScenesCLI.run(["report", "--out", "report.txt"])
        XCTAssertEqual(out.status, 2, out.stderr)
        XCTAssertTrue(out.stderr.contains(".md"), out.stderr)
        let rescale = try ScenesCLI.run(["report", "--guidance-rescale", "1.5"])
        XCTAssertEqual(rescale.status, 2, rescale.stderr)
        XCTAssertTrue(rescale.stderr.contains("--guidance-rescale must be in 0...1"), rescale.stderr)
    }

    func testMissingHeldOutDatasetIsAClearError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-missing-\(UUID().uuidString)")
        let result = try ScenesCLI.run(["report", "--heldout", dir.path, "--out", dir.appendingPathComponent("R.md").path])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("cannot read the held-out dataset") && result.stderr.contains(dir.path), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("R.md").path))
    }

    /// A whole (quick) report of two tiny models: minutes, so it runs with T2V_SLOW_TESTS=1 (CI sets it).
    func testQuickReportShowsTheBaselineBesideTheModel() throws {
        if ProcessInfo.processInfo.environment["T2V_SLOW_TESTS"] != "1" {
            throw XCTSkip("a whole quick report (minutes): runs with T2V_SLOW_TESTS=1 (CI sets it)")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-baseline-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try ScenesCLI.renderAndExtract(in: dir, ["--split", "heldout", "--captions", "training", "--per-family", "1"],
                                                  corpus: "heldout", dataset: "heldout-dataset")
        let model = dir.appendingPathComponent("m.safetensors").path, baseline = dir.appendingPathComponent("b.safetensors").path
        for (path, seed) in [(model, "1"), (baseline, "2")] {
            let t = try CLI.run(["train", "--data", data, "--config", "tiny", "--steps", "1", "--batch", "1", "--seed", seed, "--quiet", "-o", path])
            XCTAssertEqual(t.status, 0, t.stderr)
        }
        let report = dir.appendingPathComponent("R.md").path
        let r = try ScenesCLI.run(["report", "--quick", "--model", model, "--baseline", baseline, "--heldout", data, "--out", report])
        XCTAssertEqual(r.status, 0, r.stderr)
        let md = try String(contentsOfFile: report, encoding: .utf8)
        XCTAssertTrue(md.contains("--baseline \(baseline)"), "the command line names the baseline")
        XCTAssertTrue(md.contains("| Family | Exact | Paraphrase | Baseline exact | Baseline paraphrase |"), md)
        XCTAssertTrue(md.contains("| baseline | `\(baseline)`"), "the Frechet distance table has the baseline")
        XCTAssertTrue(md.contains("baseline `\(baseline)`"), "the SSIM table has the baseline")
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir.appendingPathComponent("report/baseline-exact.png").path))
        XCTAssertFalse(md.contains("-step baseline <="), "no distillation target for the baseline")
        XCTAssertTrue(md.contains("## Beside the baseline"), md)
        for measure in ["Adherence, exact captions", "Adherence, paraphrases", "Attribute accuracy, paraphrases",
                        "Frechet distance (± jackknife SE)", "Inter-frame SSIM, distance from real", "Ball held", "Car moves the named way"] {
            XCTAssertTrue(md.contains("| \(measure) |"), "the side-by-side table has \(measure)")
        }
        XCTAssertTrue(md.contains("| Attribute accuracy, exact captions >= 90% |"), "the targets table")
        XCTAssertTrue(md.range(of: #"\| baseline \(\d+ steps\), paraphrases \|"#, options: .regularExpression) != nil, "the attribute table has the baseline's paraphrases")
    }
}
