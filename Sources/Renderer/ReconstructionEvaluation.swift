import Foundation
import FrameIO
import Generator

/// How well an autoencoder reconstructs a dataset's clips: every frame coded (the posterior
/// mean) and decoded, then scored against the original as `ffmpeg -lavfi psnr` and `ssim` score
/// them (yuv420p, BT.601, limited range; PSNR from the mean squared error over the frames, SSIM
/// the mean of `All`), per group of clips and over all of them.
public struct ReconstructionEvaluation {
    /// The scores of one group of clips (or of all).
    public struct Score: Codable, Sendable, Equatable {
        public var group: String
        public var clips: Int
        public var frames: Int
        /// PSNR in dB from the mean of the frames' MSE (FFmpeg's `average`).
        public var psnr: Double
        /// Mean SSIM `All` over the frames.
        public var ssim: Double
        /// The worst frame's PSNR.
        public var worstFramePSNR: Double
    }

    private struct Accumulator {
        var clips = 0, frames = 0
        var mse = 0.0, ssim = 0.0, worst = Double.infinity
    }

    private let autoencoder: VideoAutoencoder
    private var groups: [String: Accumulator] = [:]
    private var all = Accumulator()

    /// An evaluation of `autoencoder`.
    public init(autoencoder: VideoAutoencoder) {
        self.autoencoder = autoencoder
    }

    /// Reconstructs one clip (`frames` x 3 x `height` x `width` values in [-1, 1]), adds its
    /// scores to `group` and returns the reconstruction (same layout, clamped to [-1, 1]).
    ///
    /// - Throws: `AutoencoderError.badInput` for sizes the autoencoder cannot code, FrameIO errors.
    @discardableResult
    public mutating func add(_ clip: [Float], frames: Int, height: Int, width: Int, group: String) throws -> [Float] {
        let latents = try autoencoder.latents(ofClip: clip, frames: frames, height: height, width: width)
        let f = autoencoder.config.downsamplingFactor, c = autoencoder.config.latentChannels
        let latentSize = c * (height / f) * (width / f), frameSize = 3 * height * width
        var reconstruction = [Float]()
        reconstruction.reserveCapacity(clip.count)
        var start = 0
        while start < frames {
            let n = min(4, frames - start)
            let z = Tensor(shape: [n, c, height / f, width / f], data: Array(latents[(start * latentSize)..<((start + n) * latentSize)]))
            reconstruction += withoutGradients { autoencoder.decode(z) }.toArray().map { min(1, max(-1, $0)) }
            start += n
        }
        let converter = try PixelConverter(width: width, height: height)
        var clipMSE = 0.0, clipSSIM = 0.0, worst = Double.infinity
        for k in 0..<frames {
            let original = try converter.convert(RGBFrame(width: width, height: height, planar: Array(clip[(k * frameSize)..<((k + 1) * frameSize)])))
            let decoded = try converter.convert(RGBFrame(width: width, height: height, planar: Array(reconstruction[(k * frameSize)..<((k + 1) * frameSize)])))
            let psnr = try FFmpegPSNR.score(decoded, original)
            clipMSE += psnr.mseAverage
            clipSSIM += try FFmpegSSIM.score(decoded, original).all
            worst = min(worst, psnr.psnrAverage)
        }
        func add(_ a: inout Accumulator) {
            a.clips += 1; a.frames += frames; a.mse += clipMSE; a.ssim += clipSSIM; a.worst = min(a.worst, worst)
        }
        add(&groups[group, default: Accumulator()])
        add(&all)
        return reconstruction
    }

    private static func score(_ name: String, _ a: Accumulator) -> Score {
        Score(group: name, clips: a.clips, frames: a.frames, psnr: FFmpegPSNR.decibels(mse: a.mse / Double(max(a.frames, 1))),
              ssim: a.ssim / Double(max(a.frames, 1)), worstFramePSNR: a.worst)
    }

    /// The scores per group, by name, then over all clips (group "all").
    public var scores: [Score] {
        groups.keys.sorted().map { Self.score($0, groups[$0]!) } + [Self.score("all", all)]
    }
}
