import Foundation

/// Trains a `VideoAutoencoder` on random crops of random frames of random clips: each step
/// encodes the crops, decodes a reparameterised draw from their posteriors and takes an AdamW step
/// (no weight decay on biases and norms) on `AutoencoderLoss` (L1 + λ · image-gradient L1 + β · KL),
/// with gradient clipping, a warm-up + cosine learning rate and an EMA of the weights, as
/// `Trainer` does for the denoiser.
///
/// All randomness comes from one `Philox` stream seeded by `config.seed` (per crop: clip, frame,
/// top, left; then the posterior noise); a checkpoint stores the weights, the EMA, the AdamW
/// moments, the step and the stream position, so a resumed run continues bit for bit. Checkpoints
/// are written atomically every `checkpointEvery` steps, at the end, and when `progress` cancels.
public final class AutoencoderTrainer {
    /// Frames, height and width of every clip of a dataset.
    public typealias ClipShape = (frames: Int, height: Int, width: Int)

    /// The model being trained (raw weights; `exportModel(to:scaleFactor:useEMA:)` writes the EMA).
    public let model: VideoAutoencoder
    /// Hyper-parameters.
    public let config: AutoencoderTrainingConfig
    /// Steps completed.
    public internal(set) var step = 0
    /// The optimizer (AdamW, no decay on biases and norms).
    let optimizer: AdamW
    /// EMA of the weights.
    let ema: EMA
    /// The trainer's random stream.
    var rng: Philox
    /// Learning-rate schedule.
    let schedule: WarmupCosineSchedule

    /// Starts a run on `model`.
    ///
    /// - Throws: `TrainingError.invalidConfig` for bad hyper-parameters or a crop that is not a
    ///   multiple of the model's downsampling factor.
    public init(model: VideoAutoencoder, config: AutoencoderTrainingConfig) throws {
        try config.validate()
        let f = model.config.downsamplingFactor
        guard config.crop % f == 0 else {
            throw TrainingError.invalidConfig("crop \(config.crop) must be a multiple of the autoencoder's downsampling factor \(f)")
        }
        self.model = model
        self.config = config
        var adam = AdamW.Configuration()
        adam.learningRate = config.learningRate
        adam.weightDecay = config.weightDecay
        optimizer = AdamW(namedParameters: model.namedParameters(), configuration: adam)
        ema = EMA(parameters: model.parameters(), decay: config.emaDecay, warmup: false)
        rng = Philox(seed: config.seed, stream: 1)
        schedule = WarmupCosineSchedule(peak: config.learningRate, minimum: config.minimumLearningRate,
                                        warmupSteps: config.warmupSteps, totalSteps: config.totalSteps)
    }

    /// One optimisation step on `frames` (`[N, 3, h, w]` in [-1, 1], h and w multiples of the
    /// downsampling factor); the posterior noise comes from the trainer's stream.
    ///
    /// - Returns: the step's objective and its parts.
    /// - Throws: `TrainingError.badClip` when the frames do not fit the model.
    @discardableResult
    public func trainStep(_ frames: Tensor) throws -> AutoencoderLoss {
        let mc = model.config, f = mc.downsamplingFactor
        guard frames.rank == 4, frames.shape[0] > 0, frames.shape[1] == mc.imageChannels else {
            throw TrainingError.badClip(index: 0, message: "frames have shape \(frames.shape), expected [N, \(mc.imageChannels), H, W]")
        }
        guard frames.shape[2] % f == 0, frames.shape[3] % f == 0, frames.shape[2] > 0, frames.shape[3] > 0 else {
            throw TrainingError.badClip(index: 0, message: "frames are \(frames.shape[3])x\(frames.shape[2]), not multiples of \(f)")
        }
        // Encode, draw, decode.
        let (mean, logvar) = model.encode(frames)
        let z = model.sample(mean: mean, logvar: logvar, rng: &rng)
        let reconstruction = model.decode(z)
        let (objective, parts) = AutoencoderLoss.objective(reconstruction: reconstruction, target: frames, mean: mean, logvar: logvar,
                                                           gradientWeight: config.gradientWeight, klWeight: config.klWeight)
        // Backward, clip, AdamW, EMA.
        objective.backward()
        if config.gradientClip > 0 { _ = clipGradientNorm(optimizer.parameters, maxNorm: config.gradientClip) }
        optimizer.learningRate = schedule(step)
        optimizer.step()
        optimizer.zeroGrad()
        ema.decay = min(config.emaDecay, Float(1 + step) / Float(10 + step))
        ema.update()
        step += 1
        return parts
    }

