import Foundation

/// Trains a `VideoDenoiser` with the diffusion objective: each step draws a batch of clips, drops
/// each clip's text to the zero (unconditional) embedding with probability
/// `conditionDropout`, noises it to a uniform random timestep, and takes an AdamW step on the
/// weighted MSE to the `predictionType` target (v by default), with gradient clipping, a
/// warm-up + cosine learning rate and an EMA of the weights.
///
/// All randomness comes from one `Philox` stream seeded by `config.seed`; a checkpoint stores the
/// weights, the EMA, the AdamW moments, the step and the stream position, so a resumed run
/// continues bit for bit. Checkpoints are written atomically (temporary file, then rename)
/// every `checkpointEvery` steps, at the end, and when `progress` cancels.
public final class Trainer {
    /// The model being trained (raw weights; `exportModel(to:useEMA:)` writes the EMA).
    public let model: VideoDenoiser
    /// Hyper-parameters.
    public let config: TrainingConfig
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
    /// - Throws: `TrainingError.invalidConfig`.
    public init(model: VideoDenoiser, config: TrainingConfig) throws {
        try config.validate()
        self.model = model
        self.config = config
        var adam = AdamW.Configuration()
        adam.learningRate = config.learningRate
        adam.weightDecay = config.weightDecay
        optimizer = AdamW(namedParameters: model.trainableNamedParameters(), configuration: adam)
        ema = EMA(parameters: model.parameters(), decay: config.emaDecay, warmup: false)
        rng = Philox(seed: config.seed, stream: 1)
        schedule = WarmupCosineSchedule(peak: config.learningRate, minimum: config.minimumLearningRate,
                                        warmupSteps: config.warmupSteps, totalSteps: config.totalSteps)
    }

    /// Elements of one clip.
    var clipSize: Int { model.config.frames * model.config.inChannels * model.config.resolution * model.config.resolution }

    /// `TrainingConfig.textNoise`'s augmentation of one embedding: `e + scale * z / sqrt(D)`,
    /// rescaled to the norm of `e` (a zero embedding stays zero).
    static func perturb(_ e: [Float], scale: Float, rng: inout Philox) -> [Float] {
        let z = rng.normal(count: e.count)
        let k = scale / Float(e.count).squareRoot()
        var out = zip(e, z).map { $0 + k * $1 }
        let norm = e.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let outNorm = out.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0, outNorm > 0 else { return e }
        out = out.map { $0 * norm / outNorm }
        return out
    }

    /// The (possibly perturbed or dropped) text embedding of one example and its token states
    /// (none when dropped), from the trainer's stream; the token states draw nothing from it.
    private func conditioning(_ e: [Float], tokens: [Float]) -> (text: [Float], tokens: [Float]) {
        let drop = Double(rng.uniformFloat()) < config.conditionDropout
        if drop { return ([Float](repeating: 0, count: e.count), []) }
        if let noise = config.textNoise, noise > 0 {
            let scale = noise * rng.uniformFloat()
            return (Self.perturb(e, scale: scale, rng: &rng), tokens)
        }
        return (e, tokens)
    }

    /// The token states of a batch for the model (nil for a model without cross-attention).
    private func tokenStates(_ items: [[Float]]) -> TokenStates? {
        model.config.crossAttention ? TokenStates(items, textDim: model.config.textDim) : nil
    }

    /// Per-clip loss of a batch of clips `[b, F, ...]`: the mean squared error, plus
    /// `motionWeight` times the mean squared change of the error between consecutive frames
    /// (`TrainingConfig.motionLossWeight`). Returns `[b]`.
    static func clipLoss(prediction: Tensor, target: Tensor, motionWeight: Float) -> Tensor {
        let b = prediction.shape[0], frames = prediction.shape[1]
        let error = prediction - target
        let plain = error.square().reshaped([b, error.count / b]).mean(axis: 1)
        guard motionWeight > 0, frames > 1 else { return plain }
        let change = error.slice(axis: 1, 1..<frames) - error.slice(axis: 1, 0..<(frames - 1))
        return plain + change.square().reshaped([b, change.count / b]).mean(axis: 1) * motionWeight
    }

    /// Noised inputs, targets and loss weights for `count` samples of `n` values each.
    /// One example's training timestep: uniform over the schedule, or with probability
    /// `TrainingConfig.highNoiseFraction` uniform over its noisiest band.
    func drawTimestep() -> Int {
        let steps = model.config.schedule.trainSteps
        if let share = config.highNoiseFraction, share > 0 {
            let from = min(steps - 1, Int((config.highNoiseFrom ?? 0.9) * Double(steps)))
            if Double(rng.uniformFloat()) < share { return from + rng.nextInt(below: steps - from) }
        }
        return rng.nextInt(below: steps)
    }

