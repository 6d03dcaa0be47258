import Foundation

/// The latent-diffusion autoencoder (Rombach et al. 2022, the KL-regularised "AutoencoderKL"
/// without attention): a per-frame convolutional VAE that codes each RGB frame in [-1, 1] as a
/// latent with `latentChannels` channels at 1/f of its height and width (f = 2^(levels − 1)).
///
/// The encoder gives each frame's Gaussian posterior q(z | x) = N(mean, exp(logvar)) (the
/// log-variance clamped to [-30, 20] as in LDM); `sample` draws from it with the
/// reparameterisation z = mean + exp(logvar / 2) · ε, ε from a `Philox` stream; the decoder maps a
/// latent back to a frame. It is fully convolutional: any H and W divisible by f, any number of
/// frames (frames are coded independently, so a clip `[B, T, 3, H, W]` is B·T images).
///
/// Latent scale: the diffusion model sees `scaleFactor` times the posterior's latent (measured on
/// data after training as 1 / std of the encoder means, so its training latents have unit
/// variance; Stable Diffusion's is 0.18215). `sample` and `latents` multiply by it and `decode`
/// divides by it; `encode` returns the unscaled posterior.
public final class VideoAutoencoder: Module {
    /// The configuration the model was built from.
    public let config: AutoencoderConfig
    /// Frames to posterior parameters; checkpoint key `encoder`.
    let encoder: AutoencoderEncoder
    /// Latents to frames; checkpoint key `decoder`.
    let decoder: AutoencoderDecoder
    /// Multiplies the posterior's latents into the diffusion model's (unit-variance) space;
    /// stored in the file under `VideoAutoencoder.scaleKey`. 1 until measured.
    public var scaleFactor: Float = 1

    /// Metadata key of the latent scale factor (decimal text).
    public static let scaleKey = "t2v.latent_scale"
    /// Bounds of the log-variance (LDM's `DiagonalGaussianDistribution`).
    public static let logvarRange: ClosedRange<Float> = -30...20

    /// Builds the model with weights drawn from `rng` (pass a seeded `Philox` for reproducibility).
    ///
    /// - Throws: `AutoencoderError.invalidConfig` when the configuration is inconsistent.
    public init(config: AutoencoderConfig, rng: inout some RandomNumberGenerator) throws {
        try config.validate()
        self.config = config
        encoder = AutoencoderEncoder(config: config, rng: &rng)
        decoder = AutoencoderDecoder(config: config, rng: &rng)
    }

    /// Frames flattened to images: `[N, 3, H, W]` as is, `[B, T, 3, H, W]` as `[B·T, 3, H, W]`;
    /// also returns the leading dimensions to restore.
    private func images(_ frames: Tensor, _ caller: String) -> (images: Tensor, lead: [Int]) {
        let c = config.imageChannels, f = config.downsamplingFactor
        precondition((frames.rank == 4 || frames.rank == 5) && frames.shape[frames.rank - 3] == c,
                     "VideoAutoencoder.\(caller): expected frames [N, \(c), H, W] or [B, T, \(c), H, W], got \(frames.shape)")
        let h = frames.shape[frames.rank - 2], w = frames.shape[frames.rank - 1]
        precondition(h > 0 && w > 0 && h % f == 0 && w % f == 0,
                     "VideoAutoencoder.\(caller): frame size \(w)x\(h) must be a positive multiple of \(f) in each dimension")
        let lead = Array(frames.shape.prefix(frames.rank - 3))
        return (frames.rank == 4 ? frames : frames.reshaped([lead.reduce(1, *), c, h, w]), lead)
    }

    /// The posterior of every frame, unscaled.
    ///
    /// - Parameter frames: `[N, 3, H, W]` or `[B, T, 3, H, W]` in [-1, 1]; H, W divisible by f.
    /// - Returns: mean and log-variance (clamped to `logvarRange`), each with the frames' leading
    ///   dimensions and `[C, H/f, W/f]`.
    /// - Precondition: shapes as above (the message names them).
    public func encode(_ frames: Tensor) -> (mean: Tensor, logvar: Tensor) {
        let (x, lead) = images(frames, "encode")
        let c = config.latentChannels
        let moments = encoder(x)
        let h = moments.shape[2], w = moments.shape[3]
        let mean = moments.slice(axis: 1, 0..<c)
        let logvar = moments.slice(axis: 1, c..<2 * c).clamped(min: Self.logvarRange.lowerBound, max: Self.logvarRange.upperBound)
        let shape = lead + [c, h, w]
        return (mean.reshaped(shape), logvar.reshaped(shape))
    }

