import Foundation

/// Temporal consistency of one clip: the SSIM between each frame and the next ("inter-frame
/// SSIM"), per pair and averaged. A still clip scores 1; flicker and jumps lower it.
/// Streams: only the previous frame and the pairs in flight are held.
public enum TemporalConsistency {
    /// Which SSIM compares consecutive frames.
    public enum Definition: String, Sendable, Codable, CaseIterable {
        /// FFmpeg's `ssim` filter `All` (Y, U, V weighted by pixel count) on the decoded planes
        /// (yuv420p by default). The default.
        case ssim
        /// Wang et al. Gaussian SSIM of the Y plane (`GaussianSSIM`).
        case gssim
    }

    /// Inter-frame SSIM of a clip.
    public struct Report: Sendable, Codable, Equatable {
        /// The SSIM definition used.
        public var definition: Definition
        /// Name of the input.
        public var source: String
        /// Frames read.
        public var frames: Int
        /// SSIM between frame i and frame i+1, for i in 0..<frames-1.
        public var pairs: [Double]
        /// Mean of `pairs` (nan for fewer than 2 frames).
        public var mean: Double { pairs.reduce(0, +) / Double(pairs.count) }
        /// Lowest pair value (nan for fewer than 2 frames): the worst jump.
        public var minimum: Double { pairs.min() ?? .nan }
    }

    /// Measures `source` to its end with one definition. `maxInFlight` bounds the pairs held at
    /// once. Throws the source's errors, `FrameIOError.shapeMismatch` if the picture size changes
    /// mid-clip and `invalidArgument` for pictures too small for the definition.
    public static func evaluate(_ source: PlanarFrameSource, definition: Definition = .ssim,
                                maxInFlight: Int = 2 * ProcessInfo.processInfo.activeProcessorCount) throws -> Report {
        try evaluate(source, definitions: [definition], maxInFlight: maxInFlight)[0]
    }

    /// Measures `source` to its end with several definitions in one decoding pass; one report
    /// per definition, in the order given. Throws as `evaluate(_:definition:maxInFlight:)`.
    public static func evaluate(_ source: PlanarFrameSource, definitions: [Definition],
                                maxInFlight: Int = 2 * ProcessInfo.processInfo.activeProcessorCount) throws -> [Report] {
        var values = [[Double]]()
        let pipeline = PairPipeline<(PlanarImage, PlanarImage), [Double]>(maxInFlight: maxInFlight,
                                                                         deliver: { values.append($0) }) { pair, _ in
            try definitions.map { definition in
                switch definition {
                case .ssim: return try FFmpegSSIM.score(pair.1, pair.0).all
                case .gssim: return try GaussianSSIM.ssim(pair.1.planes[0], pair.0.planes[0])
                }
            }
        }
        var previous: PlanarImage?
        var frames = 0
        do {
            while let current = try source.nextPlanes() {
                frames += 1
                if let previous {
                    try FFmpegSSIM.checkCompatible(previous, current)
                    try pipeline.submit((previous, current))
                }
                previous = current
            }
        } catch {
            pipeline.cancel()
            throw error
        }
        try pipeline.finish()
        return definitions.enumerated().map { k, definition in
            Report(definition: definition, source: source.name, frames: frames, pairs: values.map { $0[k] })
        }
    }

    /// Measures in-memory RGB frames (e.g. the generator's output before encoding), converted to
    /// yuv420p BT.601 limited range as the ffmpeg CLI's default conversion does.
    public static func evaluate<S: Sequence>(frames: S, definition: Definition = .ssim) throws -> Report
    where S.Element == RGBFrame {
        try evaluate(RGBFrameSource(frames, name: "frames"), definition: definition)
    }
}
