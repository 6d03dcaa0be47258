import Foundation

extension Trainer {
    /// Metadata key of the training configuration JSON.
    static let configKey = "t2v.training_config"

    /// Writes the full training state atomically: `model.*` (raw weights), `ema.*`, `adam.*`
    /// (moments and step) as tensors; configurations, step and random-stream position as metadata.
    ///
    /// - Throws: `TrainingError.badCheckpoint` when writing fails.
    public func saveCheckpoint(to url: URL) throws {
        do {
            let metadata = TrainingState.metadata(modelKey: DenoiserConfig.metadataKey, modelJSON: try canonicalJSON(model.config),
                                                  runKey: Self.configKey, runJSON: try canonicalJSON(config), step: step, rng: rng)
            try SafeTensors.write(TrainingState.entries(model: model, ema: ema, optimizer: optimizer), metadata: metadata, to: url)
        } catch {
            throw TrainingError.badCheckpoint(path: url.path, message: "writing failed: \(error.localizedDescription)")
        }
    }

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
        func fail(_ m: String) -> TrainingError { .badCheckpoint(path: url.path, message: m) }
        let file: SafeTensors
        do { file = try SafeTensors(contentsOf: url) } catch { throw fail(error.localizedDescription) }
        guard let header = TrainingState.header(file, modelKey: DenoiserConfig.metadataKey, runKey: configKey) else {
            throw fail("missing training metadata or an unreadable step or random-stream position; is this a checkpoint written by `t2v-render train`?")
        }
        do {
            let modelConfig = try JSONDecoder().decode(DenoiserConfig.self, from: Data(header.modelJSON.utf8))
            var trainConfig = try JSONDecoder().decode(TrainingConfig.self, from: Data(header.runJSON.utf8))
            if let newTotal, newTotal > trainConfig.totalSteps { trainConfig.totalSteps = newTotal }
            var init0 = Philox(seed: 0)
            let model = try VideoDenoiser(config: modelConfig, rng: &init0)
            let trainer = try Trainer(model: model, config: trainConfig)
            try TrainingState.restore(file, model: model, ema: trainer.ema, optimizer: trainer.optimizer)
            trainer.step = header.step
            trainer.rng = header.rng
            return trainer
        } catch let error as TrainingError {
            throw error
        } catch {
            throw fail(error.localizedDescription)
        }
    }
}
