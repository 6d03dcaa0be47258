import CFFmpeg
import Foundation

/// Encodes RGB frames into a video file, a PNG sequence or stdout with FFmpeg 5.1.
///
/// The writer owns every FFmpeg object it creates (muxer, stream, encoder, frame, packet, I/O)
/// and frees them in `finish()`, `cancel()` or `deinit`. Frames stream straight through: one
/// reusable `AVFrame`, so memory does not grow with the clip length (GIF buffers only its first
/// `Options.gifPaletteFrames` frames to compute the palette).
///
/// Output is atomic: a file is written to a hidden temp file beside the target and renamed onto
/// it by `finish()`; an existing target is not touched before that. On an error, `cancel()` or
/// deinit without `finish()`, the temp file is removed. `-` writes a streamable container (NUT by
/// default) to stdout; character devices and FIFOs (e.g. `/dev/full`) are written directly.
///
/// ```swift
/// let result = try withVideoWriter(path: "out.mp4", width: 512, height: 512) { writer in
///     for frame in frames { try writer.write(frame) }
/// }
/// ```
public final class VideoWriter {
    /// The output path as given (`-` = stdout).
    public let path: String
    /// Frame width every `write` must match.
    public let width: Int
    /// Frame height every `write` must match.
    public let height: Int
    /// The options the writer was opened with.
    public let options: Options
    /// The container in use (from `options.format`, the path's extension, or NUT for `-`).
    public let container: Container
    /// The codec in use (from `options.codec` or the container's default).
    public let codec: Codec
    /// The FFmpeg encoder in use, e.g. `libx264`, `libvpx-vp9`, `libsvtav1`.
    public let encoderName: String
    /// Encoded width: `width`, or `width + 1` when an odd width was padded.
    public let encodedWidth: Int
    /// Encoded height: `height`, or `height + 1` when an odd height was padded.
    public let encodedHeight: Int
    /// Frames accepted by `write` so far.
    public private(set) var frameCount = 0

    private enum State { case open, finished, cancelled, failed }
    private var state = State.open
    private let target: OutputTarget
    private let pixelFormat: AVPixelFormat
    private var formatContext: UnsafeMutablePointer<AVFormatContext>?
    private var codecContext: UnsafeMutablePointer<AVCodecContext>?
    private var stream: UnsafeMutablePointer<AVStream>?
    private var frame: UnsafeMutablePointer<AVFrame>?
    private var packet: UnsafeMutablePointer<AVPacket>?
    private var ioOpen = false
    private var nextPTS: Int64 = 0
    private var converter: YUVConverter?
    private var gifPalette: GIFPalette?
    private var gifHistogram: GIFPalette.Histogram?
    private var gifPending: [[UInt8]] = []

    /// Opens an encoder and output for `width` x `height` RGB frames.
    ///
    /// - Parameters:
    ///   - path: output file (`.mp4 .m4v .mov .mkv .webm .gif .nut`; a device or FIFO without
    ///     one gets NUT), a PNG pattern such as
    ///     `frames_%04d.png`, or `-` for stdout (NUT unless `options.format` says otherwise).
    ///   - width, height: frame size in pixels (positive).
    ///   - options: codec, rate control, colour and muxing; see `Options`.
    /// - Throws: `FrameIOError.unsupported` for an unknown extension, a codec the container cannot
    ///   hold or an encoder missing from this FFmpeg; `.invalidArgument` for bad values (odd size
    ///   with `OddSizePolicy.fail`, unknown encoder/muxer options, options that do not apply to
    ///   the codec); `.unwritable` for a missing or read-only directory; `.ffmpeg` for other
    ///   FFmpeg failures (with the path, the function and FFmpeg's message).
    public init(path: String, width: Int, height: Int, options: Options = .init()) throws {
        let plan = try Self.plan(path: path, width: width, height: height, options: options)
        let (container, codec, encoderName) = (plan.container, plan.codec, plan.encoderName)
        let (encodedWidth, encodedHeight, subsampled) = (plan.encodedWidth, plan.encodedHeight, plan.subsampled)

        self.path = path
        self.width = width
        self.height = height
        self.options = options
        self.container = container
        self.codec = codec
        self.encoderName = encoderName
        self.encodedWidth = encodedWidth
        self.encodedHeight = encodedHeight
        switch codec {
        case .gif: pixelFormat = AV_PIX_FMT_PAL8
        case .png: pixelFormat = AV_PIX_FMT_RGB24
        default: pixelFormat = options.pixelFormat == .yuv444p ? AV_PIX_FMT_YUV444P : AV_PIX_FMT_YUV420P
        }
        if codec != .gif && codec != .png {
            converter = YUVConverter(width: width, height: height, encodedWidth: encodedWidth,
                                     encodedHeight: encodedHeight, subsampled: subsampled,
                                     matrix: options.colourMatrix, range: options.colourRange,
                                     chromaFilter: options.chromaFilter)
        }
        if codec == .gif { gifHistogram = GIFPalette.Histogram() }
        target = try OutputTarget(path: path, sequence: container == .png)
        do {
            try open()
        } catch {
            state = .failed
            release()
            target.discard()
            throw error
        }
    }

