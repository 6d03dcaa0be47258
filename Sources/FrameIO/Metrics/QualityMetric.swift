/// A full-reference quality metric `QualityEvaluator` can compute per frame.
public enum QualityMetric: String, Sendable, Codable, CaseIterable {
    /// FFmpeg's `ssim` filter (`FFmpegSSIM`): Y, U, V, All and dB.
    case ssim
    /// FFmpeg's `psnr` filter (`FFmpegPSNR`): MSE and PSNR per plane and averaged.
    case psnr
    /// Wang et al. 2004 SSIM on the Y plane (`GaussianSSIM`, scikit-image's settings).
    case gaussianSSIM = "gssim"
}
