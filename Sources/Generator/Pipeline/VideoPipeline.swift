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
        /// Frames per denoiser call when `frames` is longer (sliding-window sampling); nil: the
        /// model's training length.
        public var window: Int? = nil
        /// Frames shared by neighbouring windows; nil: half the window.
        public var overlap: Int? = nil
        /// Clamp the predicted clean sample to [-limit, limit] at every step (DDIM and DDPM;
        /// diffusers' `clip_sample`); nil: no clamping.
        public var clipSample: Float? = nil
        /// DDIM's eta (Song et al. 2021, eq. 16; diffusers' `eta`): 0 or nil is deterministic
        /// DDIM, 1 adds DDPM's posterior noise at every step. DDIM only.
        public var eta: Double? = nil
        /// Guidance rescale φ in [0, 1] (`ClassifierFreeGuidance.rescale`; diffusers'
        /// `guidance_rescale`); nil or 0 is plain guidance.
        public var guidanceRescale: Float? = nil
        /// The timesteps (of the model's 0..<trainSteps) where guidance applies; nil: every step
        /// (`ClassifierFreeGuidance.interval`).
        public var guidanceInterval: ClosedRange<Int>? = nil

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
    /// Metadata key under which a student of guided distillation stores the guidance scale it
    /// learnt (its conditional branch alone then samples like the guided teacher).
    public static let distilledGuidanceKey = "t2v.distilled_guidance"
    /// Metadata key of a student's sampler ("ddim-trailing": DDIM on the trailing grid it was
    /// distilled for).
    public static let samplerKey = "t2v.sampler"
    /// Metadata key of the file name of the teacher a student was distilled from.
    public static let distilledFromKey = "t2v.distilled_from"
    /// Metadata key of the SHA-256 (hex) of that teacher's file.
    public static let teacherSHA256Key = "t2v.teacher_sha256"
    /// Metadata key of the teacher's sampling steps that distillation started from.
    public static let teacherStepsKey = "t2v.teacher_steps"

    /// The denoiser.
    public let model: VideoDenoiser
    /// The weights file's metadata.
    public let metadata: [String: String]
    /// The text encoder.
    public let textEncoder: TextEncoder
    /// A latent model's autoencoder: the denoiser samples its latents and its decoder draws the
    /// frames (nil: the denoiser samples pixels).
    public let autoencoder: VideoAutoencoder?
    /// The captions the model was trained on (nil for files written before models kept them).
    public let knownCaptions: CaptionIndex?
    private let embeddingLock = NSLock()
    private var lastEmbedding: (text: String, embedding: TextEmbedding)?

    /// Wraps a loaded model and text encoder (and, for a latent model, its autoencoder: see
    /// `LatentBundle.autoencoder(in:)`). Throws `DenoiserError.badInput` when the model's text
    /// dimension differs from the encoder's, or the autoencoder's latent channels from the
    /// denoiser's input channels.
    public init(model: VideoDenoiser, metadata: [String: String], textEncoder: TextEncoder,
                autoencoder: VideoAutoencoder? = nil, knownCaptions: CaptionIndex? = nil) throws {
        guard model.config.textDim == textEncoder.dimension else {
            throw DenoiserError.badInput("the model expects \(model.config.textDim)-d text embeddings, the text encoder gives \(textEncoder.dimension)")
        }
        if let autoencoder, autoencoder.config.latentChannels != model.config.inChannels {
            throw DenoiserError.badInput("the autoencoder codes \(autoencoder.config.latentChannels) latent channels, the denoiser takes \(model.config.inChannels)")
        }
        if autoencoder == nil, model.config.inChannels != 3 {
            throw DenoiserError.badInput("the denoiser samples \(model.config.inChannels)-channel latents but no autoencoder came with it to decode them; use the model file `train` wrote with --autoencoder")
        }
        self.model = model
        self.metadata = metadata
        self.textEncoder = textEncoder
        self.autoencoder = autoencoder
        if let knownCaptions, knownCaptions.dimension != model.config.textDim {
            throw DenoiserError.badInput("the model's caption index holds \(knownCaptions.dimension)-d embeddings, the model takes \(model.config.textDim)-d ones")
        }
        self.knownCaptions = knownCaptions
    }

    /// Everything a model file holds for rendering: the denoiser, a latent model's bundled
    /// autoencoder (`LatentBundle`) and the training captions it keeps (`CaptionIndex`).
    ///
    /// - Throws: `DenoiserError.badWeights` / `AutoencoderError.badWeights` naming the file, and
    ///   the initialiser's errors when the parts do not fit together.
    public static func load(from url: URL, textEncoder: TextEncoder) throws -> VideoPipeline {
        let loaded = try VideoDenoiser.load(from: url)
        return try VideoPipeline(model: loaded.model, metadata: loaded.metadata, textEncoder: textEncoder,
                                 autoencoder: LatentBundle.autoencoder(in: url)?.model, knownCaptions: CaptionIndex.load(from: url))
    }

    /// The training captions nearest to `prompt` (cosine similarity of pooled embeddings), best
    /// first; empty when the model carries no captions or the prompt is empty.
    public func nearestKnownCaptions(to prompt: String, count: Int = 3) throws -> [CaptionIndex.Match] {
        guard let knownCaptions, !prompt.isEmpty else { return [] }
        return knownCaptions.nearest(to: try embed(prompt), count: count)
    }

    /// Steps to use when the caller does not say: a distilled student's own count, else 32.
    public var defaultSteps: Int {
        metadata[VideoPipeline.samplingStepsKey].flatMap(Int.init) ?? 32
    }

    /// The guidance scale distilled into this model (1 when it was not distilled with guidance).
    public var distilledGuidance: Float {
        metadata[VideoPipeline.distilledGuidanceKey].flatMap(Float.init) ?? 1
    }

    /// Guidance to use when the caller does not say: 1 (the conditional branch alone, one
    /// denoiser pass per step) for a model with guidance distilled into it, else 3. A scale s on
    /// such a model multiplies the distilled one: s * distilledGuidance relative to its teacher.
    public var defaultGuidance: Float {
        metadata[VideoPipeline.distilledGuidanceKey] != nil ? 1 : 3
    }

    /// Frame size of the generated frames (square): the denoiser's, times the autoencoder's
    /// downsampling factor for a latent model.
    public var resolution: Int { model.config.resolution * (autoencoder?.config.downsamplingFactor ?? 1) }

    /// Size of what the denoiser samples: the frames, or a latent model's latents.
    public var latentResolution: Int { model.config.resolution }

    /// The pooled embedding of `text` (the empty string gives the zero vector: the learned
    /// unconditional input, as in training's condition dropout).
    public func embed(_ text: String) throws -> [Float] {
        if text.isEmpty { return [Float](repeating: 0, count: model.config.textDim) }
        return try encoded(text).pooled
    }

    /// The token states of `text` for a model with cross-attention (`count × textDim` values;
    /// none for the empty string, as for a dropped caption in training).
    public func tokenStates(_ text: String) throws -> [Float] {
        text.isEmpty ? [] : try encoded(text).tokens
    }

    /// The text encoder's output for `text`. The last text's is kept: rendering places the prompt
    /// against the training captions and then samples from it, one encoder pass for both.
    private func encoded(_ text: String) throws -> TextEmbedding {
        embeddingLock.lock()
        if let last = lastEmbedding, last.text == text {
            embeddingLock.unlock()
            return last.embedding
        }
        embeddingLock.unlock()
        let embedding = try textEncoder.encode(text)
        embeddingLock.lock()
        lastEmbedding = (text, embedding)
        embeddingLock.unlock()
        return embedding
    }

    /// Generates one clip. `progress` is called after each step (return false to cancel, which
    /// throws `DiffusionError.cancelled`).
    ///
    /// - Returns: `[frames, 3, resolution, resolution]` values clamped to [-1, 1] (a latent
    ///   model's latents decoded by its autoencoder).
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
        // At scale 1 the unconditional branch, which a negative prompt replaces, is never evaluated.
        if settings.negativePrompt != nil, !ClassifierFreeGuidance(scale: settings.guidance).needsUnconditional {
            let why = distilledGuidance != 1 ? " (this model has guidance \(distilledGuidance) distilled into it, so its default scale is 1)" : ""
            throw DenoiserError.badInput("a negative prompt acts through guidance and the guidance scale is 1\(why), so it would have no effect: use guidance above 1, e.g. 1.5")
        }
        let window = settings.window ?? mc.frames
        guard window >= 1 else { throw DenoiserError.badInput("window must be at least 1 frame, got \(window)") }
        let overlap = settings.overlap ?? window / 2
        guard overlap >= 0, overlap < window else {
            throw DenoiserError.badInput("overlap must be in 0..<\(window) (the window), got \(overlap)")
        }
        let conditional = try embed(settings.prompt)
        let unconditional = try embed(settings.negativePrompt ?? "")
        // Token states only for a model that attends to them.
        let conditionalTokens = mc.crossAttention ? try tokenStates(settings.prompt) : nil
        let unconditionalTokens = mc.crossAttention ? try tokenStates(settings.negativePrompt ?? "") : nil
        let (f, c, r) = (settings.frames, mc.inChannels, mc.resolution)
        let count = f * c * r * r
        if let limit = settings.clipSample {
            guard limit > 0, limit.isFinite else { throw DenoiserError.badInput("clip-sample must be a positive number, got \(limit)") }
            guard settings.sampler != .dpmpp else {
                throw DenoiserError.badInput("clip-sample works with the ddim and ddpm samplers, not \(settings.sampler.rawValue)")
            }
        }
        if let eta = settings.eta {
            guard eta >= 0, eta.isFinite else { throw DenoiserError.badInput("eta must be a number >= 0, got \(eta)") }
            guard settings.sampler == .ddim || eta == 0 else {
                throw DenoiserError.badInput("eta applies to the ddim sampler, not \(settings.sampler.rawValue)")
            }
        }
        let scheduler = settings.sampler.makeScheduler(schedule: mc.schedule, steps: settings.steps, prediction: mc.predictionType,
                                                       clipSample: settings.clipSample, eta: settings.eta ?? 0)
        var rng = Philox(seed: settings.seed)
        if let r = settings.guidanceRescale, !(r >= 0 && r <= 1) {
            throw DenoiserError.badInput("guidance rescale must be in 0...1, got \(r)")
        }
        if let interval = settings.guidanceInterval, interval.lowerBound < 0 || interval.upperBound >= mc.schedule.trainSteps {
            throw DenoiserError.badInput("guidance interval must lie in 0...\(mc.schedule.trainSteps - 1) (the model's timesteps), got \(interval.lowerBound):\(interval.upperBound)")
        }
        let guidance = ClassifierFreeGuidance(scale: settings.guidance, rescale: settings.guidanceRescale ?? 0,
                                              interval: settings.guidanceInterval)

        // One batched forward for both branches; the unconditional half is kept for the call
        // that follows it at the same (x, t). Clips longer than the window are denoised window
        // by window and the overlapping predictions blended (see `SlidingWindows`).
        let windows = SlidingWindows(frames: f, window: window, overlap: overlap)
        let frameSize = c * r * r
        var pendingUnconditional: (t: Int, output: [Float])? = nil
        let model = self.model
        func evaluate(_ x: [Float], _ t: Int, _ branch: GuidanceBranch) throws -> [Float] {
            switch branch {
            case .conditional where guidance.applies(at: t):
                let out = try windows.blend(x, frameSize: frameSize, outputs: 2) { part, n in
                    try model.predict(part, timestep: t, texts: [conditional, unconditional],
                                      tokens: conditionalTokens.map { [$0, unconditionalTokens!] }, frames: n, height: r, width: r)
                }
                pendingUnconditional = (t, out[1])
                return out[0]
            case .conditional:
                return try windows.blend(x, frameSize: frameSize, outputs: 1) { part, n in
                    [try model.predict(part, timestep: t, text: conditional, tokens: conditionalTokens, frames: n, height: r, width: r)]
                }[0]
            case .unconditional:
                if let pending = pendingUnconditional, pending.t == t {
                    pendingUnconditional = nil
                    return pending.output
                }
                return try windows.blend(x, frameSize: frameSize, outputs: 1) { part, n in
                    [try model.predict(part, timestep: t, text: unconditional, tokens: unconditionalTokens, frames: n, height: r,
                                       width: r)]
                }[0]
            }
        }
        let sample = try DiffusionSampler.sample(
            count: count, scheduler: scheduler, noise: { rng.normal(count: $0) },
            guidance: guidance, model: evaluate, progress: progress)
        guard let autoencoder else { return sample.map { min(1, max(-1, $0)) } }
        // A latent model: decode a few frames at a time (bounded memory), then clamp the pixels.
        var frames = [Float]()
        frames.reserveCapacity(f * 3 * resolution * resolution)
        var start = 0
        while start < f {
            let n = min(4, f - start)
            let z = Tensor(shape: [n, c, r, r], data: Array(sample[(start * frameSize)..<((start + n) * frameSize)]))
            frames += withoutGradients { autoencoder.decode(z) }.toArray().map { min(1, max(-1, $0)) }
            start += n
        }
        return frames
    }
}