    /// A reparameterised draw from the posterior, scaled: `scaleFactor · (mean + exp(logvar / 2) · ε)`
    /// with ε standard normal from `rng` (`mean.count` values, in order). Gradients flow to `mean`
    /// and `logvar`.
    ///
    /// - Precondition: `mean` and `logvar` have the same shape.
    public func sample(mean: Tensor, logvar: Tensor, rng: inout Philox) -> Tensor {
        precondition(mean.shape == logvar.shape, "VideoAutoencoder.sample: mean \(mean.shape) and logvar \(logvar.shape) differ")
        let eps = Tensor(shape: mean.shape, data: rng.normal(count: mean.count))
        let z = mean + (logvar * 0.5).exp() * eps
        return scaleFactor == 1 ? z : z * scaleFactor
    }

    /// The deterministic latents of `frames`: the posterior means times `scaleFactor` (what
    /// `encode-latents` stores for the diffusion model).
    ///
    /// - Parameter frames: `[N, 3, H, W]` or `[B, T, 3, H, W]` in [-1, 1]; H, W divisible by f.
    /// - Returns: the frames' leading dimensions and `[C, H/f, W/f]`.
    public func latents(_ frames: Tensor) -> Tensor {
        let (x, lead) = images(frames, "latents")
        let c = config.latentChannels
        // Only the mean half of the bottleneck convolution is needed.
        let moments = encoder(x)
        let mean = moments.slice(axis: 1, 0..<c)
        let scaled = scaleFactor == 1 ? mean : mean * scaleFactor
        return scaled.reshaped(lead + [c, moments.shape[2], moments.shape[3]])
    }

    /// Frames from scaled latents (divided by `scaleFactor`, then decoded).
    ///
    /// - Parameter latents: `[N, C, h, w]` or `[B, T, C, h, w]`.
    /// - Returns: the latents' leading dimensions and `[3, f·h, f·w]`.
    /// - Precondition: shapes as above (the message names them).
    public func decode(_ latents: Tensor) -> Tensor {
        let c = config.latentChannels
        precondition((latents.rank == 4 || latents.rank == 5) && latents.shape[latents.rank - 3] == c,
                     "VideoAutoencoder.decode: expected latents [N, \(c), h, w] or [B, T, \(c), h, w], got \(latents.shape)")
        let h = latents.shape[latents.rank - 2], w = latents.shape[latents.rank - 1]
        precondition(h > 0 && w > 0, "VideoAutoencoder.decode: empty latent \(latents.shape)")
        let lead = Array(latents.shape.prefix(latents.rank - 3))
        var z = latents.rank == 4 ? latents : latents.reshaped([lead.reduce(1, *), c, h, w])
        if scaleFactor != 1 { z = z * (1 / scaleFactor) }
        let x = decoder(z)
        return x.reshaped(lead + Array(x.shape.suffix(3)))
    }

    /// Inference on one clip as flat arrays: `frames` x 3 x `height` x `width` values in [-1, 1]
    /// to its deterministic latents (`latents(_:)`), `frames` x C x height/f x width/f values.
    /// Records no gradients; encodes at most `chunk` frames at a time to bound memory.
    ///
    /// - Throws: `AutoencoderError.badInput` when the sizes do not fit.
    public func latents(ofClip clip: [Float], frames: Int, height: Int, width: Int, chunk: Int = 8) throws -> [Float] {
        let c = config.imageChannels, f = config.downsamplingFactor
        guard frames > 0, clip.count == frames * c * height * width else {
            throw AutoencoderError.badInput("\(clip.count) values do not make \(frames) frames of \(c)x\(height)x\(width)")
        }
        guard height > 0, width > 0, height % f == 0, width % f == 0 else {
            throw AutoencoderError.badInput("frame size \(width)x\(height) must be a positive multiple of \(f) in each dimension for this autoencoder")
        }
        let frameSize = c * height * width
        var out = [Float]()
        out.reserveCapacity(frames * config.latentChannels * (height / f) * (width / f))
        var start = 0
        while start < frames {
            let n = min(max(chunk, 1), frames - start)
            let x = Tensor(shape: [n, c, height, width], data: Array(clip[start * frameSize..<(start + n) * frameSize]))
            out += withoutGradients { latents(x) }.toArray()
            start += n
        }
        return out
    }
}
