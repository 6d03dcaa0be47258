import Foundation

/// Compares a distorted clip with its reference frame by frame: FFmpeg-exact SSIM and PSNR and
/// Wang et al. Gaussian SSIM, streaming (at most `maxInFlight` frame pairs are held) and spread
/// over `workers` threads. The two inputs are decoded side by side on two threads.
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
        let pipeline = PairPipeline<(PlanarImage, PlanarImage), FrameQuality>(maxInFlight: options.maxInFlight) {
            pair, index in try self.score(pair.0, pair.1, index: index)
        }
        var read = 0
        var distortedCount = 0, referenceCount = 0
        do {
            while true {
                let (a, b) = try Self.readPair(distorted, reference)
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
        let frames = try pipeline.finish()
        var report = QualityReport(distorted: distorted.name, reference: reference.name, metrics: options.metrics,
                                   frames: frames, distortedFrameCount: max(distortedCount, frames.count),
                                   referenceFrameCount: max(referenceCount, frames.count))
        if options.metrics.contains(.ssim) {
            var summary = SSIMSummary()
            for f in frames { if let s = f.ssim { summary.add(s) } }
            report.ssim = summary
        }
        if options.metrics.contains(.psnr) {
            var summary = PSNRSummary()
            for f in frames { if let s = f.psnr { summary.add(s) } }
            report.psnr = summary
        }
        if options.metrics.contains(.gaussianSSIM) {
            report.gaussianSSIM = frames.compactMap(\.gaussianSSIM).reduce(0, +) / Double(frames.count)
        }
        return report
    }

    /// Reads the next picture of both sources, on two threads when they are distinct objects.
    static func readPair(_ a: PlanarFrameSource, _ b: PlanarFrameSource) throws -> (PlanarImage?, PlanarImage?) {
        if a === b { return (try a.nextPlanes(), try b.nextPlanes()) }
        final class Slot: @unchecked Sendable {
            var image: PlanarImage?
            var error: Error?
        }
        let slots = [Slot(), Slot()]   // one per thread: no shared mutable storage
        let sources = [a, b]
        DispatchQueue.concurrentPerform(iterations: 2) { i in
            do { slots[i].image = try sources[i].nextPlanes() } catch { slots[i].error = error }
        }
        if let error = slots[0].error ?? slots[1].error { throw error }
        return (slots[0].image, slots[1].image)
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
