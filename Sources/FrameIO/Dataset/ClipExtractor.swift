import Foundation

/// Cuts one source video into clips: decodes it once, front to back, sampling frames at
/// `options.fps` by timestamp, fits each frame to the clip size, and hands each complete clip
/// (`frames * height * width * 3` packed RGB bytes) to a callback. Overlapping clips
/// (`stride` shorter than a clip) share decoded frames through a small ring; memory is bounded by
/// one clip plus the overlap, whatever the source's length.
public struct ClipExtractor {
    /// The clip shape and sampling.
    public let options: ExtractOptions
    /// Optional scene-cut test: returns the similarity of two consecutive packed RGB frames of
    /// the clip size (1 = identical). When set with `options.skipCuts`, clips with a pair below
    /// `options.cutThreshold` are dropped.
    public var similarity: (([UInt8], [UInt8], Int, Int) -> Double)?

    /// Creates an extractor.
    public init(options: ExtractOptions, similarity: (([UInt8], [UInt8], Int, Int) -> Double)? = nil) {
        self.options = options
        self.similarity = similarity
    }

    /// What happened to one source.
    public struct SourceResult: Sendable, Equatable {
        /// Clips handed to the callback.
        public var clips = 0
        /// Clips dropped because they span a cut.
        public var droppedAtCuts = 0
        /// Frames sampled from the source.
        public var sampledFrames = 0
    }

    /// The intermediate size the reader scales to, and the crop/pad offsets into the clip.
    static func fit(sourceWidth sw: Int, sourceHeight sh: Int, width: Int, height: Int,
                    mode: ExtractOptions.Resize) -> (scaledWidth: Int, scaledHeight: Int) {
        switch mode {
        case .stretch:
            return (width, height)
        case .crop:
            let s = max(Double(width) / Double(sw), Double(height) / Double(sh))
            return (max(width, Int((Double(sw) * s).rounded())), max(height, Int((Double(sh) * s).rounded())))
        case .pad:
            let s = min(Double(width) / Double(sw), Double(height) / Double(sh))
            return (min(width, max(1, Int((Double(sw) * s).rounded()))), min(height, max(1, Int((Double(sh) * s).rounded()))))
        }
    }

    /// Decodes `path` from `start` (seconds, default the beginning) to `end` (default the end)
    /// and calls `emit(clipBytes, clipStartSeconds)` for each clip in order; `emit` returns false
    /// to stop early. Throws `FrameIOError` when the source cannot be read.
    @discardableResult
    public func extract(path: String, start: Double? = nil, end: Double? = nil,
                        emit: ([UInt8], Double) throws -> Bool) throws -> SourceResult {
        let o = options
        var probe = VideoReader.Options()
        probe.threads = 1
        let info = try VideoReader(path: path, options: probe).info
        let (sw, sh) = ClipExtractor.fit(sourceWidth: info.width, sourceHeight: info.height,
                                         width: o.width, height: o.height, mode: o.resize)
        var readerOptions = VideoReader.Options()
        readerOptions.size = .init(width: sw, height: sh)
        readerOptions.scaling = (sw < info.width || sh < info.height) ? .area : .bicubic
        readerOptions.layout = .packed
        readerOptions.frameRate = o.fps
        readerOptions.start = start
        readerOptions.threads = 0
        let reader = try VideoReader(path: path, options: readerOptions)

        let frameBytes = o.width * o.height * 3
        let strideFrames = o.strideFrames
        // Ring of the last `frames` fitted frames and their times.
        var ring: [[UInt8]] = []
        var times: [Double] = []
        var result = SourceResult()
        var sampleIndex = 0
        let base = start ?? 0
        while let frame = try reader.nextFrame() {
            let time = frame.time ?? (base + Double(sampleIndex) / o.fps)
            if let end, time >= end - 1e-9 { break }
            let fitted = ClipExtractor.place(frame.packedRGB, width: frame.width, height: frame.height,
                                             into: o.width, o.height)
            ring.append(fitted)
            times.append(time)
            if ring.count > o.frames { ring.removeFirst(); times.removeFirst() }
            result.sampledFrames += 1
            let first = sampleIndex - o.frames + 1
            sampleIndex += 1
            guard ring.count == o.frames, first >= 0, first % strideFrames == 0 else { continue }
            if o.skipCuts, let similarity {
                var cut = false
                for i in 1..<ring.count where similarity(ring[i - 1], ring[i], o.width, o.height) < o.cutThreshold {
                    cut = true
                    break
                }
                if cut { result.droppedAtCuts += 1; continue }
            }
            var clip = [UInt8]()
            clip.reserveCapacity(frameBytes * o.frames)
            for f in ring { clip += f }
            result.clips += 1
            if try !emit(clip, times[0]) { break }
            if let maxClips = o.maxClipsPerVideo, result.clips >= maxClips { break }
        }
        return result
    }

    /// The default scene-cut similarity: FFmpeg-definition SSIM (`FFmpegSSIM`) of the BT.601
    /// luma of two packed RGB frames of `width x height`; 0 when the frames are too small to score.
    public static func lumaSSIM(_ a: [UInt8], _ b: [UInt8], _ width: Int, _ height: Int) -> Double {
        func luma(_ p: [UInt8]) -> Plane? {
            var y = [UInt8](repeating: 0, count: width * height)
            for i in 0..<(width * height) {
                let v: Double = 0.299 * Double(p[3 * i]) + 0.587 * Double(p[3 * i + 1]) + 0.114 * Double(p[3 * i + 2])
                y[i] = UInt8(min(255, max(0, v.rounded())))
            }
            return try? Plane(width: width, height: height, data: y)
        }
        guard let la = luma(a), let lb = luma(b) else { return 0 }
        return (try? FFmpegSSIM.plane(la, lb)) ?? 0
    }

    /// Centre-crops or letterboxes a packed RGB picture of `width x height` into `outW x outH`.
    static func place(_ pixels: [UInt8], width: Int, height: Int, into outW: Int, _ outH: Int) -> [UInt8] {
        if width == outW && height == outH { return pixels }
        var out = [UInt8](repeating: 0, count: outW * outH * 3)
        // Offsets: positive = crop from the source, negative = pad in the output.
        let dx = (width - outW) / 2, dy = (height - outH) / 2
        pixels.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for y in 0..<outH {
                    let sy = y + dy
                    guard sy >= 0, sy < height else { continue }
                    for x in 0..<outW {
                        let sx = x + dx
                        guard sx >= 0, sx < width else { continue }
                        let s = (sy * width + sx) * 3, d = (y * outW + x) * 3
                        dst[d] = src[s]; dst[d + 1] = src[s + 1]; dst[d + 2] = src[s + 2]
                    }
                }
            }
        }
        return out
    }
}
