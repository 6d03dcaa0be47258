/// One resolution level of the encoder: residual blocks, then the temporal transformer, then a
/// stride-2 convolution (all but the last level).
final class DownLevel: Module {
    /// Residual blocks; checkpoint key `resBlocks.i`.
    let resBlocks: [ResBlock]
    /// Cross-attention to the prompt's tokens (`DenoiserConfig.crossAttention`, the two lowest
    /// resolutions); checkpoint key `crossAttention`.
    let crossAttention: CrossAttention?
    /// Temporal stream (nil in the ablation); checkpoint key `temporal`.
    let temporal: TemporalTransformer?
    /// Stride-2 3x3 convolution; checkpoint key `downsample`.
    let downsample: Conv2d?

    init(resBlocks: [ResBlock], crossAttention: CrossAttention?, temporal: TemporalTransformer?, downsample: Conv2d?) {
        self.resBlocks = resBlocks
        self.crossAttention = crossAttention
        self.temporal = temporal
        self.downsample = downsample
    }
}

/// One resolution level of the decoder: residual blocks on [h, skip], the temporal transformer,
/// then nearest 2x upsampling and a 3x3 convolution (all but the top level).
final class UpLevel: Module {
    /// Residual blocks; checkpoint key `resBlocks.i`.
    let resBlocks: [ResBlock]
    /// Cross-attention to the prompt's tokens (the two lowest resolutions); checkpoint key
    /// `crossAttention`.
    let crossAttention: CrossAttention?
    /// Temporal stream (nil in the ablation); checkpoint key `temporal`.
    let temporal: TemporalTransformer?
    /// 3x3 convolution after upsampling; checkpoint key `upsample`.
    let upsample: Conv2d?

    init(resBlocks: [ResBlock], crossAttention: CrossAttention?, temporal: TemporalTransformer?, upsample: Conv2d?) {
        self.resBlocks = resBlocks
        self.crossAttention = crossAttention
        self.temporal = temporal
        self.upsample = upsample
    }
}

/// The cross-frame noise predictor: a factorised space-time UNet (Ho et al. 2022, "Video
/// Diffusion Models"). Spatial layers run on every frame: residual blocks with GroupNorm, SiLU,
/// 3x3 convolutions and FiLM conditioning on the timestep embedding (sinusoidal + MLP) plus the
/// pooled text embedding; stride-2 downsampling and nearest upsampling with skip connections;
/// self-attention at the lowest resolution. After the spatial blocks of every level (and in the
/// middle) a `TemporalTransformer` attends over the frame axis at each position with TGS
/// attention (a learned, gated, relative frame-distance bias). `config.temporal = false` removes
/// the temporal stream.
///
/// Input and output: `[B, F, C, H, W]`; the output is in `config.predictionType`.
public final class VideoDenoiser: Module {
    /// The configuration the model was built from.
    public let config: DenoiserConfig
    /// Timestep MLP; checkpoint key `timeEmbedding`.
    let timeEmbedding: TimestepEmbedding
    /// Fixed whitening of the pooled text embedding (`DenoiserConfig.textWhitening`); checkpoint
    /// key `textWhitening`.
    public let textWhitening: TextWhitening?
    /// Pooled text embedding -> FiLM embedding; checkpoint key `textProjection`.
    let textProjection: Linear
    /// Input convolution; checkpoint key `convIn`.
    let convIn: Conv2d
    /// Encoder levels; checkpoint key `down.l`.
    let down: [DownLevel]
    /// Middle residual block 1; checkpoint key `midRes1`.
    let midRes1: ResBlock
    /// Middle spatial self-attention; checkpoint key `midAttention`.
    let midAttention: SpatialAttention
    /// Middle cross-attention to the prompt's tokens; checkpoint key `midCrossAttention`.
    let midCrossAttention: CrossAttention?
    /// Middle temporal stream; checkpoint key `midTemporal`.
    let midTemporal: TemporalTransformer?
    /// Middle residual block 2; checkpoint key `midRes2`.
    let midRes2: ResBlock
    /// Decoder levels, top level first; checkpoint key `up.l`.
    let up: [UpLevel]
    /// Output normalisation; checkpoint key `normOut`.
    let normOut: GroupNorm
    /// Output convolution; checkpoint key `convOut`.
    let convOut: Conv2d

