import Foundation

/// Compares a distorted clip with its reference frame by frame: FFmpeg-exact SSIM and PSNR and
/// Wang et al. Gaussian SSIM, streaming (each input decodes at most `maxInFlight` pictures ahead
/// on a thread of its own; at most `maxInFlight` pairs are being scored) with the per-frame work
/// on worker threads.
///
/// Frames are paired in decode order (the n-th frame of each), as FFmpeg's filters pair frames
/// of two clips with the same frame rate. When the lengths differ, the common prefix is compared
/// and the report says so (`lengthsDiffer`).
public struct QualityEvaluator: Sendable {
    /// How the comparison runs.
    public struct Options: Sendable, Codable, Equatable {
        /// The metrics to compute (default: all).
        public var metrics: [QualityMetric] = QualityMetric.allCases
        /// Pairs decoded ahead of the computation at most; bounds memory.
        public var maxInFlight: Int = 2 * ProcessInfo.processInfo.activeProcessorCount
        /// When one input ends first, keep decoding the other only to count its frames.
        public var countRemaining: Bool = true
        /// Keep every frame's scores in `QualityReport.frames` (default). Off, only the clip
        /// summaries are kept and memory does not grow with the clip's length.
        public var keepFrames: Bool = true

        /// The defaults: all metrics, two pairs in flight per core, remaining frames counted.
        public init() {}
    }

    /// Progress of a comparison, passed to the progress callback after each decoded pair.
    public struct Progress: Sendable {
        /// Pairs decoded so far.
        public var framesRead: Int
    }

    /// The options in use.
    public var options: Options

    /// Creates an evaluator.
    public init(options: Options = .init()) {
        self.options = options
    }

    /// Scores one pair with the configured metrics. Throws `FrameIOError.shapeMismatch` when the
    /// pictures differ in format or size, `invalidArgument` when too small for a metric (8x8 for
    /// FFmpeg SSIM, 11x11 for Gaussian SSIM).
    public func score(_ distorted: PlanarImage, _ reference: PlanarImage, index: Int = 0) throws -> FrameQuality {
        try FFmpegSSIM.checkCompatible(distorted, reference)
        var result = FrameQuality(index: index, time: distorted.time)
        if options.metrics.contains(.ssim) { result.ssim = try FFmpegSSIM.score(distorted, reference) }
        if options.metrics.contains(.psnr) { result.psnr = try FFmpegPSNR.score(distorted, reference) }
        if options.metrics.contains(.gaussianSSIM) {
            result.gaussianSSIM = try GaussianSSIM.ssim(distorted.planes[0], reference.planes[0])
        }
        return result
    }

    /// Compares the two sources to the end of the shorter one. `progress` is called after each
    /// pair is read; returning false stops early (the report then covers the pairs read).
    /// Throws the sources' errors, and `FrameIOError.shapeMismatch` naming both inputs when
    /// their picture sizes or formats differ (resize the distorted input to the reference's size,
    /// e.g. with `VideoReader.Options.size`).
    public func compare(distorted: PlanarFrameSource, reference: PlanarFrameSource,
                        progress: ((Progress) -> Bool)? = nil) throws -> QualityReport {
        // Summaries accumulate as results arrive in order; per-frame scores only when kept.
        var frames = [FrameQuality]()
        var compared = 0
        var ssimSummary = SSIMSummary(), psnrSummary = PSNRSummary(), gaussianSum = 0.0
        let keep = options.keepFrames
        let pipeline = PairPipeline<(PlanarImage, PlanarImage), FrameQuality>(maxInFlight: options.maxInFlight, deliver: { f in
            compared += 1
            if let s = f.ssim { ssimSummary.add(s) }
            if let p = f.psnr { psnrSummary.add(p) }
            if let g = f.gaussianSSIM { gaussianSum += g }
            if keep { frames.append(f) }
        }) { pair, index in try self.score(pair.0, pair.1, index: index) }
        var read = 0
        var distortedCount = 0, referenceCount = 0
        // Each input decodes ahead on its own thread (unless both are one object).
        let prefetched = distorted === reference ? nil
            : (PrefetchingSource(distorted, capacity: options.maxInFlight),
               PrefetchingSource(reference, capacity: options.maxInFlight))
        defer {
            prefetched?.0.stop()
            prefetched?.1.stop()
        }
        let distorted: PlanarFrameSource = prefetched?.0 ?? distorted
        let reference: PlanarFrameSource = prefetched?.1 ?? reference
        do {
            while true {
                let (a, b) = (try distorted.nextPlanes(), try reference.nextPlanes())
                if a != nil { distortedCount += 1 }
                if b != nil { referenceCount += 1 }
                guard let a, let b else {
                    if options.countRemaining {
                        if a != nil { while try distorted.nextPlanes() != nil { distortedCount += 1 } }
                        if b != nil { while try reference.nextPlanes() != nil { referenceCount += 1 } }
                    }
                    break
                }
                if read == 0 { try Self.checkSameShape(a, b, distorted.name, reference.name) }
                try pipeline.submit((a, b))
                read += 1
                if let progress, !progress(Progress(framesRead: read)) { break }
            }
        } catch {
            pipeline.cancel()
            throw error
        }
        try pipeline.finish()
        var report = QualityReport(distorted: distorted.name, reference: reference.name, metrics: options.metrics,
                                   frames: frames, comparedFrames: compared,
                                   distortedFrameCount: max(distortedCount, compared),
                                   referenceFrameCount: max(referenceCount, compared))
        if options.metrics.contains(.ssim) { report.ssim = ssimSummary }
        if options.metrics.contains(.psnr) { report.psnr = psnrSummary }
        if options.metrics.contains(.gaussianSSIM) { report.gaussianSSIM = gaussianSum / Double(compared) }
        return report
    }

    /// Throws a message naming both inputs when their pictures cannot be compared.
    static func checkSameShape(_ a: PlanarImage, _ b: PlanarImage, _ nameA: String, _ nameB: String) throws {
        func describe(_ p: PlanarImage) -> String {
            "\(p.planes.first.map { "\($0.width)x\($0.height)" } ?? "empty") \(p.pixelFormat)"
        }
        do {
            try FFmpegSSIM.checkCompatible(a, b)
        } catch {
            throw FrameIOError.shapeMismatch(
                "\(nameA) is \(describe(a)) but \(nameB) is \(describe(b)): the clips must have the same size; resize the distorted clip to the reference (t2v-render eval --scale)")
        }
    }
}
