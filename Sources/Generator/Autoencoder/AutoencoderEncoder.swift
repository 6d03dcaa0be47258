/// One resolution level of the encoder: residual blocks, then a stride-2 3x3 convolution (all but
/// the last level).
final class EncoderLevel: Module {
    /// Residual blocks; checkpoint key `resBlocks.i`.
    let resBlocks: [AutoencoderResBlock]
    /// Stride-2 3x3 convolution that halves the resolution; checkpoint key `downsample`.
    let downsample: Conv2d?

    init(resBlocks: [AutoencoderResBlock], downsample: Conv2d?) {
        self.resBlocks = resBlocks
        self.downsample = downsample
    }
}

/// The autoencoder's encoder: frames `[N, 3, H, W]` to the posterior's parameters
/// `[N, 2C, H/f, W/f]` (mean, then log-variance): conv-in, per level residual blocks and a
/// stride-2 convolution between levels, then GroupNorm, SiLU and a 3x3 convolution to 2C channels.
final class AutoencoderEncoder: Module {
    /// Input convolution; checkpoint key `convIn`.
    let convIn: Conv2d
    /// Levels, top first; checkpoint key `down.l`.
    let down: [EncoderLevel]
    /// Output normalisation; checkpoint key `normOut`.
    let normOut: GroupNorm
    /// Output convolution to mean and log-variance; checkpoint key `convOut`.
    let convOut: Conv2d

    init(config: AutoencoderConfig, rng: inout some RandomNumberGenerator) {
        let levels = config.channels.count, g = config.groups
        convIn = Conv2d(config.imageChannels, config.channels[0], kernelSize: 3, padding: 1, rng: &rng)
        var c = config.channels[0]
        var built = [EncoderLevel]()
        for l in 0..<levels {
            let out = config.channels[l]
            var blocks = [AutoencoderResBlock]()
            for _ in 0..<config.resBlocks {
                blocks.append(AutoencoderResBlock(c, out, groups: g, rng: &rng))
                c = out
            }
            let ds = l < levels - 1 ? Conv2d(out, out, kernelSize: 3, stride: 2, padding: 1, rng: &rng) : nil
            built.append(EncoderLevel(resBlocks: blocks, downsample: ds))
        }
        down = built
        normOut = GroupNorm(groups: g, channels: c)
        convOut = Conv2d(c, 2 * config.latentChannels, kernelSize: 3, padding: 1, rng: &rng)
    }

    /// `x`: `[N, 3, H, W]` with H, W divisible by f. Returns `[N, 2C, H/f, W/f]`.
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = convIn(x)
        // Levels.
        for level in down {
            for block in level.resBlocks { h = block(h) }
            if let ds = level.downsample { h = ds(h) }
        }
        // Bottleneck.
        return convOut(normOut.silu(h))
    }
}
