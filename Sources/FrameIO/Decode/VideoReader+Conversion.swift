import CFFmpeg

extension VideoReader {
    /// One decoded picture the reader owns (frees the AVFrame on deinit), with its timestamp.
    final class Picture {
        /// The decoded frame (refcounted buffers from the decoder's pool).
        let frame: UnsafeMutablePointer<AVFrame>
        /// Presentation timestamp in the stream's time base.
        let pts: Int64
        /// Display duration in the stream's time base (at least 1).
        let duration: Int64

        init(frame: UnsafeMutablePointer<AVFrame>, pts: Int64, duration: Int64) {
            self.frame = frame
            self.pts = pts
            self.duration = duration
        }

        deinit {
            var f: UnsafeMutablePointer<AVFrame>? = frame
            av_frame_free(&f)
        }
    }

    /// A cached swscale context from decoded pictures to one destination format, plus a padded
    /// destination buffer it writes into (swscale's SIMD paths may write a few bytes past a
    /// row's end, so it never writes into a caller's exact-size array).
    final class Converter {
        private var sws: OpaquePointer?
        private var key: [Int32] = []
        /// The destination picture (reused across frames while the size/format stay the same).
        private(set) var destination: UnsafeMutablePointer<AVFrame>?

        deinit {
            sws_freeContext(sws)
            av_frame_free(&destination)
        }

        /// Converts `source` into `destination` (`width x height`, `format`) and returns it.
        /// Colour handling follows the ffmpeg CLI's auto-inserted scale filter (FFmpeg 5.1
        /// vf_scale with `in_color_matrix=auto`): the matrix from the frame's colorspace tag, with
        /// untagged/unknown values falling back to BT.601; the input range from the frame's
        /// range tag when present, else the pixel format's default.
        func convert(_ source: UnsafeMutablePointer<AVFrame>, width: Int32, height: Int32,
                     format: AVPixelFormat, flags: Int32, path: String) throws -> UnsafeMutablePointer<AVFrame> {
            let src = source.pointee
            let newKey: [Int32] = [src.width, src.height, src.format, Int32(truncatingIfNeeded: src.colorspace.rawValue),
                                   Int32(truncatingIfNeeded: src.color_range.rawValue), width, height, format.rawValue, flags]
            if newKey != key || sws == nil {
                sws_freeContext(sws)
                sws = nil
                key = []
                guard let context = sws_getContext(src.width, src.height, AVPixelFormat(rawValue: src.format),
                                                   width, height, format, flags, nil, nil, nil) else {
                    let from = av_get_pix_fmt_name(AVPixelFormat(rawValue: src.format)).map { String(cString: $0) } ?? "?"
                    let to = av_get_pix_fmt_name(format).map { String(cString: $0) } ?? "?"
                    throw FrameIOError.unsupported(
                        "\(path): cannot convert \(from) \(src.width)x\(src.height) to \(to) \(width)x\(height) with swscale")
                }
                sws = context
                applyColorDetails(context, source: src)
                key = newKey
            }
            if let d = destination, d.pointee.width != width || d.pointee.height != height || d.pointee.format != format.rawValue {
                av_frame_free(&destination)
            }
            if destination == nil {
                guard let d = av_frame_alloc() else { throw FrameIOError.unsupported("\(path): out of memory") }
                d.pointee.width = width
                d.pointee.height = height
                d.pointee.format = format.rawValue
                let result = av_frame_get_buffer(d, 64)
                if result < 0 {
                    var f: UnsafeMutablePointer<AVFrame>? = d
                    av_frame_free(&f)
                    throw FrameIOError.ffmpeg(path: path, FFmpegError(code: result, function: "av_frame_get_buffer"))
                }
                destination = d
            }
            let dst = destination!
            let result = VideoReader.withFramePointers(source) { srcData, srcLines in
                VideoReader.withFramePointers(dst) { dstData, dstLines in
                    srcData.withMemoryRebound(to: UnsafePointer<UInt8>?.self, capacity: 8) { srcConst in
                        sws_scale(sws, srcConst, srcLines, 0, src.height, dstData, dstLines)
                    }
                }
            }
            if result < 0 {
                throw FrameIOError.ffmpeg(path: path, FFmpegError(code: result, function: "sws_scale"))
            }
            return dst
        }

        private func applyColorDetails(_ context: OpaquePointer, source: AVFrame) {
            var invTable: UnsafeMutablePointer<Int32>?
            var table: UnsafeMutablePointer<Int32>?
            var srcRange: Int32 = 0, dstRange: Int32 = 0
            var brightness: Int32 = 0, contrast: Int32 = 0, saturation: Int32 = 0
            guard sws_getColorspaceDetails(context, &invTable, &srcRange, &table, &dstRange,
                                           &brightness, &contrast, &saturation) >= 0 else { return }
            // vf_scale's parse_yuv_type("auto", colorspace): out-of-range, RGB (0) and YCgCo (8)
            // become BT.470BG (BT.601); everything else indexes swscale's own table.
            var colorspace = Int32(source.colorspace.rawValue)
            if colorspace < 1 || colorspace > 10 || colorspace == 8 { colorspace = Int32(AVCOL_SPC_BT470BG.rawValue) }
            guard let coefficients = sws_getCoefficients(colorspace) else { return }
            if source.color_range == AVCOL_RANGE_JPEG {
                srcRange = 1
            } else if source.color_range == AVCOL_RANGE_MPEG {
                srcRange = 0
            }
            _ = sws_setColorspaceDetails(context, coefficients, srcRange, coefficients, dstRange,
                                         brightness, contrast, saturation)
        }
    }
}

extension VideoReader {
    /// Calls `body` with an AVFrame's `data` and `linesize` arrays as C pointers.
    @inline(__always)
    static func withFramePointers<R>(_ frame: UnsafeMutablePointer<AVFrame>,
                                     _ body: (UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>, UnsafeMutablePointer<Int32>) throws -> R) rethrows -> R {
        try withUnsafeMutablePointer(to: &frame.pointee.data) { dataTuple in
            try withUnsafeMutablePointer(to: &frame.pointee.linesize) { lineTuple in
                try dataTuple.withMemoryRebound(to: UnsafeMutablePointer<UInt8>?.self, capacity: 8) { data in
                    try lineTuple.withMemoryRebound(to: Int32.self, capacity: 8) { lines in
                        try body(data, lines)
                    }
                }
            }
        }
    }
}