/// Sliding-window sampling of clips longer than the denoiser's window: the frame axis is covered
/// by windows of `window` frames, neighbours sharing at least `overlap` frames, spread evenly
/// from the clip's first frame to its last. At every denoising step each window is evaluated on its own and
/// the predictions are blended per frame with weights that ramp down towards each window's
/// edges, so a frame near a window's edge takes most of its prediction from the neighbouring
/// window where it sits further inside. Because every step's prediction is one blended field,
/// there is no seam to stitch afterwards. With `frames <= window` there is one window and the
/// blend is the model's output unchanged.
public struct SlidingWindows: Sendable, Equatable {
    /// Clip length.
    public let frames: Int
    /// Frames per window (at most `frames`).
    public let window: Int
    /// First frame of each window, ascending.
    public let starts: [Int]
    /// Per-frame weight within a window.
    let weights: [Float]

    /// Lays out the windows.
    ///
    /// - Precondition: `frames >= 1`, `window >= 1`, `0 <= overlap < window`.
    public init(frames: Int, window: Int, overlap: Int) {
        precondition(frames >= 1 && window >= 1 && (0..<window).contains(overlap), "bad sliding-window layout")
        self.frames = frames
        self.window = min(window, frames)
        if frames <= window {
            starts = [0]
            weights = [Float](repeating: 1, count: frames)
            return
        }
        // The fewest windows whose neighbours share at least `overlap` frames, spread evenly
        // from the first frame to the last (so every join gets the same overlap, or one more).
        let stride = window - overlap, span = frames - window
        let count = (span + stride - 1) / stride + 1
        starts = (0..<count).map { i in Int((Double(i * span) / Double(count - 1)).rounded()) }
        let ramp = Float(overlap + 1)
        weights = (0..<window).map { i in min(1, Float(i + 1) / ramp, Float(window - i) / ramp) }
    }

