/// The result of comparing a distorted clip with its reference: per-frame scores and the clip
/// summaries FFmpeg's filters print. Identical frames give infinite dB/PSNR values: encode with
/// `JSONEncoder.nonConformingFloatEncodingStrategy = .convertToString(...)`.
public struct QualityReport: Sendable, Codable {
    /// Name of the distorted input (its path for files).
    public var distorted: String
    /// Name of the reference input.
    public var reference: String
    /// The metrics computed.
    public var metrics: [QualityMetric]
    /// Per-frame scores of the compared pairs (the common prefix of both inputs); empty when
    /// the evaluator ran with `keepFrames` off.
    public var frames: [FrameQuality]
    /// Pairs compared.
    public var comparedFrames: Int
    /// Frames the distorted input has (counted to its end when lengths differ and
    /// `countRemaining` was on; otherwise at least the number compared).
    public var distortedFrameCount: Int
    /// Frames the reference input has (as `distortedFrameCount`).
    public var referenceFrameCount: Int
    /// FFmpeg `ssim` summary (means per plane and `All`, dB of the mean), when computed.
    public var ssim: SSIMSummary?
    /// FFmpeg `psnr` summary (PSNR of the mean MSE), when computed.
    public var psnr: PSNRSummary?
    /// Mean Gaussian (Wang et al.) SSIM of the Y plane over frames, when computed.
    public var gaussianSSIM: Double?

    /// True when the inputs have different frame counts (only the common prefix was compared).
    public var lengthsDiffer: Bool { distortedFrameCount != referenceFrameCount }
}
