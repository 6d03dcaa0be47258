import Foundation
import XCTest

/// The PyTorch twin's data-parallel trainer (python/t2v_twin/train.py under torchrun, gloo on the
/// CPU), checked by python/t2v_twin/check_distributed.py: 2 processes with per-rank batch 2 against
/// 1 process with batch 4 on the same global batches (parameters within 1e-4 after 20 steps); a
/// rank killed mid-run stops the job with an error naming the checkpoint, and --resume ends at the
/// uninterrupted run's weights byte for byte; a 2-process checkpoint resumes in 1 process.
/// Skipped, with a message, where PyTorch is not installed.
final class TwinDistributedTests: XCTestCase {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    func testDataParallelTrainingMatchesOneProcessAndResumesAfterAKilledRank() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import torch, torch.distributed, safetensors; assert torch.distributed.is_available()"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        if probe.terminationStatus != 0 {
            throw XCTSkip("PyTorch (with torch.distributed) is not installed: skipping the torchrun data-parallel checks of python/t2v_twin")
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", Self.root.appendingPathComponent("python/t2v_twin/check_distributed.py").path]
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, output)
        XCTAssertTrue(output.contains("all distributed checks passed"), output)
    }
}
