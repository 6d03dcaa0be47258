import Foundation

/// Compares a distorted clip with its reference frame by frame: FFmpeg-exact SSIM and PSNR and
/// Wang et al. Gaussian SSIM, streaming (each input decodes on a thread of its own into a fixed
/// set of reusable picture buffers, at most `maxInFlight + 1` pictures ahead of the scoring),
/// so memory does not grow with the clip's length.
///
/// Frames are paired in decode order (the n-th frame of each), as FFmpeg's filters pair frames
/// of two clips with the same frame rate. When the lengths differ, the common prefix is compared
/// and the report says so (`lengthsDiffer`).
public struct QualityEvaluator: Sendable {
    /// How the comparison runs.
    public struct Options: Sendable, Codable, Equatable {
        /// The metrics to compute (default: all).
        public var metrics: [QualityMetric] = QualityMetric.allCases
        /// Pictures each input decodes ahead of the scoring at most (plus the one being decoded),
        /// and pairs scored at once on worker threads (Gaussian SSIM); bounds memory.
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

    /// Reader options for each of the two files `compare` reads: the inputs decode side by side
    /// on threads of their own, so each decoder gets half the cores (one thread each on a 2-core
    /// machine, where FFmpeg's frame threading would only add hand-offs between threads).
    public static var readerOptions: VideoReader.Options {
        VideoReader.Options(threads: max(1, ProcessInfo.processInfo.activeProcessorCount / 2))
    }

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
    ///
    /// Each input decodes on a thread of its own into `maxInFlight + 1` reusable picture buffers
    /// (a `VideoPlanesSource` straight from the decoder, without a copy) while the calling
    /// thread scores the pairs already decoded, so decoding both inputs and scoring overlap.
    /// With Gaussian SSIM, which costs far more per frame than decoding, the pairs are scored on
    /// worker threads instead, up to `maxInFlight` at once.
    public func compare(distorted: PlanarFrameSource, reference: PlanarFrameSource,
                        progress: ((Progress) -> Bool)? = nil) throws -> QualityReport {
        // Summaries accumulate as results arrive in order; per-frame scores only when kept.
        var frames = [FrameQuality]()
        var compared = 0
        var ssimSummary = SSIMSummary(), psnrSummary = PSNRSummary(), gaussianSum = 0.0
        let keep = options.keepFrames
        let deliver = { (f: FrameQuality) in
            compared += 1
            if let s = f.ssim { ssimSummary.add(s) }
            if let p = f.psnr { psnrSummary.add(p) }
            if let g = f.gaussianSSIM { gaussianSum += g }
            if keep { frames.append(f) }
        }
        let inFlight = max(1, options.maxInFlight)
        // One stream per input; one object passed twice is read in turn from a single stream.
        let shared = distorted === reference
        let first = try PictureStream(distorted, slots: inFlight + (shared ? 2 : 1))
        defer { first.stop() }
        let second = shared ? first : try PictureStream(reference, slots: inFlight + 1)
        defer { second.stop() }
        let workspaces = WorkspacePool()
        let workers = !options.metrics.contains(.gaussianSSIM) ? nil
            : PairPipeline<(PictureSlot, PictureSlot), FrameQuality>(maxInFlight: inFlight, deliver: deliver) { pair, index in
                let workspace = workspaces.take()
                defer {
                    workspaces.put(workspace)
                    first.recycle(pair.0)
                    second.recycle(pair.1)
                }
                return try self.score(pair.0, pair.1, index: index, workspace: workspace)
            }
        let workspace = workspaces.take()
        var read = 0
        var distortedCount = 0, referenceCount = 0
        do {
            while true {
                let a = try first.next()
                let b = try second.next()
                if let a { distortedCount += 1; if b == nil { first.recycle(a) } }
                if let b { referenceCount += 1; if a == nil { second.recycle(b) } }
                guard let a, let b else {
                    // The longer input got its slot back above, so it can go on decoding to be counted.
                    if options.countRemaining {
                        if a != nil { while let s = try first.next() { distortedCount += 1; first.recycle(s) } }
                        if b != nil { while let s = try second.next() { referenceCount += 1; second.recycle(s) } }
                    }
                    break
                }
                if read == 0 { try Self.checkSameShape(a, b, first.name, second.name) }
                if let workers {
                    try workers.submit((a, b))
                } else {
                    defer {
                        first.recycle(a)
                        second.recycle(b)
                    }
                    deliver(try score(a, b, index: read, workspace: workspace))
                }
                read += 1
                if let progress, !progress(Progress(framesRead: read)) { break }
            }
        } catch {
            workers?.cancel()
            throw error
        }
        try workers?.finish()
        var report = QualityReport(distorted: distorted.name, reference: reference.name, metrics: options.metrics,
                                   frames: frames, comparedFrames: compared,
                                   distortedFrameCount: max(distortedCount, compared),
                                   referenceFrameCount: max(referenceCount, compared))
        if options.metrics.contains(.ssim) { report.ssim = ssimSummary }
        if options.metrics.contains(.psnr) { report.psnr = psnrSummary }
        if options.metrics.contains(.gaussianSSIM) { report.gaussianSSIM = gaussianSum / Double(compared) }
        return report
    }

