import Foundation

extension AutoencoderTrainer {
    /// Metadata key of the training configuration JSON.
    static let configKey = "t2v.autoencoder_training_config"

    /// Writes the full training state atomically: `model.*` (raw weights), `ema.*`, `adam.*`
    /// (moments and step) as tensors; configurations, step and random-stream position as metadata.
    ///
    /// - Throws: `TrainingError.badCheckpoint` when writing fails.
    public func saveCheckpoint(to url: URL) throws {
        var entries = [SafeTensors.Entry]()
        let named = model.namedParameters()
        for (name, p) in named { entries.append(.init(name: "model." + name, shape: p.shape, floats: p.value.toArray())) }
        for ((name, p), shadow) in zip(named, ema.shadow) { entries.append(.init(name: "ema." + name, shape: p.shape, floats: shadow.toArray())) }
        for (key, t) in optimizer.state() { entries.append(.init(name: "adam." + key, shape: t.shape, floats: t.toArray())) }
        entries.sort { $0.name < $1.name }
        do {
            let metadata = [
                AutoencoderConfig.metadataKey: try canonicalJSON(model.config),
                Self.configKey: try canonicalJSON(config),
                "t2v.step": String(step),
                "t2v.rng": rng.checkpointText,
                "t2v.generator_version": GeneratorInfo.version,
            ]
            try SafeTensors.write(entries, metadata: metadata, to: url)
        } catch {
            throw TrainingError.badCheckpoint(path: url.path, message: "writing failed: \(error.localizedDescription)")
        }
    }

    /// Restores a run from `saveCheckpoint(to:)`; training continues exactly where it stopped.
    ///
    /// - Parameters:
    ///   - url: the checkpoint.
    ///   - extendingTo: a new end for the run beyond the checkpoint's `totalSteps` (the cosine
    ///     decay is recomputed over the longer run); `nil` or a value not beyond it keeps the saved
    ///     schedule, so a plain resume continues bit for bit.
    /// - Throws: `TrainingError.badCheckpoint` naming the file and what is wrong.
    public static func resume(from url: URL, extendingTo newTotal: Int? = nil) throws -> AutoencoderTrainer {
        func fail(_ m: String) -> TrainingError { .badCheckpoint(path: url.path, message: m) }
        let file: SafeTensors
        do { file = try SafeTensors(contentsOf: url) } catch { throw fail(error.localizedDescription) }
        let meta = file.metadata
        guard let modelJSON = meta[AutoencoderConfig.metadataKey], let trainJSON = meta[configKey],
              let stepText = meta["t2v.step"], let step = Int(stepText), let rngText = meta["t2v.rng"] else {
            throw fail("missing autoencoder training metadata; is this a checkpoint written by `t2v-render train-autoencoder`?")
        }
        guard let rng = Philox(checkpointText: rngText) else { throw fail("unreadable random-stream position '\(rngText)'") }
        do {
            let modelConfig = try JSONDecoder().decode(AutoencoderConfig.self, from: Data(modelJSON.utf8))
            var trainConfig = try JSONDecoder().decode(AutoencoderTrainingConfig.self, from: Data(trainJSON.utf8))
            if let newTotal, newTotal > trainConfig.totalSteps { trainConfig.totalSteps = newTotal }
            var init0 = Philox(seed: 0)
            let model = try VideoAutoencoder(config: modelConfig, rng: &init0)
            try model.load(file.tensors(prefixed: "model."), strict: true)
            let trainer = try AutoencoderTrainer(model: model, config: trainConfig)
            let emaTensors = try file.tensors(prefixed: "ema.")
            for ((name, _), shadow) in zip(model.namedParameters(), trainer.ema.shadow) {
                guard let t = emaTensors[name] else { throw ModuleLoadError.missing("ema." + name) }
                guard t.shape == shadow.shape else { throw ModuleLoadError.shapeMismatch(name: "ema." + name, expected: shadow.shape, got: t.shape) }
                shadow.assign(t)
            }
            try trainer.optimizer.load(state: file.tensors(prefixed: "adam."))
            trainer.step = step
            trainer.rng = rng
            return trainer
        } catch let error as TrainingError {
            throw error
        } catch {
            throw fail(error.localizedDescription)
        }
    }
}
