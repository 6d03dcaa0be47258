import ArgumentParser
import Foundation
import Renderer

/// The files of a training run, shared by `train`, `distill` and `train-autoencoder`: the result
/// (-o), the checkpoint, the loss log and curve, with their defaults beside -o, `--resume` and
/// `-q`.
struct TrainingRunOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Where to write the result: the EMA weights (train, train-autoencoder) or the final student (distill).")
    var output: String

    @Option(help: "Checkpoint file (default: OUTPUT with .ckpt.safetensors; distill removes it when the run completes).")
    var checkpoint: String?

    @Flag(help: "Continue from --checkpoint (the run's other flags must match the interrupted run's).")
    var resume = false

    @Option(help: "Loss log, CSV step,loss,lr (default: OUTPUT with .loss.csv).")
    var log: String?

    @Option(help: "Loss curve PNG (default: OUTPUT with .loss.png).")
    var plot: String?

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    var checkpointPath: String { checkpoint ?? Self.sibling(output, "ckpt.safetensors") }
    var logPath: String { log ?? Self.sibling(output, "loss.csv") }
    var plotPath: String { plot ?? Self.sibling(output, "loss.png") }

    /// `model.safetensors` -> `model.<suffix>`.
    static func sibling(_ output: String, _ suffix: String) -> String {
        let url = URL(fileURLWithPath: output)
        let stem = url.deletingPathExtension().lastPathComponent
        return url.deletingLastPathComponent().appendingPathComponent("\(stem).\(suffix)").path
    }

    /// Fails now, naming the option and path, when a file of the run cannot be written (not at
    /// the first checkpoint or after the whole run).
    func checkPaths() throws {
        do {
            try OutputPath.check(output, option: "-o", streams: false)
            try OutputPath.check(checkpointPath, option: "--checkpoint", streams: false)
            try OutputPath.check(logPath, option: "--log", streams: false)
            try OutputPath.check(plotPath, option: "--plot", streams: false)
        } catch { throw CommandError(CommandError.text(error)) }
    }
}
