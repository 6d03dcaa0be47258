/// Accumulates per-frame `SSIMScore`s into the figures FFmpeg's `ssim` filter logs at the end:
/// the mean of each plane and of `All` over frames, with dB of the mean
/// (`10*log10(n / (n - sum))`, FFmpeg's `ssim_db(sum, n)`).
public struct SSIMSummary: Sendable, Codable, Equatable {
    /// Sum of each plane's SSIM over the frames added.
    public private(set) var planeSums: [Double] = []
    /// Sum of `All` over the frames added.
    public private(set) var allSum = 0.0
    /// Frames added.
    public private(set) var frames = 0

    /// An empty summary.
    public init() {}

    /// Adds one frame's score.
    public mutating func add(_ score: SSIMScore) {
        if planeSums.isEmpty { planeSums = Array(repeating: 0, count: score.planes.count) }
        for i in 0..<min(planeSums.count, score.planes.count) { planeSums[i] += score.planes[i] }
        allSum += score.all
        frames += 1
    }

    /// Mean SSIM per plane (nan when empty).
    public var planes: [Double] { planeSums.map { $0 / Double(frames) } }
    /// Mean `All` (nan when empty).
    public var all: Double { allSum / Double(frames) }
    /// dB of the mean `All`, as FFmpeg prints it (`+inf` when every frame was identical).
    public var dB: Double { FFmpegSSIM.decibels(allSum, weight: Double(frames)) }
    /// dB of each plane's mean.
    public var planesDB: [Double] { planeSums.map { FFmpegSSIM.decibels($0, weight: Double(frames)) } }
}