    /// `score(_:_:index:)` on two slots' planes in place: the same checks in the same order,
    /// the same numbers, with `workspace` as SSIM scratch.
    func score(_ distorted: PictureSlot, _ reference: PictureSlot, index: Int,
               workspace: FFmpegSSIM.Workspace) throws -> FrameQuality {
        try Self.checkCompatible(distorted, reference)
        let a = distorted.planes, b = reference.planes
        var result = FrameQuality(index: index, time: distorted.time)
        if options.metrics.contains(.ssim) {
            var planes = [Double]()
            planes.reserveCapacity(a.count)
            for (p, q) in zip(a, b) {
                guard p.width >= 8, p.height >= 8 else {
                    throw FrameIOError.invalidArgument("SSIM needs planes of at least 8x8 samples, got \(p.width)x\(p.height)")
                }
                planes.append(FFmpegSSIM.planeMean(p.base, p.stride, q.base, q.stride, width: p.width, height: p.height,
                                                   workspace: workspace))
            }
            result.ssim = SSIMScore(planes: planes, all: FFmpegSSIM.weightedAll(planes, counts: a.map { $0.width * $0.height }))
        }
        if options.metrics.contains(.psnr) {
            let mse = zip(a, b).map { p, q in
                Double(FFmpegPSNR.sumSquaredDifferences(p.base, p.stride, q.base, q.stride, width: p.width, height: p.height))
                    / (Double(p.width) * Double(p.height))
            }
            result.psnr = PSNRScore(mse: mse, mseAverage: FFmpegSSIM.weightedAll(mse, counts: a.map { $0.width * $0.height }))
        }
        if options.metrics.contains(.gaussianSSIM) {
            let p = a[0], q = b[0]
            try GaussianSSIM.checkSize(p.width, p.height, q.width, q.height)
            result.gaussianSSIM = GaussianSSIM.mean(p.base, p.stride, q.base, q.stride, width: p.width, height: p.height)
        }
        return result
    }

    /// `FFmpegSSIM.checkCompatible` for two slots: same format, plane count and plane sizes.
    static func checkCompatible(_ a: PictureSlot, _ b: PictureSlot) throws {
        guard a.pixelFormat == b.pixelFormat, a.planeCount == b.planeCount else {
            throw FrameIOError.shapeMismatch(
                "pictures differ in format: \(a.pixelFormat) with \(a.planeCount) planes vs \(b.pixelFormat) with \(b.planeCount)")
        }
        for (i, (p, q)) in zip(a.planes, b.planes).enumerated() where p.width != q.width || p.height != q.height {
            throw FrameIOError.shapeMismatch(
                "plane \(i) differs in size: \(p.width)x\(p.height) vs \(q.width)x\(q.height)")
        }
    }

    /// Throws a message naming both inputs when their first pictures cannot be compared.
    static func checkSameShape(_ a: PictureSlot, _ b: PictureSlot, _ nameA: String, _ nameB: String) throws {
        do {
            try checkCompatible(a, b)
        } catch {
            throw FrameIOError.shapeMismatch(
                "\(nameA) is \(a.summary) but \(nameB) is \(b.summary): the clips must have the same size; resize the distorted clip to the reference (t2v-render eval --scale)")
        }
    }
}

/// SSIM scratch for the threads that score pairs: taken and put back, so scoring a clip
/// allocates one workspace per concurrent scorer, not one per frame.
private final class WorkspacePool {
    private let lock = NSLock()
    private var idle: [FFmpegSSIM.Workspace] = []

    func take() -> FFmpegSSIM.Workspace {
        lock.lock()
        defer { lock.unlock() }
        return idle.popLast() ?? FFmpegSSIM.Workspace()
    }

    func put(_ workspace: FFmpegSSIM.Workspace) {
        lock.lock()
        idle.append(workspace)
        lock.unlock()
    }
}
