import Foundation

/// One frame's PSNR as FFmpeg's `psnr` filter reports it: mean squared error and PSNR per plane,
/// and the pixel-count-weighted MSE with its PSNR (`psnr_avg`).
public struct PSNRScore: Sendable, Codable, Equatable {
    /// Mean squared error of each plane (Y, U, V), in squared 8-bit code values.
    public var mse: [Double]
    /// `sum(mse[i] * pixels[i] / total)`: FFmpeg's `mse_avg`.
    public var mseAverage: Double

    /// Creates a score from per-plane MSE and their weighted mean.
    public init(mse: [Double], mseAverage: Double) {
        self.mse = mse
        self.mseAverage = mseAverage
    }

    /// PSNR of each plane in dB, `10*log10(255^2 / mse)`; `+inf` for identical planes.
    public var psnr: [Double] { mse.map { FFmpegPSNR.decibels(mse: $0) } }
    /// FFmpeg's `psnr_avg`: the PSNR of `mseAverage` (not the mean of the plane PSNRs).
    public var psnrAverage: Double { FFmpegPSNR.decibels(mse: mseAverage) }
}
