/// The scores of one compared frame pair; a metric that was not requested is nil.
public struct FrameQuality: Sendable, Codable, Equatable {
    /// Zero-based index of the pair (the n-th decoded frame of each input).
    public var index: Int
    /// Presentation time of the distorted frame in seconds, when known.
    public var time: Double?
    /// FFmpeg-style SSIM (`FFmpegSSIM`).
    public var ssim: SSIMScore?
    /// FFmpeg-style PSNR (`FFmpegPSNR`).
    public var psnr: PSNRScore?
    /// Wang et al. Gaussian SSIM of the Y plane (`GaussianSSIM`).
    public var gaussianSSIM: Double?

    /// Creates a record; absent metrics are nil.
    public init(index: Int, time: Double? = nil, ssim: SSIMScore? = nil, psnr: PSNRScore? = nil, gaussianSSIM: Double? = nil) {
        self.index = index
        self.time = time
        self.ssim = ssim
        self.psnr = psnr
        self.gaussianSSIM = gaussianSSIM
    }
}
