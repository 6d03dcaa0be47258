import Foundation

/// One frame's SSIM as FFmpeg's `ssim` filter reports it: one value per plane (Y, U, V for YUV
/// input), `All` (planes weighted by their pixel count) and `All` in decibels.
public struct SSIMScore: Sendable, Codable, Equatable {
    /// SSIM of each plane in FFmpeg's plane order (Y, U, V), each in [-1, 1] (1 = identical).
    public var planes: [Double]
    /// The planes' SSIM weighted by plane pixel count (Y is 4/6 of the weight for 4:2:0).
    public var all: Double

    /// Creates a score from per-plane values and their weighted mean.
    public init(planes: [Double], all: Double) {
        self.planes = planes
        self.all = all
    }

    /// `All` in decibels: `10 * log10(1 / (1 - all))`, `+inf` for identical frames.
    public var dB: Double { FFmpegSSIM.decibels(all) }
}
