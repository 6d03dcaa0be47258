import Foundation

/// The optimisation state both trainers (`Trainer`, `AutoencoderTrainer`) checkpoint, in one
/// layout: the raw weights under `model.`, the EMA under `ema.`, AdamW's moments and step under
/// `adam.`; the model's and the run's configuration JSON, the step and the random-stream position
/// in the metadata.
enum TrainingState {
    /// The state's tensors, sorted by name.
    static func entries(model: any Module, ema: EMA, optimizer: AdamW) -> [SafeTensors.Entry] {
        var entries = [SafeTensors.Entry]()
        let named = model.namedParameters()
        for (name, p) in named { entries.append(.init(name: "model." + name, shape: p.shape, floats: p.value.toArray())) }
        for ((name, p), shadow) in zip(named, ema.shadow) { entries.append(.init(name: "ema." + name, shape: p.shape, floats: shadow.toArray())) }
        for (key, t) in optimizer.state() { entries.append(.init(name: "adam." + key, shape: t.shape, floats: t.toArray())) }
        return entries.sorted { $0.name < $1.name }
    }

    /// The state's metadata.
    static func metadata(modelKey: String, modelJSON: String, runKey: String, runJSON: String, step: Int, rng: Philox) -> [String: String] {
        [modelKey: modelJSON, runKey: runJSON, "t2v.step": String(step), "t2v.rng": rng.checkpointText,
         "t2v.generator_version": GeneratorInfo.version]
    }

    /// The configurations, step and stream position a checkpoint records, or nil when it lacks one.
    static func header(_ file: SafeTensors, modelKey: String, runKey: String) -> (modelJSON: String, runJSON: String, step: Int, rng: Philox)? {
        let meta = file.metadata
        guard let modelJSON = meta[modelKey], let runJSON = meta[runKey], let stepText = meta["t2v.step"], let step = Int(stepText),
              let rngText = meta["t2v.rng"], let rng = Philox(checkpointText: rngText) else { return nil }
        return (modelJSON, runJSON, step, rng)
    }

    /// Loads the raw weights into `model`, the EMA into `ema` and AdamW's state into `optimizer`.
    ///
    /// - Throws: `ModuleLoadError` naming a missing or mis-shaped tensor.
    static func restore(_ file: SafeTensors, model: any Module, ema: EMA, optimizer: AdamW) throws {
        try model.load(file.tensors(prefixed: "model."), strict: true)
        let emaTensors = try file.tensors(prefixed: "ema.")
        for ((name, _), shadow) in zip(model.namedParameters(), ema.shadow) {
            guard let t = emaTensors[name] else { throw ModuleLoadError.missing("ema." + name) }
            guard t.shape == shadow.shape else { throw ModuleLoadError.shapeMismatch(name: "ema." + name, expected: shadow.shape, got: t.shape) }
            shadow.assign(t)
        }
        try optimizer.load(state: file.tensors(prefixed: "adam."))
    }
}
