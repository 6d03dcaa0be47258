/// One resolution level of the decoder: residual blocks, then nearest 2x upsampling and a 3x3
/// convolution (all but the top level).
final class DecoderLevel: Module {
    /// Residual blocks; checkpoint key `resBlocks.i`.
    let resBlocks: [AutoencoderResBlock]
    /// 3x3 convolution after the nearest 2x upsampling; checkpoint key `upsample`.
    let upsample: Conv2d?

    init(resBlocks: [AutoencoderResBlock], upsample: Conv2d?) {
        self.resBlocks = resBlocks
        self.upsample = upsample
    }
}

/// The autoencoder's decoder, the encoder mirrored: latents `[N, C, h, w]` to frames
/// `[N, 3, f·h, f·w]`: conv-in, per level (lowest first) residual blocks and nearest 2x
/// upsampling + 3x3 convolution between levels, then GroupNorm, SiLU and a 3x3 convolution to RGB.
final class AutoencoderDecoder: Module {
    /// Input convolution from the latent; checkpoint key `convIn`.
    let convIn: Conv2d
    /// Levels, stored top level first (as the encoder's); checkpoint key `up.l`.
    let up: [DecoderLevel]
    /// Output normalisation; checkpoint key `normOut`.
    let normOut: GroupNorm
    /// Output convolution to RGB; checkpoint key `convOut`.
    let convOut: Conv2d

    init(config: AutoencoderConfig, rng: inout some RandomNumberGenerator) {
        let levels = config.channels.count, g = config.groups
        var c = config.channels[levels - 1]
        convIn = Conv2d(config.latentChannels, c, kernelSize: 3, padding: 1, rng: &rng)
        // Built from the lowest level up; stored top level first.
        var built = [DecoderLevel]()
        for l in (0..<levels).reversed() {
            let out = config.channels[l]
            var blocks = [AutoencoderResBlock]()
            for _ in 0..<config.resBlocks {
                blocks.append(AutoencoderResBlock(c, out, groups: g, rng: &rng))
                c = out
            }
            let us = l > 0 ? Conv2d(out, out, kernelSize: 3, padding: 1, rng: &rng) : nil
            built.insert(DecoderLevel(resBlocks: blocks, upsample: us), at: 0)
        }
        up = built
        normOut = GroupNorm(groups: g, channels: c)
        convOut = Conv2d(c, config.imageChannels, kernelSize: 3, padding: 1, rng: &rng)
    }

    /// `z`: `[N, C, h, w]`. Returns `[N, 3, f·h, f·w]`.
    func callAsFunction(_ z: Tensor) -> Tensor {
        var h = convIn(z)
        // Levels, lowest first.
        for level in up.reversed() {
            for block in level.resBlocks { h = block(h) }
            if let us = level.upsample { h = us(h.upsampleNearest2x()) }
        }
        // Output.
        return convOut(normOut.silu(h))
    }
}
