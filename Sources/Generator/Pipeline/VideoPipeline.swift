import Foundation

/// Text to video with a trained `VideoDenoiser`: embeds the prompt with the text encoder, then
/// runs a sampler from seeded Gaussian noise with classifier-free guidance, and returns the
/// clip as Float32 `[frames, 3, H, W]` in [-1, 1]. The video comes from the model alone.
///
/// Reproducible: the noise comes from `Philox(seed:)`, so the same model, prompt and settings
/// give the same values on every run. The conditional and unconditional branches of guidance are
/// evaluated as one batch of two (one "CFG pair" forward per step).
public final class VideoPipeline {
    /// Settings of one generation.
    public struct Settings: Sendable, Codable, Equatable {
        /// The prompt.
        public var prompt: String
        /// Replaces the unconditional branch of guidance when set.
        public var negativePrompt: String? = nil
        /// Frames to generate (the temporal bias is relative, so any count works).
        public var frames: Int
        /// Denoising steps (model evaluations per branch).
        public var steps: Int
        /// The sampler.
        public var sampler: SamplerKind = .ddim
        /// Classifier-free guidance scale; 1 evaluates the conditional branch only.
        public var guidance: Float = 3
        /// Seed of the initial noise (and of DDPM's per-step noise).
        public var seed: UInt64 = 0

        /// Creates settings.
        public init(prompt: String, negativePrompt: String? = nil, frames: Int, steps: Int,
                    sampler: SamplerKind = .ddim, guidance: Float = 3, seed: UInt64 = 0) {
            self.prompt = prompt
            self.negativePrompt = negativePrompt
            self.frames = frames
            self.steps = steps
            self.sampler = sampler
            self.guidance = guidance
            self.seed = seed
        }
    }

    /// Metadata key under which a distilled student stores the step count it was trained for.
    public static let samplingStepsKey = "t2v.sampling_steps"

    /// The denoiser.
    public let model: VideoDenoiser
    /// The weights file's metadata.
    public let metadata: [String: String]
    /// The text encoder.
    public let textEncoder: TextEncoder

    /// Wraps a loaded model and text encoder. Throws `DenoiserError.badInput` when the model's
    /// text dimension differs from the encoder's.
    public init(model: VideoDenoiser, metadata: [String: String], textEncoder: TextEncoder) throws {
        guard model.config.textDim == textEncoder.dimension else {
            throw DenoiserError.badInput("the model expects \(model.config.textDim)-d text embeddings, the text encoder gives \(textEncoder.dimension)")
        }
        self.model = model
        self.metadata = metadata
        self.textEncoder = textEncoder
    }

    /// Steps to use when the caller does not say: a distilled student's own count, else 32.
    public var defaultSteps: Int {
        metadata[VideoPipeline.samplingStepsKey].flatMap(Int.init) ?? 32
    }

    /// Frame size the model generates (square).
    public var resolution: Int { model.config.resolution }

    /// The pooled embedding of `text` (the empty string gives the zero vector: the learned
    /// unconditional input, as in training's condition dropout).
    public func embed(_ text: String) throws -> [Float] {
        if text.isEmpty { return [Float](repeating: 0, count: model.config.textDim) }
        return try textEncoder.encode(text).pooled
    }

    /// Generates one clip. `progress` is called after each step (return false to cancel, which
    /// throws `DiffusionError.cancelled`).
    ///
    /// - Returns: `[frames, 3, resolution, resolution]` values clamped to [-1, 1].
    /// - Throws: `DenoiserError.badInput` for a frame count below 1 or a step count the schedule
    ///   cannot make, errors of the text encoder, `DiffusionError`.
    public func generate(_ settings: Settings, progress: ((SamplingProgress) -> Bool)? = nil) throws -> [Float] {
        let mc = model.config
        guard settings.frames >= 1 else { throw DenoiserError.badInput("frames must be at least 1, got \(settings.frames)") }
        guard (1...mc.schedule.trainSteps).contains(settings.steps) else {
            throw DenoiserError.badInput("steps must be in 1...\(mc.schedule.trainSteps), got \(settings.steps)")
        }
        guard settings.guidance >= 0, settings.guidance.isFinite else {
            throw DenoiserError.badInput("guidance must be a non-negative number, got \(settings.guidance)")
        }
        let conditional = try embed(settings.prompt)
        let unconditional = try embed(settings.negativePrompt ?? "")
        let (f, c, r) = (settings.frames, mc.inChannels, mc.resolution)
        let count = f * c * r * r
        let scheduler = settings.sampler.makeScheduler(schedule: mc.schedule, steps: settings.steps, prediction: mc.predictionType)
        var rng = Philox(seed: settings.seed)
        let guidance = ClassifierFreeGuidance(scale: settings.guidance)

        // One batched forward for both branches; the unconditional half is kept for the call
        // that follows it at the same (x, t).
        var pendingUnconditional: (t: Int, output: [Float])? = nil
        let model = self.model
        func evaluate(_ x: [Float], _ t: Int, _ branch: GuidanceBranch) throws -> [Float] {
            switch branch {
            case .conditional where guidance.needsUnconditional:
                let out = withoutGradients {
                    model(Tensor(shape: [2, f, c, r, r], data: x + x), timesteps: [t, t],
                          text: Tensor(shape: [2, mc.textDim], data: conditional + unconditional)).toArray()
                }
                pendingUnconditional = (t, Array(out[count...]))
                return Array(out[..<count])
            case .conditional:
                return try model.predict(x, timestep: t, text: conditional, frames: f, height: r, width: r)
            case .unconditional:
                if let pending = pendingUnconditional, pending.t == t {
                    pendingUnconditional = nil
                    return pending.output
                }
                return try model.predict(x, timestep: t, text: unconditional, frames: f, height: r, width: r)
            }
        }
        let sample = try DiffusionSampler.sample(
            count: count, scheduler: scheduler, noise: { rng.normal(count: $0) },
            guidance: guidance, model: evaluate, progress: progress)
        return sample.map { min(1, max(-1, $0)) }
    }
}