    /// Checks that `config.crop` fits clips of `shape` (`train` checks it too; call it to fail
    /// before other work).
    ///
    /// - Throws: `TrainingError.invalidConfig` naming the sizes and the largest crop that fits.
    public func validate(clipShape shape: ClipShape) throws {
        guard shape.frames > 0, shape.height > 0, shape.width > 0 else {
            throw TrainingError.invalidConfig("clips of \(shape.frames) frames of \(shape.width)x\(shape.height) are empty")
        }
        guard config.crop <= shape.height, config.crop <= shape.width else {
            let f = model.config.downsamplingFactor
            let largest = min(shape.height, shape.width) / f * f
            throw TrainingError.invalidConfig("crop \(config.crop) is larger than the \(shape.width)x\(shape.height) frames; use a crop of at most \(largest)")
        }
    }

    /// A batch of `config.batchSize` crops `[N, 3, crop, crop]`, each from a random frame of a
    /// random clip at a random position, drawn from the trainer's stream.
    func randomCrops(clipCount: Int, clipShape shape: ClipShape, loadClip: (Int) throws -> [Float]) throws -> Tensor {
        let c = model.config.imageChannels, s = config.crop, plane = shape.height * shape.width
        let clipSize = shape.frames * c * plane
        var data = [Float](repeating: 0, count: config.batchSize * c * s * s)
        for b in 0..<config.batchSize {
            let index = rng.nextInt(below: clipCount)
            let frame = rng.nextInt(below: shape.frames)
            let top = rng.nextInt(below: shape.height - s + 1), left = rng.nextInt(below: shape.width - s + 1)
            let clip = try loadClip(index)
            guard clip.count == clipSize else {
                throw TrainingError.badClip(index: index, message: "has \(clip.count) values, expected \(shape.frames) frames of \(c)x\(shape.height)x\(shape.width) = \(clipSize)")
            }
            for ch in 0..<c {
                let src = (frame * c + ch) * plane, dst = (b * c + ch) * s * s
                for y in 0..<s {
                    let row = src + (top + y) * shape.width + left
                    data.replaceSubrange(dst + y * s..<dst + (y + 1) * s, with: clip[row..<row + s])
                }
            }
        }
        return Tensor(shape: [config.batchSize, c, s, s], data: data)
    }

    /// Trains until `config.totalSteps` (or `steps` more steps) on crops of `clipCount` clips that
    /// `loadClip` provides.
    ///
    /// - Parameters:
    ///   - steps: how many steps to take now (default: up to `config.totalSteps`).
    ///   - clipCount: size of the dataset.
    ///   - clipShape: frames, height and width of every clip.
    ///   - loadClip: returns clip `i` as `[frames, 3, height, width]` values in [-1, 1].
    ///   - checkpoint: where checkpoints go (nil: none).
    ///   - progress: called after each step; return false to stop (a checkpoint is written).
    /// - Returns: true when the run completed, false when it was cancelled.
    /// - Throws: what `loadClip` throws, `TrainingError`.
    @discardableResult
    public func train(steps: Int? = nil, clipCount: Int, clipShape: ClipShape, loadClip: (Int) throws -> [Float],
                      checkpoint: URL? = nil, progress: ((AutoencoderTrainingProgress) -> Bool)? = nil) throws -> Bool {
        guard clipCount > 0 else { throw TrainingError.invalidConfig("the dataset is empty") }
        try validate(clipShape: clipShape)
        let end = steps.map { step + $0 } ?? config.totalSteps
        while step < end {
            let batch = try randomCrops(clipCount: clipCount, clipShape: clipShape, loadClip: loadClip)
            let lr = schedule(step)
            let loss = try trainStep(batch)
            if let checkpoint, config.checkpointEvery > 0, step % config.checkpointEvery == 0 {
                try saveCheckpoint(to: checkpoint)
            }
            if let progress, !progress(AutoencoderTrainingProgress(step: step, totalSteps: config.totalSteps, loss: loss, learningRate: lr)) {
                if let checkpoint { try saveCheckpoint(to: checkpoint) }
                return false
            }
        }
        if let checkpoint { try saveCheckpoint(to: checkpoint) }
        return true
    }