    deinit {
        release()
        if state != .finished { target.discard() }
    }

    /// Encodes one frame (packed UInt8 RGB or planar Float32 in [-1, 1], clamped).
    ///
    /// - Throws: `FrameIOError.shapeMismatch` when the frame's size differs from the writer's;
    ///   `.invalidArgument` after `finish()`/`cancel()`; `.unwritable` for a full disk or a
    ///   closed output pipe; `.ffmpeg` for encoder or muxer failures. After an error the writer
    ///   is closed and its temp file removed.
    public func write(_ rgb: RGBFrame) throws {
        guard state == .open else {
            throw FrameIOError.invalidArgument("\(path): write() called after the writer was \(stateWord)")
        }
        guard rgb.width == width, rgb.height == height else {
            throw FrameIOError.shapeMismatch(
                "\(path): frame is \(rgb.width)x\(rgb.height) but the writer was opened for \(width)x\(height)")
        }
        do {
            if codec == .gif {
                try writeGIF(rgb.packedRGB)
            } else {
                try fill(rgb)
                try encode(frame)
            }
            frameCount += 1
        } catch {
            fail()
            throw error
        }
    }

    /// Flushes the encoder (drains it until EOF), writes the trailer and renames the temp output
    /// onto the target path.
    ///
    /// - Returns: what was written (frames, duration, bytes, sizes, codec and container names).
    /// - Throws: `FrameIOError.invalidArgument` when no frame was written or the writer is not
    ///   open; I/O and FFmpeg errors as `write` does. On error the temp output is removed and an
    ///   existing target is left as it was.
    @discardableResult
    public func finish() throws -> Result {
        guard state == .open else {
            throw FrameIOError.invalidArgument("\(path): finish() called after the writer was \(stateWord)")
        }
        do {
            if codec == .gif { try flushGIF() }
            guard frameCount > 0 else {
                throw FrameIOError.invalidArgument("\(path): no frames were written; nothing to save")
            }
            try encode(nil)
            guard let fmt = formatContext else { throw FrameIOError.invalidArgument("\(path): writer is closed") }
            let trailer = av_write_trailer(fmt)
            if trailer < 0 { throw mapError(trailer, "av_write_trailer") }
            var bytes: Int64 = 0
            if ioOpen, let pb = fmt.pointee.pb {
                avio_flush(pb)
                try checkIO()
                bytes = avio_tell(pb)
                let closed = avio_closep(&fmt.pointee.pb)
                ioOpen = false
                if closed < 0 { throw mapError(closed, "avio_closep") }
            }
            release()
            let committed = try target.commit()
            if target.kind == .file || target.kind == .sequence { bytes = committed }
            state = .finished
            let rate = options.frameRate
            return Result(
                path: path, frameCount: frameCount,
                durationSeconds: Double(frameCount) * Double(rate.den) / Double(rate.num),
                bytesWritten: bytes, width: width, height: height,
                encodedWidth: encodedWidth, encodedHeight: encodedHeight,
                padded: encodedWidth != width || encodedHeight != height,
                codecName: encoderName, containerName: container.muxerName,
                pixelFormat: String(cString: av_get_pix_fmt_name(pixelFormat)))
        } catch {
            fail()
            throw error
        }
    }