    /// Runs `body` on each window's frames of `x` (`[frames, frameSize]`) and blends the
    /// `outputs` arrays it returns (each the window's size) into clip-sized arrays.
    public func blend(_ x: [Float], frameSize: Int, outputs: Int,
                      _ body: (_ part: [Float], _ frames: Int) throws -> [[Float]]) rethrows -> [[Float]] {
        precondition(x.count == frames * frameSize, "sample has \(x.count) values, expected \(frames) frames of \(frameSize)")
        if starts.count == 1 { return try body(x, frames) }
        var sums = [[Float]](repeating: [Float](repeating: 0, count: x.count), count: outputs)
        var total = [Float](repeating: 0, count: frames)
        for start in starts {
            let part = Array(x[start * frameSize..<(start + window) * frameSize])
            let out = try body(part, window)
            precondition(out.count == outputs && out.allSatisfy { $0.count == part.count }, "window output has the wrong size")
            for i in 0..<window {
                let w = weights[i], base = (start + i) * frameSize
                total[start + i] += w
                for k in 0..<outputs {
                    out[k].withUnsafeBufferPointer { src in
                        for j in 0..<frameSize { sums[k][base + j] += w * src[i * frameSize + j] }
                    }
                }
            }
        }
        for k in 0..<outputs {
            for f in 0..<frames {
                let inv = 1 / total[f]
                for j in f * frameSize..<(f + 1) * frameSize { sums[k][j] *= inv }
            }
        }
        return sums
    }
}