    /// Runs `body` with the EMA weights in the model (or the raw ones), restoring the raw weights after.
    func withWeights<R>(useEMA: Bool, _ body: () throws -> R) rethrows -> R {
        guard useEMA else { return try body() }
        let raw = model.parameters().map { $0.value.copy() }
        ema.copyToParameters()
        defer { for (p, r) in zip(model.parameters(), raw) { p.assign(r) } }
        return try body()
    }

    /// The latent scale factor of the trained model on this data (`VideoAutoencoder.measureScaleFactor`):
    /// `frames` whole frames (cut to multiples of the downsampling factor) of random clips, drawn
    /// from a stream of their own (seed `config.seed`, stream 2), so measuring leaves training
    /// untouched and gives the same factor every time.
    ///
    /// - Parameters:
    ///   - frames: how many frames to encode (≥ 2).
    ///   - useEMA: measure the EMA weights (the ones `exportModel` writes by default).
    /// - Throws: what `loadClip` throws, `TrainingError` for an empty dataset or frames smaller than f.
    public func measureScaleFactor(frames count: Int = 256, clipCount: Int, clipShape shape: ClipShape,
                                   loadClip: (Int) throws -> [Float], useEMA: Bool = true) throws -> Float {
        let c = model.config.imageChannels, f = model.config.downsamplingFactor
        let h = shape.height / f * f, w = shape.width / f * f, plane = shape.height * shape.width
        guard clipCount > 0, shape.frames > 0 else { throw TrainingError.invalidConfig("the dataset is empty") }
        guard h > 0, w > 0 else { throw TrainingError.invalidConfig("frames of \(shape.width)x\(shape.height) are smaller than the downsampling factor \(f)") }
        var draws = Philox(seed: config.seed, stream: 2)
        var statistics = LatentStatistics()
        var pending = [Float](), inBatch = 0
        let total = max(count, 2)
        try withWeights(useEMA: useEMA) {
            // Batches of at most 16 frames, encoded as they fill.
            for i in 0..<total {
                let index = draws.nextInt(below: clipCount), frame = draws.nextInt(below: shape.frames)
                let clip = try loadClip(index)
                guard clip.count == shape.frames * c * plane else {
                    throw TrainingError.badClip(index: index, message: "has \(clip.count) values, expected \(shape.frames * c * plane)")
                }
                for ch in 0..<c {
                    let src = (frame * c + ch) * plane
                    for y in 0..<h { pending += clip[src + y * shape.width..<src + y * shape.width + w] }
                }
                inBatch += 1
                if inBatch == 16 || i == total - 1 {
                    let batch = Tensor(shape: [inBatch, c, h, w], data: pending)
                    statistics.add(withoutGradients { model.encode(batch).mean })
                    pending.removeAll(keepingCapacity: true)
                    inBatch = 0
                }
            }
        }
        return statistics.scaleFactor
    }

    /// Writes the model (EMA weights by default) as an autoencoder file that
    /// `VideoAutoencoder.load(from:)` reads, with `scaleFactor` as its latent scale.
    ///
    /// - Throws: `AutoencoderError.badWeights` when writing fails.
    public func exportModel(to url: URL, scaleFactor: Float, useEMA: Bool = true) throws {
        let previous = model.scaleFactor
        model.scaleFactor = scaleFactor
        defer { model.scaleFactor = previous }
        try withWeights(useEMA: useEMA) {
            try model.save(to: url, metadata: ["t2v.step": String(step), "t2v.weights": useEMA ? "ema" : "raw",
                                                "t2v.precision": (config.precision ?? .fp32).rawValue])
        }
    }
}