    /// Abandons the output: frees the encoder and muxer and removes the temp file (or temp
    /// directory of a PNG sequence). An existing target is left untouched. Safe to call twice.
    public func cancel() {
        guard state == .open || state == .failed else { return }
        release()
        target.discard()
        state = .cancelled
    }

    // MARK: - Setup

    private var stateWord: String {
        switch state {
        case .open: return "open"
        case .finished: return "finished"
        case .cancelled: return "cancelled"
        case .failed: return "closed by an earlier error"
        }
    }

    /// True for an existing character device, FIFO or socket (`/dev/full`, `/dev/stdout`, a named pipe).
    private static func isStreamDevice(_ path: String) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        let type = st.st_mode & S_IFMT
        return type == S_IFCHR || type == S_IFIFO || type == S_IFSOCK
    }

    /// Checks that a writer with these arguments can be opened, as `init` does before it creates
    /// anything: the container, the codec and container pair, the frame size, the encoder in this
    /// FFmpeg and the options. Nothing is created. Callers with long work before their first
    /// frame (a denoising loop) call it first, so a bad option fails in a second, not after it.
    ///
    /// - Throws: what `init` throws for the same arguments before it opens the output.
    public static func validate(path: String, width: Int, height: Int, options: Options = .init()) throws {
        _ = try plan(path: path, width: width, height: height, options: options)
    }

    /// What `init` decides before opening anything.
    private struct Plan {
        var container: Container
        var codec: Codec
        var encoderName: String
        var encodedWidth: Int
        var encodedHeight: Int
        var subsampled: Bool
    }

    private static func plan(path: String, width: Int, height: Int, options: Options) throws -> Plan {
        guard width > 0, height > 0 else {
            throw FrameIOError.invalidArgument("\(path): frame size must be positive, got \(width)x\(height)")
        }
        guard options.frameRate.num > 0, options.frameRate.den > 0 else {
            throw FrameIOError.invalidArgument("\(path): frame rate must be positive, got \(options.frameRate)")
        }
        guard options.threads >= 0 else {
            throw FrameIOError.invalidArgument("\(path): threads must be >= 0 (0 = automatic), got \(options.threads)")
        }
        let container: Container
        if let format = options.format {
            container = format
        } else if path == "-" || Self.isStreamDevice(path) && Container(pathExtension: URL(fileURLWithPath: path).pathExtension) == nil {
            container = .nut
        } else if let detected = Container(pathExtension: URL(fileURLWithPath: path).pathExtension) {
            container = detected
        } else {
            throw FrameIOError.unsupported(
                "\(path): cannot tell the container from the file name; use .mp4, .mov, .mkv, .webm, .gif, .nut, a PNG pattern such as frames_%04d.png, or set the format")
        }
        let codec = options.codec ?? container.defaultCodec
        try Self.checkCombination(codec: codec, container: container, path: path)

        // 4:2:0 stores chroma per 2x2 block: odd sizes are padded (edge replication) or refused.
        var encodedWidth = width, encodedHeight = height
        let subsampled = options.pixelFormat == .yuv420p && [.h264, .vp9, .av1, .ffv1].contains(codec)
        if subsampled, width % 2 == 1 || height % 2 == 1 {
            switch options.oddSizePolicy {
            case .pad:
                encodedWidth += width % 2
                encodedHeight += height % 2
            case .fail:
                throw FrameIOError.invalidArgument(
                    "\(path): \(width)x\(height) has an odd side, which yuv420p cannot encode; use an even size, pixel format yuv444p, or odd-size policy 'pad'")
            }
        }
        let encoderName = try Self.encoderName(for: codec, width: encodedWidth, height: encodedHeight)
        try Self.checkOptions(options, codec: codec, path: path)
        if encoderName == "libaom-av1", container == .mkv || container == .webm, path == "-" || Self.isStreamDevice(path) {
            // libaom hands its sequence header over late; FFmpeg 5.1's Matroska muxer can only
            // store it by seeking back (the ffmpeg CLI fails the same way).
            throw FrameIOError.unsupported(
                "\(path): AV1 at \(encodedWidth)x\(encodedHeight) uses libaom, which FFmpeg 5.1 cannot stream in \(container.rawValue) to a pipe; use NUT (the default for -), a file, or frames of at least 64x64 (SVT-AV1)")
        }
        if container == .png, !OutputTarget.hasFrameNumber(URL(fileURLWithPath: path).lastPathComponent) {
            throw FrameIOError.invalidArgument(
                "\(path): a PNG sequence needs a frame-number pattern in the file name, e.g. frames_%04d.png")
        }
        return Plan(container: container, codec: codec, encoderName: encoderName, encodedWidth: encodedWidth,
                    encodedHeight: encodedHeight, subsampled: subsampled)
    }

    /// Refuses codec/container pairs FFmpeg cannot store (asking the muxer), before any file exists.
    private static func checkCombination(codec: Codec, container: Container, path: String) throws {
        func refuse(_ why: String) -> FrameIOError {
            .unsupported("\(path): codec \(codec.rawValue) cannot be stored in \(container.rawValue): \(why)")
        }
        switch (codec, container) {
        case (.gif, .gif), (.png, .png): return
        case (.gif, _): throw refuse("GIF output needs the .gif container")
        case (_, .gif): throw refuse("the .gif container holds only the gif codec")
        case (_, .png): throw refuse("a PNG sequence holds only png images")
        case (.vp9, .mov), (.av1, .mov): throw refuse("FFmpeg stores \(codec.rawValue) in MP4 but not MOV; use .mp4")
        default: break
        }
        guard let format = av_guess_format(container.muxerName, nil, nil) else {
            throw FrameIOError.unsupported("\(path): this FFmpeg build has no \(container.muxerName) muxer")
        }
        let id: AVCodecID
        switch codec {
        case .h264: id = AV_CODEC_ID_H264
        case .vp9: id = AV_CODEC_ID_VP9
        case .av1: id = AV_CODEC_ID_AV1
        case .ffv1: id = AV_CODEC_ID_FFV1
        case .gif: id = AV_CODEC_ID_GIF
        case .png: id = AV_CODEC_ID_PNG
        }
        if avformat_query_codec(format, id, FF_COMPLIANCE_NORMAL) == 0 {
            throw refuse("the \(container.muxerName) muxer does not accept it")
        }
    }

    /// The FFmpeg encoder for a codec. AV1 uses SVT-AV1 when the frame is at least 64x64 (its
    /// minimum) and libaom otherwise.
    private static func encoderName(for codec: Codec, width: Int, height: Int) throws -> String {
        let candidates: [String]
        switch codec {
        case .h264: candidates = ["libx264"]
        case .vp9: candidates = ["libvpx-vp9"]
        case .av1: candidates = width >= 64 && height >= 64 ? ["libsvtav1", "libaom-av1"] : ["libaom-av1"]
        case .ffv1: candidates = ["ffv1"]
        case .gif: candidates = ["gif"]
        case .png: candidates = ["png"]
        }
        for name in candidates where avcodec_find_encoder_by_name(name) != nil { return name }
        throw FrameIOError.unsupported(
            "codec \(codec.rawValue): this FFmpeg build has no \(candidates.joined(separator: " or ")) encoder; pick another codec")
    }

    /// Options that do not apply to the codec are errors, not silently ignored.
    private static func checkOptions(_ o: Options, codec: Codec, path: String) throws {
        func bad(_ what: String) -> FrameIOError { .invalidArgument("\(path): \(what)") }
        if o.preset != nil && codec != .h264 { throw bad("preset applies to h264 (x264 presets); use speed for \(codec.rawValue)") }
        if o.speed != nil && ![.vp9, .av1].contains(codec) { throw bad("speed applies to vp9 and av1; use preset for h264") }
        if o.deadline != nil && codec != .vp9 { throw bad("deadline applies to vp9 only") }
        if (o.crf != nil || o.bitrate != nil) && [.gif, .png, .ffv1].contains(codec) {
            throw bad("crf and bitrate do not apply to \(codec.rawValue), which is lossless or palette-based")
        }
        if let crf = o.crf {
            let range: ClosedRange<Int> = codec == .h264 ? 0...51 : 0...63
            guard range.contains(crf) else { throw bad("crf \(crf) is out of range \(range) for \(codec.rawValue)") }
        }
        if let b = o.bitrate, b <= 0 { throw bad("bitrate must be positive bits/s, got \(b)") }
        if let k = o.keyframeInterval, k <= 0 { throw bad("keyframeInterval must be positive, got \(k)") }
        if !(1...256).contains(o.gifPaletteFrames) { throw bad("gifPaletteFrames must be in 1...256, got \(o.gifPaletteFrames)") }
    }

    /// Encoder AVOptions: the codec's defaults, then `options.encoderOptions` on top.
    private func encoderDictionary() -> [(String, String)] {
        var d: [String: String] = [:]
        let o = options
        switch encoderName {
        case "libx264":
            d["preset"] = o.preset ?? "medium"
            if o.crf != nil || o.bitrate == nil { d["crf"] = String(o.crf ?? 20) }
            // libx264 r3095's AVX-512 kernels read bytes they never wrote on frames narrower than
            // 112 pixels: the same frames encoded to different files depending on what the heap
            // held (measured with MALLOC_PERTURB_ at widths 32-96, not at 112-256 nor with
            // asm=avx2), so a render at 64x64 was not byte-reproducible. Below 128 pixels the
            // AVX-512 kernels are left out (AVX2/FMA3/BMI2 stay: every AVX-512 CPU has them).
            if encodedWidth < 128, cff_cpu_has_avx512() != 0 { d["x264-params"] = "asm=avx2,fma3,bmi2" }
        case "libvpx-vp9":
            if o.crf != nil || o.bitrate == nil { d["crf"] = String(o.crf ?? 32) }
            d["cpu-used"] = String(o.speed ?? 4)
            d["deadline"] = o.deadline ?? "good"
            d["row-mt"] = "1"
        case "libsvtav1":
            if o.crf != nil || o.bitrate == nil { d["crf"] = String(o.crf ?? 35) }
            d["preset"] = String(o.speed ?? 8)
        case "libaom-av1":
            if o.crf != nil || o.bitrate == nil { d["crf"] = String(o.crf ?? 35) }
            d["cpu-used"] = String(o.speed ?? 6)
            d["row-mt"] = "1"
        default:
            break
        }
        let planned = d["x264-params"]
        for (k, v) in o.encoderOptions { d[k] = v }
        // The caller's own x264-params keep the AVX-512 restriction unless they choose asm.
        if let planned, let given = o.encoderOptions["x264-params"], !given.contains("asm=") {
            d["x264-params"] = given.isEmpty ? planned : given + ":" + planned
        }
        return d.sorted { $0.key < $1.key }
    }

    /// Muxer AVOptions: MP4/MOV fragments for pipes (or when asked) else faststart; GIF loops.
    private func muxerDictionary() -> [(String, String)] {
        var d: [String: String] = [:]
        if container == .mp4 || container == .mov {
            if !target.seekable || options.fragmented {
                d["movflags"] = "frag_keyframe+empty_moov+default_base_moof"
            } else if options.faststart {
                d["movflags"] = "+faststart"
            }
        }
        if container == .gif { d["loop"] = "0" }
        for (k, v) in options.muxerOptions { d[k] = v }
        return d.sorted { $0.key < $1.key }
    }

    private func open() throws {
        var fmtOut: UnsafeMutablePointer<AVFormatContext>?
        var ret = avformat_alloc_output_context2(&fmtOut, nil, container.muxerName, target.ffmpegURL)
        guard ret >= 0, let fmt = fmtOut else { throw mapError(ret, "avformat_alloc_output_context2") }
        formatContext = fmt
        // Same frames and options, same bytes: without this Matroska/WebM write random segment
        // and track UIDs and MP4/MOV the wall-clock creation time.
        fmt.pointee.flags |= cff_fmt_flag_bitexact()
        guard let encoder = avcodec_find_encoder_by_name(encoderName) else {
            throw FrameIOError.unsupported("this FFmpeg build has no \(encoderName) encoder")
        }
        guard let st = avformat_new_stream(fmt, nil) else { throw mapError(cff_averror(ENOMEM), "avformat_new_stream") }
        stream = st
        guard let ctx = avcodec_alloc_context3(encoder) else { throw mapError(cff_averror(ENOMEM), "avcodec_alloc_context3") }
        codecContext = ctx

        let rate = options.frameRate
        ctx.pointee.width = Int32(encodedWidth)
        ctx.pointee.height = Int32(encodedHeight)
        ctx.pointee.pix_fmt = pixelFormat
        ctx.pointee.time_base = AVRational(num: rate.den, den: rate.num)
        ctx.pointee.framerate = AVRational(num: rate.num, den: rate.den)
        ctx.pointee.sample_aspect_ratio = AVRational(num: 1, den: 1)
        ctx.pointee.thread_count = Int32(options.threads)
        ctx.pointee.bit_rate = Int64(options.bitrate ?? 0)
        if let gop = options.keyframeInterval { ctx.pointee.gop_size = Int32(gop) }
        if converter != nil {
            let bt709 = options.colourMatrix == .bt709
            ctx.pointee.colorspace = bt709 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M
            ctx.pointee.color_primaries = bt709 ? AVCOL_PRI_BT709 : AVCOL_PRI_SMPTE170M
            ctx.pointee.color_trc = bt709 ? AVCOL_TRC_BT709 : AVCOL_TRC_SMPTE170M
            ctx.pointee.color_range = options.colourRange == .limited ? AVCOL_RANGE_MPEG : AVCOL_RANGE_JPEG
            // 4:2:0 chroma is filtered symmetrically about each 2x2 block's centre (YUVConverter),
            // so it is sited there; say so, or players assume H.264's default (left) and shift it by 1/4 sample.
            if converter?.subsampled == true { ctx.pointee.chroma_sample_location = AVCHROMA_LOC_CENTER }
        }
        if cff_oformat_wants_global_header(fmt.pointee.oformat) != 0 {
            ctx.pointee.flags |= cff_codec_flag_global_header()
        }

        var dict: OpaquePointer?
        defer { av_dict_free(&dict) }
        for (k, v) in encoderDictionary() { av_dict_set(&dict, k, v, 0) }
        ret = avcodec_open2(ctx, encoder, &dict)
        if ret < 0 { throw mapError(ret, "avcodec_open2 (\(encoderName))") }
        try rejectLeftovers(dict, kind: "encoder option", owner: encoderName)

        ret = avcodec_parameters_from_context(st.pointee.codecpar, ctx)
        if ret < 0 { throw mapError(ret, "avcodec_parameters_from_context") }
        st.pointee.time_base = ctx.pointee.time_base
        st.pointee.avg_frame_rate = ctx.pointee.framerate
        st.pointee.r_frame_rate = ctx.pointee.framerate
        for (k, v) in options.metadata.sorted(by: { $0.key < $1.key }) {
            av_dict_set(&fmt.pointee.metadata, k, v, 0)
        }

        if cff_oformat_is_nofile(fmt.pointee.oformat) == 0 {
            ret = avio_open(&fmt.pointee.pb, target.ffmpegURL, cff_avio_flag_write())
            if ret < 0 { throw mapError(ret, "avio_open") }
            ioOpen = true
        }
        var muxDict: OpaquePointer?
        defer { av_dict_free(&muxDict) }
        for (k, v) in muxerDictionary() { av_dict_set(&muxDict, k, v, 0) }
        ret = avformat_write_header(fmt, &muxDict)
        if ret < 0 { throw mapError(ret, "avformat_write_header (\(container.muxerName))") }
        try rejectLeftovers(muxDict, kind: "muxer option", owner: container.muxerName)
        try checkIO()

        guard let f = av_frame_alloc() else { throw mapError(cff_averror(ENOMEM), "av_frame_alloc") }
        frame = f
        f.pointee.format = pixelFormat.rawValue
        f.pointee.width = Int32(encodedWidth)
        f.pointee.height = Int32(encodedHeight)
        ret = av_frame_get_buffer(f, 0)
        if ret < 0 { throw mapError(ret, "av_frame_get_buffer") }
        guard let p = av_packet_alloc() else { throw mapError(cff_averror(ENOMEM), "av_packet_alloc") }
        packet = p
    }

    /// FFmpeg leaves options nobody consumed in the dictionary: name them as an error.
    private func rejectLeftovers(_ dict: OpaquePointer?, kind: String, owner: String) throws {
        var names: [String] = []
        var entry: UnsafeMutablePointer<AVDictionaryEntry>?
        while let e = av_dict_get(dict, "", entry, AV_DICT_IGNORE_SUFFIX) {
            names.append(String(cString: e.pointee.key))
            entry = e
        }
        if !names.isEmpty {
            throw FrameIOError.invalidArgument(
                "\(path): unknown \(kind)\(names.count > 1 ? "s" : "") for \(owner): \(names.joined(separator: ", ")); check the name (`ffmpeg -h \(kind.hasPrefix("encoder") ? "encoder" : "muxer")=\(owner)` lists them)")
        }
    }

    // MARK: - Frames

    /// Converts `rgb` into the reusable AVFrame (YUV, or RGB24 for PNG).
    private func fill(_ rgb: RGBFrame) throws {
        guard let f = frame else { throw FrameIOError.invalidArgument("\(path): writer is closed") }
        let ret = av_frame_make_writable(f)
        if ret < 0 { throw mapError(ret, "av_frame_make_writable") }
        let y = f.pointee.data.0!, u = f.pointee.data.1, v = f.pointee.data.2
        let ys = Int(f.pointee.linesize.0), us = Int(f.pointee.linesize.1), vs = Int(f.pointee.linesize.2)
        if let conv = converter {
            switch rgb.pixels {
            case let .packed(bytes):
                bytes.withUnsafeBufferPointer {
                    conv.convert(packed: $0.baseAddress!, y: y, yStride: ys, u: u!, uStride: us, v: v!, vStride: vs)
                }
            case let .planarFloat(values):
                values.withUnsafeBufferPointer {
                    conv.convert(planar: $0.baseAddress!, y: y, yStride: ys, u: u!, uStride: us, v: v!, vStride: vs)
                }
            }
        } else {
            let bytes = rgb.packedRGB
            let rowBytes = width * 3
            bytes.withUnsafeBufferPointer { src in
                for row in 0..<height {
                    (y + row * ys).update(from: src.baseAddress! + row * rowBytes, count: rowBytes)
                }
            }
        }
        f.pointee.pts = nextPTS
        nextPTS += 1
    }

    /// GIF: buffer the first frames for the palette, then map each frame to palette indices.
    private func writeGIF(_ bytes: [UInt8]) throws {
        if let palette = gifPalette {
            try encodeGIF(bytes, palette)
            return
        }
        gifHistogram?.add(packed: bytes)
        gifPending.append(bytes)
        if gifPending.count >= options.gifPaletteFrames { try flushGIF() }
    }

    /// Builds the palette (if still pending) and encodes the buffered frames.
    private func flushGIF() throws {
        if gifPalette == nil, let histogram = gifHistogram {
            gifPalette = GIFPalette(histogram: histogram)
            gifHistogram = nil
        }
        guard let palette = gifPalette else { return }
        let pending = gifPending
        gifPending = []
        for bytes in pending { try encodeGIF(bytes, palette) }
    }

    private func encodeGIF(_ bytes: [UInt8], _ palette: GIFPalette) throws {
        guard let f = frame else { throw FrameIOError.invalidArgument("\(path): writer is closed") }
        let ret = av_frame_make_writable(f)
        if ret < 0 { throw mapError(ret, "av_frame_make_writable") }
        palette.map(packed: bytes, width: width, height: height, into: f.pointee.data.0!, stride: Int(f.pointee.linesize.0))
        f.pointee.data.1!.withMemoryRebound(to: UInt32.self, capacity: 256) { dst in
            palette.entries.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: 256) }
        }
        f.pointee.pts = nextPTS
        nextPTS += 1
        try encode(f)
    }

    /// Sends a frame (nil = drain) and writes every packet the encoder returns.
    private func encode(_ f: UnsafeMutablePointer<AVFrame>?) throws {
        guard let ctx = codecContext, let fmt = formatContext, let st = stream, let pkt = packet else {
            throw FrameIOError.invalidArgument("\(path): writer is closed")
        }
        var ret = avcodec_send_frame(ctx, f)
        if ret < 0 { throw mapError(ret, "avcodec_send_frame (\(encoderName))") }
        while true {
            ret = avcodec_receive_packet(ctx, pkt)
            if ret == FFmpegError.eagain || ret == FFmpegError.eof { break }
            if ret < 0 { throw mapError(ret, "avcodec_receive_packet (\(encoderName))") }
            av_packet_rescale_ts(pkt, ctx.pointee.time_base, st.pointee.time_base)
            pkt.pointee.stream_index = st.pointee.index
            ret = av_interleaved_write_frame(fmt, pkt)
            if ret < 0 { throw mapError(ret, "av_interleaved_write_frame") }
            try checkIO()
        }
    }

    // MARK: - Errors and cleanup

    /// A sticky error on the output (write failed: disk full, pipe closed...).
    private func checkIO() throws {
        if let pb = formatContext?.pointee.pb, pb.pointee.error < 0 {
            throw mapError(pb.pointee.error, "avio_write")
        }
    }

    /// Names the common I/O failures in words; everything else keeps FFmpeg's function and message.
    private func mapError(_ code: Int32, _ function: String) -> FrameIOError {
        let shown = path == "-" ? "stdout" : path
        if code == cff_averror(EPIPE) {
            return .unwritable(path: shown, reason: "output pipe closed: the reading process exited")
        }
        if code == cff_averror(ENOSPC) {
            return .unwritable(path: shown, reason: "no space left on device (\(function))")
        }
        if code == cff_averror(EACCES) || code == cff_averror(EPERM) {
            return .unwritable(path: shown, reason: "permission denied (\(function))")
        }
        return .ffmpeg(path: shown, FFmpegError(code: code, function: function))
    }

    /// Marks the writer failed and removes its temp output at once.
    private func fail() {
        release()
        target.discard()
        state = .failed
    }

    /// Frees every FFmpeg object (idempotent). Closes the output without a trailer.
    private func release() {
        if let fmt = formatContext {
            if ioOpen { avio_closep(&fmt.pointee.pb) }
            avformat_free_context(fmt)
        }
        ioOpen = false
        formatContext = nil
        stream = nil
        if codecContext != nil { avcodec_free_context(&codecContext) }
        if frame != nil { av_frame_free(&frame) }
        if packet != nil { av_packet_free(&packet) }
        gifPending = []
    }
}