    private func noised(_ x0: [Float], count: Int, timesteps: [Int]) -> (xt: [Float], target: [Float], weights: [Float]) {
        let mc = model.config, s = mc.schedule, n = x0.count / max(count, 1)
        let noise = rng.normal(count: x0.count)
        let xt = s.addNoise(x0: x0, noise: noise, timesteps: timesteps)
        var target = [Float]()
        target.reserveCapacity(x0.count)
        for (i, t) in timesteps.enumerated() {
            let range = i * n..<(i + 1) * n
            target += mc.predictionType.target(x0: Array(x0[range]), noise: Array(noise[range]), alpha: s.alpha(t), sigma: s.sigma(t))
        }
        let weights = DiffusionLoss.weights(timesteps: timesteps, schedule: s, prediction: mc.predictionType,
                                            weighting: config.lossWeighting).map(Float.init)
        return (xt, target, weights)
    }

    /// One optimisation step on `clips` (the batch) and, for joint image-video training, `images`
    /// (independent frames, each counting 1/frames of a clip in the loss); returns the weighted loss.
    ///
    /// - Throws: `TrainingError.badClip` when a clip's or image's size does not fit the model.
    @discardableResult
    public func trainStep(clips: [TrainingClip], images: [TrainingImage] = []) throws -> Float {
        let mc = model.config, b = clips.count, n = clipSize
        let frameSize = mc.inChannels * mc.resolution * mc.resolution
        for (i, c) in clips.enumerated() {
            guard c.video.count == n else {
                throw TrainingError.badClip(index: i, message: "has \(c.video.count) values, the model trains on \(mc.frames) frames of \(mc.inChannels)x\(mc.resolution)x\(mc.resolution) = \(n)")
            }
            guard c.text.count == mc.textDim else {
                throw TrainingError.badClip(index: i, message: "text embedding has \(c.text.count) values, expected \(mc.textDim)")
            }
        }
        for (i, im) in images.enumerated() where im.image.count != frameSize || im.text.count != mc.textDim {
            throw TrainingError.badClip(index: b + i, message: "image has \(im.image.count) values and \(im.text.count) text values, expected \(frameSize) and \(mc.textDim)")
        }
        guard b + images.count > 0 else { throw TrainingError.invalidConfig("a training step needs at least one clip or image") }

        // Condition dropout and timesteps, then the noise, from the trainer's stream.
        var text = [Float](), tokens = [[Float]](), timesteps = [Int]()
        for c in clips {
            let (e, t) = conditioning(c.text, tokens: c.tokens)
            text += e
            tokens.append(t)
            timesteps.append(drawTimestep())
        }
        var loss: Tensor? = nil
        // Each clip weighs 1 and each image 1/frames, over the batch's total weight.
        let total = Float(b) + Float(images.count) / Float(mc.frames)
        if b > 0 {
            let (xt, target, weights) = noised(clips.flatMap(\.video), count: b, timesteps: timesteps)
            let shape = [b, mc.frames, mc.inChannels, mc.resolution, mc.resolution]
            let prediction = model(Tensor(shape: shape, data: xt), timesteps: timesteps, text: Tensor(shape: [b, mc.textDim], data: text),
                                   tokens: tokenStates(tokens))
            let perSample = Trainer.clipLoss(prediction: prediction, target: Tensor(shape: shape, data: target),
                                             motionWeight: Float(config.motionLossWeight ?? 0))
            loss = images.isEmpty ? (perSample * Tensor(shape: [b], data: weights)).mean()
                                  : (perSample * Tensor(shape: [b], data: weights.map { $0 / total })).sum()
        }
        if !images.isEmpty {
            let m = images.count
            var imageText = [Float](), imageTokens = [[Float]](), imageSteps = [Int]()
            for im in images {
                let (e, t) = conditioning(im.text, tokens: im.tokens)
                imageText += e
                imageTokens.append(t)
                imageSteps.append(drawTimestep())
            }
            let (xt, target, weights) = noised(images.flatMap(\.image), count: m, timesteps: imageSteps)
            let shape = [m, mc.inChannels, mc.resolution, mc.resolution]
            let prediction = model(images: Tensor(shape: shape, data: xt), timesteps: imageSteps,
                                   text: Tensor(shape: [m, mc.textDim], data: imageText), tokens: tokenStates(imageTokens))
            let perImage = (prediction - Tensor(shape: shape, data: target)).square().reshaped([m, frameSize]).mean(axis: 1)
            let imageLoss = (perImage * Tensor(shape: [m], data: weights.map { $0 / (total * Float(mc.frames)) })).sum()
            loss = loss.map { $0 + imageLoss } ?? imageLoss
        }
        let objective = loss!

        // Backward, clip, AdamW, EMA.
        objective.backward()
        if config.gradientClip > 0 { _ = clipGradientNorm(optimizer.parameters, maxNorm: config.gradientClip) }
        optimizer.learningRate = schedule(step)
        optimizer.step()
        optimizer.zeroGrad()
        ema.decay = min(config.emaDecay, Float(1 + step) / Float(10 + step))
        ema.update()
        step += 1
        return objective.item
    }

