import Foundation

/// A model whose configuration is stored beside its weights and rebuilds it.
protocol ConfiguredModel: Module {
    associatedtype Config: Codable
    var config: Config { get }
    init(config: Config, rng: inout some RandomNumberGenerator) throws
}

extension VideoDenoiser: ConfiguredModel {}
extension VideoAutoencoder: ConfiguredModel {}

/// A run's configuration whose schedule can be extended (`--resume --extend`).
protocol ExtendableRunConfig: Codable {
    var totalSteps: Int { get set }
}

extension TrainingConfig: ExtendableRunConfig {}
extension AutoencoderTrainingConfig: ExtendableRunConfig {}

/// What `Trainer` and `AutoencoderTrainer` share to write and restore their checkpoints in one
/// layout (`TrainingState`): the raw weights, EMA, AdamW state, step and random-stream position,
/// with the model's and the run's configuration.
protocol CheckpointedTrainer: AnyObject {
    associatedtype Model: ConfiguredModel
    associatedtype RunConfig: ExtendableRunConfig
    /// Metadata key of the run's configuration JSON.
    static var configKey: String { get }
    /// Metadata key of the model's configuration JSON.
    static var modelConfigKey: String { get }
    /// The kind of checkpoint and the command that writes it, for error messages.
    static var checkpointKind: String { get }
    static var writer: String { get }
    var model: Model { get }
    var config: RunConfig { get }
    var ema: EMA { get }
    var optimizer: AdamW { get }
    var step: Int { get set }
    var rng: Philox { get set }
    init(model: Model, config: RunConfig) throws
}

extension CheckpointedTrainer {
    /// Writes the full training state atomically.
    ///
    /// - Throws: `TrainingError.badCheckpoint` when writing fails.
    func writeCheckpoint(to url: URL) throws {
        do {
            let metadata = TrainingState.metadata(modelKey: Self.modelConfigKey, modelJSON: try canonicalJSON(model.config),
                                                  runKey: Self.configKey, runJSON: try canonicalJSON(config), step: step, rng: rng)
            try SafeTensors.write(TrainingState.entries(model: model, ema: ema, optimizer: optimizer), metadata: metadata, to: url)
        } catch {
            throw TrainingError.badCheckpoint(path: url.path, message: "writing failed: \(error.localizedDescription)")
        }
    }

    /// Restores a run written by `writeCheckpoint(to:)`; training continues exactly where it
    /// stopped, or with its cosine schedule recomputed up to `newTotal` when that lies beyond it.
    ///
    /// - Throws: `TrainingError.badCheckpoint` naming the file and what is wrong.
    static func restoreCheckpoint(from url: URL, extendingTo newTotal: Int?) throws -> Self {
        func fail(_ m: String) -> TrainingError { .badCheckpoint(path: url.path, message: m) }
        let file: SafeTensors
        do { file = try SafeTensors(contentsOf: url) } catch { throw fail(error.localizedDescription) }
        guard let header = TrainingState.header(file, modelKey: modelConfigKey, runKey: configKey) else {
            throw fail("missing \(checkpointKind) metadata or an unreadable step or random-stream position; is this a checkpoint written by \(writer)?")
        }
        do {
            let modelConfig = try JSONDecoder().decode(Model.Config.self, from: Data(header.modelJSON.utf8))
            var runConfig = try JSONDecoder().decode(RunConfig.self, from: Data(header.runJSON.utf8))
            if let newTotal, newTotal > runConfig.totalSteps { runConfig.totalSteps = newTotal }
            var init0 = Philox(seed: 0)
            let model = try Model(config: modelConfig, rng: &init0)
            let trainer = try Self(model: model, config: runConfig)
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