/// Opens a `VideoWriter`, runs `body` with it and finishes it; if `body` (or `finish`) throws,
/// the writer is cancelled (temp output removed, an existing target untouched) and the error
/// rethrown. Returns the writer's `Result`.
@discardableResult
public func withVideoWriter(path: String, width: Int, height: Int, options: VideoWriter.Options = .init(),
                            _ body: (VideoWriter) throws -> Void) throws -> VideoWriter.Result {
    let writer = try VideoWriter(path: path, width: width, height: height, options: options)
    do {
        try body(writer)
    } catch {
        writer.cancel()
        throw error
    }
    return try writer.finish()
}

extension VideoWriter {
    /// How much FFmpeg's libraries print to stderr (a process-wide FFmpeg setting).
    public enum FFmpegLogLevel: Int32, Sendable, CaseIterable {
        /// Nothing.
        case quiet = -8
        /// Errors only.
        case error = 16
        /// Errors and warnings (FFmpeg's CLI with `-loglevel warning`).
        case warning = 24
        /// FFmpeg's default: includes encoder statistics such as x264's summary.
        case info = 32
    }

    /// Sets FFmpeg's process-wide log level (`av_log_set_level`). Libraries leave it alone;
    /// a command-line tool calls this once at start.
    public static func setFFmpegLogLevel(_ level: FFmpegLogLevel) {
        av_log_set_level(level.rawValue)
    }
}
