import Foundation

/// Accumulates per-frame `PSNRScore`s into the figures FFmpeg's `psnr` filter logs at the end:
/// per plane the PSNR of the mean MSE, `average` (PSNR of the mean `mse_avg`), `min` and `max`
/// (PSNR of the largest and smallest `mse_avg`).
public struct PSNRSummary: Sendable, Codable, Equatable {
    /// Sum of each plane's MSE over the frames added.
    public private(set) var mseSum: [Double] = []
    /// Sum of `mse_avg` over the frames added.
    public private(set) var mseAverageSum = 0.0
    /// Smallest `mse_avg` seen (`+inf` before any frame).
    public private(set) var mseMin = Double.infinity
    /// Largest `mse_avg` seen (`-inf` before any frame).
    public private(set) var mseMax = -Double.infinity
    /// Frames added.
    public private(set) var frames = 0

    /// An empty summary.
    public init() {}

    /// Adds one frame's score.
    public mutating func add(_ score: PSNRScore) {
        if mseSum.isEmpty { mseSum = Array(repeating: 0, count: score.mse.count) }
        for i in 0..<min(mseSum.count, score.mse.count) { mseSum[i] += score.mse[i] }
        mseAverageSum += score.mseAverage
        mseMin = min(mseMin, score.mseAverage)
        mseMax = max(mseMax, score.mseAverage)
        frames += 1
    }

    /// The summary figures (all `nan` when no frame was added).
    public var result: Result {
        let n = Double(frames)
        return Result(psnr: mseSum.map { FFmpegPSNR.decibels(mse: $0 / n) },
                      psnrAverage: FFmpegPSNR.decibels(mse: mseAverageSum / n),
                      psnrMin: FFmpegPSNR.decibels(mse: mseMax),
                      psnrMax: FFmpegPSNR.decibels(mse: mseMin))
    }

    /// The clip's PSNR figures in dB, as in FFmpeg's `PSNR y:.. u:.. v:.. average:.. min:.. max:..`.
    public struct Result: Sendable, Codable, Equatable {
        /// Per plane: PSNR of the mean MSE over frames.
        public var psnr: [Double]
        /// PSNR of the mean `mse_avg` (FFmpeg's `average`).
        public var psnrAverage: Double
        /// PSNR of the worst frame's `mse_avg` (FFmpeg's `min`).
        public var psnrMin: Double
        /// PSNR of the best frame's `mse_avg` (FFmpeg's `max`).
        public var psnrMax: Double
    }
}
