/// Hyper-parameters of `Trainer`.
public struct TrainingConfig: Sendable, Codable, Equatable {
    /// Clips per optimisation step.
    public var batchSize: Int = 4
    /// Peak AdamW learning rate.
    public var learningRate: Float = 2e-4
    /// Learning rate at the end of the cosine decay.
    public var minimumLearningRate: Float = 0
    /// Linear warm-up steps.
    public var warmupSteps: Int = 200
    /// Steps of the whole run (end of the cosine decay).
    public var totalSteps: Int = 20_000
    /// AdamW decoupled weight decay (not applied to biases and norms).
    public var weightDecay: Float = 0.01
    /// Global gradient-norm clip; 0 disables.
    public var gradientClip: Float = 1
    /// Target EMA decay (ramped up as min(decay, (1 + n) / (10 + n)) over the first updates).
    public var emaDecay: Float = 0.999
    /// Probability of replacing a clip's text embedding by zeros (the unconditional embedding),
    /// for classifier-free guidance.
    public var conditionDropout: Double = 0.1
    /// Text-conditioning augmentation: each kept (not dropped) clip's embedding e becomes
    /// (e + s * z / sqrt(D)) rescaled to the norm of e, with z ~ N(0, I) and s uniform in
    /// [0, textNoise), so the denoiser learns from a neighbourhood of each caption's embedding, not
    /// only the point (at s = 1 the cosine to e is about 0.71). `nil` (or 0): off, and the random
    /// stream draws nothing for it, so runs without it are unchanged; left out of the JSON then.
    public var textNoise: Float? = nil
    /// Joint image-video training (Ho et al. 2022): the share of each batch's clip slots filled
    /// with independent frames instead (a slot holds `frames` frames drawn from random clips, each
    /// with its own timestep, caption and noise), which the denoiser sees through its spatial
    /// layers only. At equal compute the spatial layers see many more (frame, noise level) pairs,
    /// and the temporal stream is left to learn how frames relate. `nil` (or 0): off, the random
    /// stream draws nothing for it and it is left out of the JSON.
    public var imageFraction: Double? = nil
    /// Loss weighting across noise levels. `.uniform` on a v target is the "SNR + 1" weighting
    /// of Salimans & Ho; Min-SNR-gamma on v gives near-zero weight to the noisiest steps
    /// (min(SNR, gamma) / (SNR + 1) -> 0), which a conditional model must learn to start sampling.
    public var lossWeighting: LossWeighting = .uniform
    /// Weight λ of a frame-difference term beside the plain loss of a clip: λ times the mean over
    /// consecutive frames of ((p[f+1] − y[f+1]) − (p[f] − y[f]))², under the same noise-level
    /// weight. The plain loss weighs an error alike whether every frame shares it or not; this
    /// term weighs only the errors that change from frame to frame (an object misplaced, drawn in
    /// one frame and not the next, moving the wrong way), which on mostly still clips are a small
    /// share of the pixels. Images of joint training have no neighbouring frame and are
    /// unaffected. `nil` (or 0): off, left out of the JSON.
    public var motionLossWeight: Double? = nil
    /// Share of examples (clips and images) whose timestep is drawn uniformly from the noisiest
    /// band of the schedule, [`highNoiseFrom`·T, T), instead of from all T steps. The steps near T,
    /// where the noisy input no longer shows what the clip holds and only the caption can say it
    /// (which object, which colour, which way it moves), are otherwise a few percent of training;
    /// this moves compute to them at the same step count. `nil` (or 0): off, the random stream
    /// draws nothing for it and it is left out of the JSON.
    public var highNoiseFraction: Double? = nil
    /// Start of the noisiest band as a fraction of the schedule's steps (default 0.9 when
    /// `highNoiseFraction` is set).
    public var highNoiseFrom: Double? = nil
    /// Write a checkpoint every this many steps (0: only at the end and on cancel).
    public var checkpointEvery: Int = 500
    /// Seed of the trainer's random stream (batches, dropout, timesteps, noise).
    public var seed: UInt64 = 0
    /// Arithmetic of the run's convolutions and matrix products (`ComputePrecision`); what the
    /// caller set for the run, recorded with it. `nil`: fp32, left out of the JSON.
    public var precision: ComputePrecision? = nil

    /// The defaults above.
    public init() {}

