import Foundation
import XCTest

/// The PyTorch twin's data-parallel trainer (python/t2v_twin/train.py under torchrun, gloo on the
/// CPU), checked by python/t2v_twin/check_distributed.py: 2 processes with per-rank batch 2 against
/// 1 process with batch 4 on the same global batches (parameters within 1e-4 after 20 steps); a
/// rank killed mid-run stops the job with an error naming the checkpoint, and --resume ends at the
/// uninterrupted run's weights byte for byte; a 2-process checkpoint resumes in 1 process.
/// The autoencoder trainer (train.py train-autoencoder), checked by
/// python/t2v_twin/check_distributed_autoencoder.py: 2 processes with per-rank batch 1 against 1
/// process with batch 2 (weights within 1e-4 after 10 steps of the tiny network), a run stopped at
/// step 4 and resumed ends at the uninterrupted run's file byte for byte (and within 1e-4 when the
/// 2-process checkpoint resumes in 1 process), and the file carries the metadata Swift's loader reads.
/// Skipped, with a message, where PyTorch is not installed.
final class TwinDistributedTests: XCTestCase {
    func testDataParallelTrainingMatchesOneProcessAndResumesAfterAKilledRank() throws {
        try PythonOracle.requireTorch(for: "the torchrun data-parallel checks of python/t2v_twin",
                                      modules: "torch, torch.distributed, safetensors; assert torch.distributed.is_available()")
        let (status, output) = try PythonOracle.run([PythonOracle.root.appendingPathComponent("python/t2v_twin/check_distributed.py").path])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("all distributed checks passed"), output)
    }

    func testDataParallelAutoencoderTrainingMatchesOneProcessAndResumes() throws {
        try PythonOracle.requireTorch(for: "the torchrun data-parallel autoencoder checks of python/t2v_twin",
                                      modules: "torch, torch.distributed, safetensors; assert torch.distributed.is_available()")
        let (status, output) = try PythonOracle.run([PythonOracle.root.appendingPathComponent("python/t2v_twin/check_distributed_autoencoder.py").path])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("all distributed autoencoder checks passed"), output)
    }
}
