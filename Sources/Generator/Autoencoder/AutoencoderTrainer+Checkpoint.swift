import Foundation

extension AutoencoderTrainer: CheckpointedTrainer {
    static var modelConfigKey: String { AutoencoderConfig.metadataKey }
    static var checkpointKind: String { "autoencoder training" }
    static var writer: String { "`t2v-render train-autoencoder`" }

    /// Metadata key of the training configuration JSON.
    static let configKey = "t2v.autoencoder_training_config"

    /// Writes the full training state atomically: `model.*` (raw weights), `ema.*`, `adam.*`
    /// (moments and step) as tensors; configurations, step and random-stream position as metadata.
    ///
    /// - Throws: `TrainingError.badCheckpoint` when writing fails.
    public func saveCheckpoint(to url: URL) throws { try writeCheckpoint(to: url) }

    /// Restores a run from `saveCheckpoint(to:)`; training continues exactly where it stopped.
    ///
    /// - Parameters:
    ///   - url: the checkpoint.
    ///   - extendingTo: a new end for the run beyond the checkpoint's `totalSteps` (the cosine
    ///     decay is recomputed over the longer run); `nil` or a value not beyond it keeps the saved
    ///     schedule, so a plain resume continues bit for bit.
    /// - Throws: `TrainingError.badCheckpoint` naming the file and what is wrong.
    public static func resume(from url: URL, extendingTo newTotal: Int? = nil) throws -> AutoencoderTrainer {
        try restoreCheckpoint(from: url, extendingTo: newTotal)
    }
}