    /// Builds the model with weights drawn from `rng` (pass a seeded `Philox` for reproducibility).
    ///
    /// - Throws: `DenoiserError.invalidConfig` when the configuration is inconsistent.
    public init(config: DenoiserConfig, rng: inout some RandomNumberGenerator) throws {
        try config.validate()
        self.config = config
        let e = config.embeddingDim, g = config.groups, levels = config.channelMultipliers.count
        func temporal(_ c: Int, _ rng: inout some RandomNumberGenerator) -> TemporalTransformer? {
            config.temporal ? TemporalTransformer(channels: c, heads: config.heads, maxDistance: config.maxFrameDistance,
                                                  convolutionGroups: config.temporalConvolution ? config.groups : nil,
                                                  textDim: config.temporalConditioning ? config.textDim : nil,
                                                  positions: config.temporalPositions, rng: &rng) : nil
        }

        // Cross-attention at the two lowest resolutions and in the middle.
        func crossAttention(_ c: Int, level: Int?, _ rng: inout some RandomNumberGenerator) -> CrossAttention? {
            guard config.crossAttention, level.map({ $0 >= levels - 2 }) ?? true else { return nil }
            return CrossAttention(channels: c, textDim: config.textDim, heads: config.heads, groups: g, rng: &rng)
        }

        // Conditioning.
        timeEmbedding = TimestepEmbedding(features: config.baseChannels, embeddingDim: e, rng: &rng)
        textWhitening = config.textWhitening.map { _ in TextWhitening(dim: config.textDim) }
        textProjection = Linear(config.textDim, e, rng: &rng)
        convIn = Conv2d(config.inChannels, config.channels(level: 0), kernelSize: 3, padding: 1, rng: &rng)

        // Encoder.
        var downLevels = [DownLevel]()
        var c = config.channels(level: 0)
        for l in 0..<levels {
            let out = config.channels(level: l)
            var blocks = [ResBlock]()
            for _ in 0..<config.resBlocksPerLevel {
                blocks.append(ResBlock(c, out, embeddingDim: e, groups: g, rng: &rng))
                c = out
            }
            let x = crossAttention(out, level: l, &rng)
            let t = temporal(out, &rng)
            let ds = l < levels - 1 ? Conv2d(out, out, kernelSize: 3, stride: 2, padding: 1, rng: &rng) : nil
            downLevels.append(DownLevel(resBlocks: blocks, crossAttention: x, temporal: t, downsample: ds))
        }
        down = downLevels

        // Middle.
        midRes1 = ResBlock(c, c, embeddingDim: e, groups: g, rng: &rng)
        midAttention = SpatialAttention(channels: c, heads: config.heads, groups: g, rng: &rng)
        midCrossAttention = crossAttention(c, level: nil, &rng)
        midTemporal = temporal(c, &rng)
        midRes2 = ResBlock(c, c, embeddingDim: e, groups: g, rng: &rng)

        // Decoder, from the lowest level up; stored top level first.
        var upLevels = [UpLevel]()
        for l in (0..<levels).reversed() {
            let out = config.channels(level: l)
            var blocks = [ResBlock]()
            for r in 0..<config.resBlocksPerLevel {
                blocks.append(ResBlock(r == 0 ? c + out : out, out, embeddingDim: e, groups: g, rng: &rng))
            }
            c = out
            let x = crossAttention(out, level: l, &rng)
            let t = temporal(out, &rng)
            let us = l > 0 ? Conv2d(out, out, kernelSize: 3, padding: 1, rng: &rng) : nil
            upLevels.insert(UpLevel(resBlocks: blocks, crossAttention: x, temporal: t, upsample: us), at: 0)
        }
        up = upLevels

        // Output.
        normOut = GroupNorm(groups: g, channels: c)
        convOut = Conv2d(c, config.inChannels, kernelSize: 3, padding: 1, rng: &rng)
    }