    /// Clip slots of a batch filled with independent frames (`TrainingConfig.imageFraction`),
    /// at least one slot left for clips.
    var imageSlots: Int {
        guard let f = config.imageFraction, f > 0 else { return 0 }
        return min(config.batchSize - 1, Int((Double(config.batchSize) * f).rounded()))
    }

    /// Trains until `config.totalSteps` (or `steps` more steps), drawing batches uniformly from
    /// `clipCount` clips that `loadClip` provides.
    ///
    /// - Parameters:
    ///   - steps: how many steps to take now (default: up to `config.totalSteps`).
    ///   - clipCount: size of the dataset.
    ///   - loadClip: returns clip `i` (its video and pooled text embedding).
    ///   - checkpoint: where checkpoints go (nil: none).
    ///   - progress: called after each step; return false to stop (a checkpoint is written).
    /// - Returns: true when the run completed, false when it was cancelled.
    /// - Throws: what `loadClip` throws, `TrainingError`.
    @discardableResult
    public func train(steps: Int? = nil, clipCount: Int, loadClip: (Int) throws -> TrainingClip,
                      checkpoint: URL? = nil, progress: ((TrainingProgress) -> Bool)? = nil) throws -> Bool {
        guard clipCount > 0 else { throw TrainingError.invalidConfig("the dataset is empty") }
        let end = steps.map { step + $0 } ?? config.totalSteps
        while step < end {
            let slots = imageSlots
            let indices = (0..<config.batchSize - slots).map { _ in rng.nextInt(below: clipCount) }
            var clips = [TrainingClip]()
            for i in indices { clips.append(try loadClip(i).drawingCaption(&rng)) }
            var images = [TrainingImage]()
            if slots > 0 {
                let frames = model.config.frames, frameSize = clipSize / frames
                for _ in 0..<slots * frames {
                    let clip = try loadClip(rng.nextInt(below: clipCount)).drawingCaption(&rng)
                    let k = rng.nextInt(below: frames)
                    images.append(TrainingImage(image: Array(clip.video[k * frameSize..<(k + 1) * frameSize]), text: clip.text,
                                                tokens: clip.tokens))
                }
            }
            let lr = schedule(step)
            let loss = try trainStep(clips: clips, images: images)
            if let checkpoint, config.checkpointEvery > 0, step % config.checkpointEvery == 0 {
                try saveCheckpoint(to: checkpoint)
            }
            if let progress, !progress(TrainingProgress(step: step, totalSteps: config.totalSteps, loss: loss, learningRate: lr)) {
                if let checkpoint { try saveCheckpoint(to: checkpoint) }
                return false
            }
        }
        if let checkpoint { try saveCheckpoint(to: checkpoint) }
        return true
    }

    /// Writes the model (EMA weights by default, for sampling) as a denoiser checkpoint that
    /// `VideoDenoiser.load(from:)` reads, with `metadata` and `extraEntries` (a latent model's
    /// autoencoder, `LatentBundle`) in the same file.
    ///
    /// - Throws: `DenoiserError.badWeights` when writing fails.
    public func exportModel(to url: URL, useEMA: Bool = true, metadata: [String: String] = [:],
                            extraEntries: [SafeTensors.Entry] = []) throws {
        let raw = model.parameters().map { $0.value.copy() }
        if useEMA { ema.copyToParameters() }
        defer { if useEMA { for (p, r) in zip(model.parameters(), raw) { p.assign(r) } } }
        let meta = metadata.merging(["t2v.step": String(step), "t2v.weights": useEMA ? "ema" : "raw",
                                     "t2v.precision": (config.precision ?? .fp32).rawValue]) { _, own in own }
        try model.save(to: url, metadata: meta, extraEntries: extraEntries)
    }
}
