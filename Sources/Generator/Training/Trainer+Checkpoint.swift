import Foundation

extension Trainer: CheckpointedTrainer {
    static var modelConfigKey: String { DenoiserConfig.metadataKey }
    static var checkpointKind: String { "training" }
    static var writer: String { "`t2v-render train`" }

    /// Metadata key of the training configuration JSON.
    static let configKey = "t2v.training_config"

    /// Writes the full training state atomically: `model.*` (raw weights), `ema.*`, `adam.*`
    /// (moments and step) as tensors; configurations, step and random-stream position as metadata.
    ///
    /// - Throws: `TrainingError.badCheckpoint` when writing fails.
    public func saveCheckpoint(to url: URL) throws { try writeCheckpoint(to: url) }

    /// Restores a run from `saveCheckpoint(to:)`; training continues exactly where it stopped.
    ///
    /// - Parameters:
    ///   - url: the checkpoint.
    ///   - extendingTo: a new end for the run, beyond the checkpoint's `totalSteps`: the cosine
    ///     decay is recomputed over the longer run (a warm restart: the learning rate rises back to
    ///     the new schedule's value at the current step). `nil` or a value not beyond the saved
    ///     total keeps the saved schedule, so a plain resume continues bit for bit.
    /// - Throws: `TrainingError.badCheckpoint` naming the file and what is wrong.
    public static func resume(from url: URL, extendingTo newTotal: Int? = nil) throws -> Trainer {
        try restoreCheckpoint(from: url, extendingTo: newTotal)
    }
}
