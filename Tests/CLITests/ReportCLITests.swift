import Foundation
import XCTest

/// `t2v-scenes report`: usage errors exit 2, a missing held-out dataset is a clear runtime error.
final class ReportCLITests: XCTestCase {
    func testBadFlagsAreUsageErrors() throws {
        let seeds = try ScenesCLI.run(["report", "--seeds", "0"])
        XCTAssertEqual(seeds.status, 2, seeds.stderr)
        XCTAssertTrue(seeds.stderr.contains("--seeds"), seeds.stderr)
        let out = try ScenesCLI.run(["report", "--out", "report.txt"])
        XCTAssertEqual(out.status, 2, out.stderr)
        XCTAssertTrue(out.stderr.contains(".md"), out.stderr)
    }

    func testMissingHeldOutDatasetIsAClearError() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("report-missing-\(UUID().uuidString)")
        let result = try ScenesCLI.run(["report", "--heldout", dir.path, "--out", dir.appendingPathComponent("R.md").path])
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("cannot read the held-out dataset") && result.stderr.contains(dir.path), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("R.md").path))
    }
}
