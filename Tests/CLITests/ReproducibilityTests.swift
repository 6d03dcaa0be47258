import Foundation
import XCTest

/// The same frames and settings must give the same bytes, whatever the process's heap held
/// before. MALLOC_PERTURB_ makes glibc fill fresh and freed heap blocks with a chosen byte, so a
/// read of memory nobody wrote shows up as outputs that differ between two values of it.
/// (libx264's AVX-512 kernels did this on narrow frames; VideoWriter now leaves them out there.)
final class ReproducibilityTests: XCTestCase {
    func testNarrowH264EncodeDoesNotDependOnHeapContents() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-repro-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for size in [32, 64, 96] {
            // Moving content (the oracle's test pattern), so P and B frames carry real decisions.
            let raw = dir.appendingPathComponent("in\(size).rgb").path
            let ff = Process()
            ff.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            ff.arguments = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=\(size)x\(size):rate=8", "-t", "2",
                            "-f", "rawvideo", "-pix_fmt", "rgb24", raw]
            try ff.run()
            ff.waitUntilExit()
            XCTAssertEqual(ff.terminationStatus, 0)
            var outputs = [Data]()
            for perturb in ["0", "165", "17"] {
                var env = ProcessInfo.processInfo.environment
                env["MALLOC_PERTURB_"] = perturb
                let out = dir.appendingPathComponent("out\(size)-\(perturb).mkv").path
                let r = try CLI.run(["encode", "--quiet", "--size", "\(size)x\(size)", "--fps", "8", "-i", raw, "-o", out], environment: env)
                XCTAssertEqual(r.status, 0, r.stderr)
                outputs.append(try Data(contentsOf: URL(fileURLWithPath: out)))
            }
            XCTAssertGreaterThan(outputs[0].count, 1000)
            XCTAssertEqual(outputs[0], outputs[1], "\(size)x\(size): the file changes with the heap's contents")
            XCTAssertEqual(outputs[0], outputs[2], "\(size)x\(size): the file changes with the heap's contents")
        }
    }
}