    /// Predicts the noise (or v, or x0, per `config.predictionType`) for a batch of clips.
    ///
    /// - Parameters:
    ///   - x: noisy clips `[B, F, C, H, W]`; any F; H and W divisible by 2^(levels-1).
    ///   - timesteps: one diffusion timestep per clip (B values).
    ///   - text: pooled text embeddings `[B, textDim]` (zeros = unconditional).
    ///   - tokens: the clips' token states, for a model with `config.crossAttention` (required
    ///     there; ignored by models without it).
    /// - Returns: `[B, F, C, H, W]`.
    /// - Precondition: shapes as above (the message names them).
    public func callAsFunction(_ x: Tensor, timesteps: [Int], text: Tensor, tokens: TokenStates? = nil) -> Tensor {
        precondition(x.rank == 5 && x.shape[2] == config.inChannels,
                     "VideoDenoiser: expected x of shape [B, F, \(config.inChannels), H, W], got \(x.shape)")
        let (b, f, ch, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3], x.shape[4])
        let factor = 1 << (config.channelMultipliers.count - 1)
        precondition(h % factor == 0 && w % factor == 0, "VideoDenoiser: frame size \(h)x\(w) must be divisible by \(factor)")
        precondition(timesteps.count == b, "VideoDenoiser: \(timesteps.count) timesteps for a batch of \(b)")
        precondition(text.shape == [b, config.textDim], "VideoDenoiser: expected text of shape [\(b), \(config.textDim)], got \(text.shape)")
        checkTokens(tokens, items: b)