    /// Checks the values.
    ///
    /// - Throws: `TrainingError.invalidConfig` naming the field.
    public func validate() throws {
        if precision == .bf16 && !ComputePrecision.bf16Supported {
            throw TrainingError.invalidConfig("precision bf16 needs a CPU with AVX512_BF16; this one lacks it")
        }
        guard batchSize > 0 else { throw TrainingError.invalidConfig("batchSize must be positive") }
        guard learningRate > 0, minimumLearningRate >= 0 else { throw TrainingError.invalidConfig("learning rates must be positive") }
        guard warmupSteps >= 0, totalSteps >= warmupSteps else {
            throw TrainingError.invalidConfig("need 0 <= warmupSteps (\(warmupSteps)) <= totalSteps (\(totalSteps))")
        }
        guard (0...1).contains(conditionDropout) else { throw TrainingError.invalidConfig("conditionDropout must be in [0, 1]") }
        if let textNoise {
            guard textNoise.isFinite, (0...10).contains(textNoise) else { throw TrainingError.invalidConfig("textNoise must be in [0, 10]") }
        }
        if let imageFraction {
            guard (0..<1).contains(imageFraction) else { throw TrainingError.invalidConfig("imageFraction must be in [0, 1)") }
        }
        if let motionLossWeight {
            guard motionLossWeight.isFinite, (0...100).contains(motionLossWeight) else {
                throw TrainingError.invalidConfig("motionLossWeight must be in [0, 100]")
            }
        }
        if let highNoiseFraction {
            guard highNoiseFraction.isFinite, (0...1).contains(highNoiseFraction) else {
                throw TrainingError.invalidConfig("highNoiseFraction must be in [0, 1]")
            }
        }
        if let highNoiseFrom {
            guard highNoiseFrom.isFinite, (0..<1).contains(highNoiseFrom) else { throw TrainingError.invalidConfig("highNoiseFrom must be in [0, 1)") }
        }
        guard (0..<1).contains(emaDecay) else { throw TrainingError.invalidConfig("emaDecay must be in [0, 1)") }
        guard checkpointEvery >= 0, gradientClip >= 0 else { throw TrainingError.invalidConfig("checkpointEvery and gradientClip must be >= 0") }
    }
}

/// One training example: a clip and its prompt's pooled text embedding (and token states, for
/// a model with cross-attention).
public struct TrainingClip: Sendable {
    /// `frames * channels * height * width` values in [-1, 1], frame-major (`[F, C, H, W]`).
    public var video: [Float]
    /// The pooled text embedding (`textDim` values).
    public var text: [Float]
    /// The caption's token states (`count × textDim` values; empty for an empty caption), which
    /// only a model with `DenoiserConfig.crossAttention` reads.
    public var tokens: [Float]

    /// The clip's other captions (`ClipRecord.alternatives`), embedded: training draws one of
    /// `text` and these, uniformly, each time it uses the clip (`drawingCaption`).
    public var alternatives: [CaptionCondition]

    /// Creates an example.
    public init(video: [Float], text: [Float], tokens: [Float] = [], alternatives: [CaptionCondition] = []) {
        self.video = video
        self.text = text
        self.tokens = tokens
        self.alternatives = alternatives
    }

    /// The clip under one of its captions drawn uniformly from `rng` (the clip as it is, drawing
    /// nothing, when it has no alternatives: a run on single-caption data keeps its stream).
    func drawingCaption(_ rng: inout Philox) -> TrainingClip {
        guard !alternatives.isEmpty else { return self }
        let k = rng.nextInt(below: alternatives.count + 1)
        guard k > 0 else { return TrainingClip(video: video, text: text, tokens: tokens) }
        return TrainingClip(video: video, text: alternatives[k - 1].text, tokens: alternatives[k - 1].tokens)
    }
}

/// One caption's conditioning: its pooled text embedding and token states.
public struct CaptionCondition: Sendable {
    /// The pooled text embedding (`textDim` values).
    public var text: [Float]
    /// The token states (see `TrainingClip.tokens`).
    public var tokens: [Float]

    /// Creates a caption's conditioning.
    public init(text: [Float], tokens: [Float] = []) {
        self.text = text
        self.tokens = tokens
    }
}

/// One frame for the image part of joint image-video training.
public struct TrainingImage: Sendable {
    /// `channels * height * width` values in [-1, 1] (`[C, H, W]`).
    public var image: [Float]
    /// The pooled text embedding of its clip's caption.
    public var text: [Float]
    /// Its clip's caption's token states (see `TrainingClip.tokens`).
    public var tokens: [Float]

    /// Creates an example.
    public init(image: [Float], text: [Float], tokens: [Float] = []) {
        self.image = image
        self.text = text
        self.tokens = tokens
    }
}

/// Reported after every training step.
public struct TrainingProgress: Sendable {
    /// Steps completed (1-based).
    public let step: Int
    /// The run's total steps.
    public let totalSteps: Int
    /// Weighted loss of this step's batch.
    public let loss: Float
    /// Learning rate used for this step.
    public let learningRate: Float
}