        // Conditioning embedding per clip, repeated for its frames: [B*F, E].
        let e = config.embeddingDim
        let conditioning = textWhitening.map { $0(text) } ?? text
        let embClip = timeEmbedding(timesteps) + textProjection(conditioning)
        let emb = embClip.reshaped([b, 1, e]).expanded(to: [b, f, e]).reshaped([b * f, e])
        return forward(x.reshaped([b * f, ch, h, w]), embedding: emb, frames: config.temporal ? (f, conditioning) : nil,
                       tokens: config.crossAttention ? tokens.map { ($0, f) } : nil)
            .reshaped([b, f, ch, h, w])
    }

    /// Independent images, each with its own timestep and text, through the spatial layers only
    /// (the temporal stream is skipped, as for the image part of joint image-video training,
    /// Ho et al. 2022): `x` is `[N, C, H, W]`, `timesteps` N values, `text` `[N, textDim]`,
    /// `tokens` one item per image (required with `config.crossAttention`).
    ///
    /// - Precondition: shapes as above (the message names them).
    public func callAsFunction(images x: Tensor, timesteps: [Int], text: Tensor, tokens: TokenStates? = nil) -> Tensor {
        precondition(x.rank == 4 && x.shape[1] == config.inChannels,
                     "VideoDenoiser: expected images of shape [N, \(config.inChannels), H, W], got \(x.shape)")
        let (n, h, w) = (x.shape[0], x.shape[2], x.shape[3])
        let factor = 1 << (config.channelMultipliers.count - 1)
        precondition(h % factor == 0 && w % factor == 0, "VideoDenoiser: frame size \(h)x\(w) must be divisible by \(factor)")
        precondition(timesteps.count == n, "VideoDenoiser: \(timesteps.count) timesteps for \(n) images")
        precondition(text.shape == [n, config.textDim], "VideoDenoiser: expected text of shape [\(n), \(config.textDim)], got \(text.shape)")
        checkTokens(tokens, items: n)
        let conditioning = textWhitening.map { $0(text) } ?? text
        return forward(x, embedding: timeEmbedding(timesteps) + textProjection(conditioning), frames: nil,
                       tokens: config.crossAttention ? tokens.map { ($0, 1) } : nil)
    }

    /// A model with cross-attention needs one token item per clip or image.
    private func checkTokens(_ tokens: TokenStates?, items: Int) {
        guard config.crossAttention else { return }
        precondition(tokens != nil, "VideoDenoiser: this model attends to the prompts' token states; pass tokens")
        precondition(tokens!.counts.count == items && tokens!.values.shape[2] == config.textDim,
                     "VideoDenoiser: expected token states for \(items) items of width \(config.textDim), got \(tokens!.values.shape)")
    }

    /// The UNet on frames `[B*F, C, H, W]` with their embeddings `[B*F, E]`; `frames` is F and the
    /// clips' pooled text embeddings `[B, textDim]` for the temporal stream, nil to skip it;
    /// `tokens` the items' token states with the frames per item, for the cross-attention blocks.
    private func forward(_ x: Tensor, embedding emb: Tensor, frames clips: (count: Int, text: Tensor)?,
                         tokens: (TokenStates, Int)?) -> Tensor {
        var hidden = convIn(x)
        func attend(_ block: CrossAttention?, _ h: Tensor) -> Tensor {
            guard let block, let (states, perItem) = tokens else { return h }
            return block(h, tokens: states, framesPerItem: perItem)
        }
        func relate(_ block: TemporalTransformer?, _ h: Tensor) -> Tensor {
            guard let block, let clips else { return h }
            return block(h, frames: clips.count, text: clips.text)
        }

        // Encoder.
        var skips = [Tensor]()
        for level in down {
            for block in level.resBlocks { hidden = block(hidden, emb) }
            hidden = attend(level.crossAttention, hidden)
            hidden = relate(level.temporal, hidden)
            skips.append(hidden)
            if let ds = level.downsample { hidden = ds(hidden) }
        }

        // Middle.
        hidden = midRes1(hidden, emb)
        hidden = midAttention(hidden)
        hidden = attend(midCrossAttention, hidden)
        hidden = relate(midTemporal, hidden)
        hidden = midRes2(hidden, emb)

        // Decoder.
        for (level, skip) in zip(up, skips).reversed() {
            hidden = Tensor.concat([hidden, skip], axis: 1)
            for block in level.resBlocks { hidden = block(hidden, emb) }
            hidden = attend(level.crossAttention, hidden)
            hidden = relate(level.temporal, hidden)
            if let us = level.upsample { hidden = us(hidden.upsampleNearest2x()) }
        }

        // Output.
        return convOut(normOut.silu(hidden))
    }

    /// Inference on flat arrays for `DiffusionSampler`: one clip of `frames` x C x `height` x
    /// `width` values at `timestep`, conditioned on `text` (`textDim` values; zeros for the
    /// unconditional branch) and, for a model with cross-attention, `tokens` (the prompt's token
    /// states, `count × textDim` values; empty for the unconditional branch). Records no gradients.
    ///
    /// - Throws: `DenoiserError.badInput` when the sizes do not fit.
    public func predict(_ x: [Float], timestep: Int, text: [Float], tokens: [Float]? = nil, frames: Int, height: Int,
                        width: Int) throws -> [Float] {
        try predict(x, timestep: timestep, texts: [text], tokens: tokens.map { [$0] }, frames: frames, height: height,
                    width: width)[0]
    }

    /// The same clip `x` under each of `texts` as one batch (classifier-free guidance's
    /// conditional and unconditional branches in one forward pass); one output per text, each
    /// equal to `predict(x, text:)` up to rounding; `tokens`, one per text, as in `predict(_:text:)`.
    ///
    /// - Throws: `DenoiserError.badInput` when the sizes do not fit, `texts` is empty, or a model
    ///   with cross-attention gets no token states.
    public func predict(_ x: [Float], timestep: Int, texts: [[Float]], tokens: [[Float]]? = nil, frames: Int, height: Int,
                        width: Int) throws -> [[Float]] {
        let c = config.inChannels, n = texts.count
        guard x.count == frames * c * height * width else {
            throw DenoiserError.badInput("\(x.count) values do not make \(frames) frames of \(c)x\(height)x\(width)")
        }
        guard n > 0 else { throw DenoiserError.badInput("no text embedding given") }
        for text in texts where text.count != config.textDim {
            throw DenoiserError.badInput("text embedding has \(text.count) values, the model expects \(config.textDim)")
        }
        let factor = 1 << (config.channelMultipliers.count - 1)
        guard height % factor == 0, width % factor == 0 else {
            throw DenoiserError.badInput("frame size \(width)x\(height) must be divisible by \(factor) for this model")
        }
        var states: TokenStates? = nil
        if config.crossAttention {
            guard let tokens, tokens.count == n else {
                throw DenoiserError.badInput("this model attends to the prompt's token states: pass one set per text")
            }
            for t in tokens where t.count % config.textDim != 0 {
                throw DenoiserError.badInput("token states of \(t.count) values are not whole tokens of \(config.textDim)")
            }
            states = TokenStates(tokens, textDim: config.textDim)
        }
        let batch = n == 1 ? x : Array([[Float]](repeating: x, count: n).joined())
        let out = withoutGradients {
            self(Tensor(shape: [n, frames, c, height, width], data: batch), timesteps: [Int](repeating: timestep, count: n),
                 text: Tensor(shape: [n, config.textDim], data: n == 1 ? texts[0] : Array(texts.joined())), tokens: states).toArray()
        }
        return n == 1 ? [out] : (0..<n).map { Array(out[$0 * x.count..<($0 + 1) * x.count]) }
    }
}
