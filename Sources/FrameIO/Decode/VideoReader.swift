import CFFmpeg
import Foundation

/// Reads a video file (or stdin) frame by frame through FFmpeg: demux, decode with frame
/// threading, convert with swscale.
///
/// - `nextFrame()` returns RGB frames in presentation order (packed UInt8 or planar Float32 in
///   [-1, 1], see `Options.layout`), converted exactly as `ffmpeg -i FILE -pix_fmt rgb24` does
///   (bicubic swscale, the source's colour matrix and range tags, BT.601 when untagged).
/// - `nextPlanes(pixelFormat:)` returns the decoded picture's own planes (no RGB round trip), for
///   metrics that must match FFmpeg's ssim/psnr filters.
/// - Timing: `RGBFrame.time` is the frame's presentation timestamp in seconds
///   (`best_effort_timestamp * time_base`, the numbers ffprobe prints as `pts_time`).
/// - Frame-rate sampling (`Options.frameRate = F`) follows FFmpeg's `fps` filter (default
///   `round=near`): output frame k has time `t0 + k/F`, where `t0` is the first frame's timestamp
///   rounded to the nearest multiple of `1/F`; it is the last source frame whose timestamp,
///   rounded to the nearest multiple of `1/F`, is at most `t0 + k/F` — the frame on screen at
///   `t0 + (k + 1/2)/F`, give or take the rounding of ties. Frames are repeated or dropped as
///   needed, so variable frame rate input gives constant rate output. Sampling ends where the
///   last frame's display ends (its timestamp plus its duration).
///
/// The reader owns every FFmpeg object it creates and frees them in `deinit`. It is not
/// thread-safe: use one reader per thread.
public final class VideoReader {
    /// Facts about the file and its video stream.
    public let info: VideoInfo
    /// The options the reader was opened with.
    public let options: Options

    let path: String
    var format: UnsafeMutablePointer<AVFormatContext>?
    var codec: UnsafeMutablePointer<AVCodecContext>?
    var packet: UnsafeMutablePointer<AVPacket>?
    let streamIndex: Int32
    let timeBase: AVRational
    /// True when the input can seek (a regular file); false for pipes.
    let seekable: Bool
    /// Frame duration in stream ticks from the stream's frame rate (fallback for frames without one).
    let nominalDuration: Int64

    /// Decoded pictures waiting to be returned (lookahead from seeking and sampling).
    var pending: [Picture] = []
    var sentEndOfStream = false
    var decoderFinished = false
    var lastPts: Int64?
    var lastDuration: Int64 = 1
    /// Presentation timestamp of the last picture handed out (pipes: forward-only seeking).
    var positionPts: Int64?
    var consecutiveErrors = 0

    // Frame-rate sampler state (Options.frameRate).
    let samplerTimeBase: AVRational?
    var samplerNext: Int64?
    var samplerHeld: Picture?
    var samplerEnded = false

    let rgbConverter = Converter()
    let planeConverter = Converter()

    /// Opens `path` (`-` reads stdin) and its best video stream, ready to decode.
    ///
    /// Throws `FrameIOError.fileNotFound` when the path does not exist, `.notAVideo` for a
    /// directory, an empty file, or anything FFmpeg cannot demux (text, random bytes, a truncated
    /// MP4), `.noVideoStream` for a file without video (e.g. audio only), `.unsupported` when no
    /// decoder exists or the stream claims a picture larger than `options.maxPixels`, and
    /// `.invalidArgument` for bad options.
    public init(path: String, options: Options = .init()) throws {
        self.path = path
        self.options = options
        try VideoReader.validate(options)

        let url: String
        if path == "-" {
            url = "pipe:0"
        } else {
            try VideoReader.checkFile(path)
            url = path
        }

        var fmt: UnsafeMutablePointer<AVFormatContext>? = nil
        let openResult = avformat_open_input(&fmt, url, nil, nil)
        if openResult < 0 {
            throw VideoReader.openError(path: path, code: openResult, stage: "avformat_open_input")
        }
        format = fmt

        let infoResult = avformat_find_stream_info(fmt, nil)
        if infoResult < 0 {
            avformat_close_input(&format)
            throw VideoReader.openError(path: path, code: infoResult, stage: "avformat_find_stream_info")
        }
        let context = fmt!.pointee
        let bestIndex = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, nil, 0)
        var hasAudio = false
        for i in 0..<Int(context.nb_streams) {
            if let s = context.streams[i], s.pointee.codecpar.pointee.codec_type == AVMEDIA_TYPE_AUDIO {
                hasAudio = true
            }
        }
        guard bestIndex >= 0, let stream = context.streams[Int(bestIndex)] else {
            avformat_close_input(&format)
            throw FrameIOError.noVideoStream(path: path)
        }
        streamIndex = bestIndex
        timeBase = stream.pointee.time_base
        let parameters = stream.pointee.codecpar!

        // Refuse hostile or absurd claims before allocating anything for pictures.
        let w = Int(parameters.pointee.width), h = Int(parameters.pointee.height)
        if w > 32768 || h > 32768 || w * h > options.maxPixels {
            avformat_close_input(&format)
            throw FrameIOError.unsupported(
                "\(path): the video stream claims \(w)x\(h) pixels, more than the limit of \(options.maxPixels) "
                + "pixels (at most 32768 per side); the file is damaged or hostile. If it is genuine, raise "
                + "VideoReader.Options.maxPixels.")
        }

        info = VideoReader.makeInfo(path: path, format: fmt!, stream: stream, hasAudio: hasAudio)
        // Discard packets of other streams early.
        for i in 0..<Int(context.nb_streams) where Int32(i) != bestIndex {
            context.streams[i]?.pointee.discard = AVDISCARD_ALL
        }
        if let pb = context.pb {
            seekable = path != "-" && pb.pointee.seekable != 0
        } else {
            seekable = false
        }
        let rate = stream.pointee.r_frame_rate.num > 0 ? stream.pointee.r_frame_rate : stream.pointee.avg_frame_rate
        if rate.num > 0 && rate.den > 0 {
            nominalDuration = max(1, av_rescale_q(1, av_inv_q(rate), timeBase))
        } else {
            nominalDuration = 1
        }
        if let fps = options.frameRate {
            samplerTimeBase = av_inv_q(av_d2q(fps, 1_000_000))
        } else {
            samplerTimeBase = nil
        }

        // Every stored property is set: from here on a throw runs deinit, which frees what exists.
        packet = av_packet_alloc()
        // Decoder with frame threading.
        // `parameters` belongs to the stream: read what the messages need before closing.
        let codecID = parameters.pointee.codec_id
        guard let decoder = avcodec_find_decoder(codecID) else {
            avformat_close_input(&format)
            let name = String(cString: avcodec_get_name(codecID))
            throw FrameIOError.unsupported(
                "\(path): this FFmpeg has no decoder for the \(name) video codec; convert the file with a full ffmpeg build.")
        }
        codec = avcodec_alloc_context3(decoder)
        guard let codecContext = codec else {
            avformat_close_input(&format)
            throw FrameIOError.unsupported("\(path): out of memory allocating a decoder")
        }
        let copied = avcodec_parameters_to_context(codecContext, parameters)
        if copied < 0 {
            avformat_close_input(&format)
            throw FrameIOError.ffmpeg(path: path, FFmpegError(code: copied, function: "avcodec_parameters_to_context"))
        }
        codecContext.pointee.pkt_timebase = timeBase
        codecContext.pointee.thread_count = Int32(options.threads)
        codecContext.pointee.thread_type = cff_thread_frame()
        codecContext.pointee.max_pixels = Int64(options.maxPixels)
        let opened = avcodec_open2(codecContext, decoder, nil)
        if opened < 0 {
            avformat_close_input(&format)
            throw FrameIOError.ffmpeg(path: path, FFmpegError(code: opened, function: "avcodec_open2"))
        }

        if let start = options.start, start > 0 {
            try seek(toSeconds: start)
        }
    }

    deinit {
        av_packet_free(&packet)
        avcodec_free_context(&codec)
        avformat_close_input(&format)
    }

    // MARK: - Public reading

    /// The next frame in presentation order as RGB (layout and size from `options`), with
    /// `time` set in seconds; nil at the end of the stream.
    /// Throws `FrameIOError.ffmpeg` when decoding fails beyond recovery.
    public func nextFrame() throws -> RGBFrame? {
        guard let (picture, time) = try nextSampledPicture() else { return nil }
        return try rgbFrame(from: picture.frame, time: time)
    }

    /// The next decoded picture's planes in `pixelFormat` (an 8-bit planar format such as
    /// `yuv420p`, `yuv444p`, `gray`), at the decoded size (ignores `options.size` and `layout`).
    /// When the decoder already outputs `pixelFormat` the planes are copied as they are; otherwise
    /// swscale converts them with the ffmpeg CLI's defaults (bicubic, colour tags honoured), so the
    /// result equals `ffmpeg -i FILE -f rawvideo -pix_fmt FMT -`. Nil at the end of the stream.
    /// Throws `FrameIOError.invalidArgument` for an unknown or non-8-bit-planar format.
    public func nextPlanes(pixelFormat: String = "yuv420p") throws -> PlanarImage? {
        let target = av_get_pix_fmt(pixelFormat)
        guard target != AV_PIX_FMT_NONE, let descriptor = av_pix_fmt_desc_get(target) else {
            throw FrameIOError.invalidArgument("unknown pixel format '\(pixelFormat)'; use an FFmpeg name such as yuv420p")
        }
        try VideoReader.checkEightBitPlanar(descriptor.pointee, name: pixelFormat)
        guard let (picture, time) = try nextSampledPicture() else { return nil }
        var frame = picture.frame
        if frame.pointee.format != target.rawValue {
            frame = try planeConverter.convert(frame, width: frame.pointee.width, height: frame.pointee.height,
                                               format: target, flags: cff_sws_bicubic(), path: path)
        }
        return try VideoReader.copyPlanes(frame, descriptor: descriptor.pointee, name: pixelFormat, time: time)
    }

    /// Reads `count` frames starting at `seconds` (a frame-accurate seek, then `nextFrame()`);
    /// fewer when the stream ends first.
    public func readFrames(count: Int, from seconds: Double) throws -> [RGBFrame] {
        guard count >= 0 else { throw FrameIOError.invalidArgument("readFrames: count must be >= 0, got \(count)") }
        try seek(toSeconds: seconds)
        var frames: [RGBFrame] = []
        frames.reserveCapacity(count)
        while frames.count < count, let frame = try nextFrame() {
            frames.append(frame)
        }
        return frames
    }

    /// Calls `body` with each remaining frame in order until the stream ends or `body` returns
    /// false. Memory stays bounded: frames are not kept.
    public func forEachFrame(_ body: (RGBFrame) throws -> Bool) throws {
        while let frame = try nextFrame() {
            if try !body(frame) { return }
        }
    }

    // MARK: - Decoding

    /// Seconds for a timestamp in the stream's time base.
    func seconds(_ pts: Int64) -> Double {
        Double(pts) * Double(timeBase.num) / Double(timeBase.den)
    }

    /// The next picture: from the lookahead queue, else decoded.
    func pullPicture() throws -> Picture? {
        if !pending.isEmpty { return pending.removeFirst() }
        return try decodePicture()
    }

    /// Decodes the next picture of the video stream (send/receive loop; drains at end of input).
    func decodePicture() throws -> Picture? {
        guard let frame = av_frame_alloc() else { throw FrameIOError.unsupported("\(path): out of memory") }
        var owned: UnsafeMutablePointer<AVFrame>? = frame
        do {
            guard try decode(into: frame) else {
                av_frame_free(&owned)
                return nil
            }
        } catch {
            av_frame_free(&owned)
            throw error
        }
        let (pts, duration) = stamp(frame)
        return Picture(frame: frame, pts: pts, duration: duration)
    }

    /// Decodes the next picture of the video stream into `frame`, replacing what it held (the
    /// send/receive loop; drains at end of input). False at the end of the stream.
    func decode(into frame: UnsafeMutablePointer<AVFrame>) throws -> Bool {
        guard let codec, let format, let packet else { return false }
        while true {
            if decoderFinished { return false }
            let received = avcodec_receive_frame(codec, frame)
            if received >= 0 {
                consecutiveErrors = 0
                return true
            }
            if received == FFmpegError.eof {
                decoderFinished = true
                return false
            }
            if received != FFmpegError.eagain {
                // A corrupt picture: skip it like the ffmpeg CLI does, unless nothing decodes.
                consecutiveErrors += 1
                if consecutiveErrors > 64 {
                    throw FrameIOError.notAVideo(path: path, reason: "decoding keeps failing: \(FFmpegError.describe(received))")
                }
                continue
            }
            if sentEndOfStream {
                decoderFinished = true
                return false
            }
            // The decoder wants input.
            let read = av_read_frame(format, packet)
            if read < 0 {
                // A clean end or damaged trailing data (a truncated file) ends the stream; a real
                // I/O error is reported.
                if read != FFmpegError.eof, let pb = format.pointee.pb, pb.pointee.error < 0, pb.pointee.error != FFmpegError.eof {
                    throw FrameIOError.ffmpeg(path: path, FFmpegError(code: read, function: "av_read_frame"))
                }
                avcodec_send_packet(codec, nil)
                sentEndOfStream = true
                continue
            }
            defer { av_packet_unref(packet) }
            if packet.pointee.stream_index != streamIndex { continue }
            let sent = avcodec_send_packet(codec, packet)
            if sent < 0 && sent != FFmpegError.eagain {
                consecutiveErrors += 1
                if consecutiveErrors > 64 {
                    throw FrameIOError.notAVideo(path: path, reason: "decoding keeps failing: \(FFmpegError.describe(sent))")
                }
            }
        }
    }

    /// The presentation timestamp and duration (stream ticks) of a freshly decoded frame, with
    /// fallbacks for missing values; advances the reader's timestamp bookkeeping.
    func stamp(_ frame: UnsafeMutablePointer<AVFrame>) -> (pts: Int64, duration: Int64) {
        var pts = frame.pointee.best_effort_timestamp
        if pts == cff_nopts_value() { pts = frame.pointee.pts }
        if pts == cff_nopts_value() {
            pts = lastPts.map { $0 + lastDuration } ?? 0
        }
        var duration = frame.pointee.pkt_duration
        if duration <= 0 { duration = nominalDuration }
        lastPts = pts
        lastDuration = duration
        return (pts, duration)
    }

    /// The next picture to hand out and its time in seconds: every decoded picture, or the
    /// frame-rate sampler's choice when `options.frameRate` is set.
    func nextSampledPicture() throws -> (Picture, Double)? {
        guard let outBase = samplerTimeBase else {
            guard let picture = try pullPicture() else { return nil }
            positionPts = picture.pts
            return (picture, seconds(picture.pts))
        }
        if samplerEnded { return nil }
        if samplerHeld == nil {
            guard let first = try pullPicture() else { samplerEnded = true; return nil }
            samplerHeld = first
            if samplerNext == nil { samplerNext = tick(first.pts, outBase) }
        }
        let k = samplerNext!
        var atEnd = false
        while true {
            guard let next = try pullPicture() else { atEnd = true; break }
            if tick(next.pts, outBase) <= k {
                samplerHeld = next
            } else {
                pending.insert(next, at: 0)
                break
            }
        }
        let held = samplerHeld!
        if atEnd {
            let endTick = tick(held.pts + held.duration, outBase)
            if k >= endTick {
                samplerEnded = true
                return nil
            }
        }
        samplerNext = k + 1
        positionPts = held.pts
        return (held, Double(k) * Double(outBase.num) / Double(outBase.den))
    }

    /// A stream timestamp in sampler ticks (units of 1/F), rounded to nearest as the fps filter does.
    func tick(_ pts: Int64, _ outBase: AVRational) -> Int64 {
        av_rescale_q_rnd(pts, timeBase, outBase, AVRounding(rawValue: AV_ROUND_NEAR_INF.rawValue | AV_ROUND_PASS_MINMAX.rawValue))
    }

    // MARK: - Conversion

    private var swsFlags: Int32 {
        switch options.scaling {
        case .area: return cff_sws_area()
        case .bicubic: return cff_sws_bicubic()
        case .bilinear: return cff_sws_bilinear()
        case .lanczos: return cff_sws_lanczos()
        case .point: return cff_sws_point()
        }
    }

    /// Converts a decoded picture to an RGBFrame in the configured size and layout.
    func rgbFrame(from frame: UnsafeMutablePointer<AVFrame>, time: Double) throws -> RGBFrame {
        let width = options.size?.width ?? Int(frame.pointee.width)
        let height = options.size?.height ?? Int(frame.pointee.height)
        let rgb = try rgbConverter.convert(frame, width: Int32(width), height: Int32(height),
                                           format: AV_PIX_FMT_RGB24, flags: swsFlags, path: path)
        let stride = Int(rgb.pointee.linesize.0)
        guard let base = rgb.pointee.data.0 else { throw FrameIOError.unsupported("\(path): swscale produced no data") }
        let rowBytes = width * 3
        switch options.layout {
        case .packed:
            let bytes = [UInt8](unsafeUninitializedCapacity: rowBytes * height) { out, count in
                let dst = out.baseAddress!
                if stride == rowBytes {
                    dst.update(from: base, count: rowBytes * height)
                } else {
                    for y in 0..<height {
                        (dst + y * rowBytes).update(from: base + y * stride, count: rowBytes)
                    }
                }
                count = rowBytes * height
            }
            return try RGBFrame(width: width, height: height, packed: bytes, time: time)
        case .planarFloat:
            let plane = width * height
            let values = [Float](unsafeUninitializedCapacity: plane * 3) { out, count in
                VideoReader.deinterleaveToFloat(base, stride: stride, width: width, height: height, into: out.baseAddress!)
                count = plane * 3
            }
            return try RGBFrame(width: width, height: height, planar: values, time: time)
        }
    }

    /// Packed RGB24 rows to planar Float32 `[3, H, W]` with `Float(v) / 127.5 - 1` (the formula of
    /// `RGBFrame.planarFloat`, so both paths give identical values). Written as one pass over each
    /// row with an interleaved stride-3 access pattern, which LLVM vectorizes.
    @inline(never)
    static func deinterleaveToFloat(_ base: UnsafeMutablePointer<UInt8>, stride: Int, width: Int, height: Int,
                                    into out: UnsafeMutablePointer<Float>) {
        let plane = width * height
        for y in 0..<height {
            let row = base + y * stride
            let r = out + y * width, g = r + plane, b = g + plane
            for x in 0..<width {
                r[x] = Float(row[3 * x]) / 127.5 - 1
                g[x] = Float(row[3 * x + 1]) / 127.5 - 1
                b[x] = Float(row[3 * x + 2]) / 127.5 - 1
            }
        }
    }

    /// Copies the planes of an 8-bit planar frame into tightly packed `Plane`s.
    static func copyPlanes(_ frame: UnsafeMutablePointer<AVFrame>, descriptor: AVPixFmtDescriptor,
                           name: String, time: Double) throws -> PlanarImage {
        let width = Int(frame.pointee.width), height = Int(frame.pointee.height)
        let count = Int(av_pix_fmt_count_planes(AVPixelFormat(rawValue: frame.pointee.format)))
        var planes: [Plane] = []
        planes.reserveCapacity(count)
        try withFramePointers(frame) { data, lines in
            for i in 0..<count {
                let chroma = i == 1 || i == 2
                let sx = chroma ? Int(descriptor.log2_chroma_w) : 0
                let sy = chroma ? Int(descriptor.log2_chroma_h) : 0
                let pw = (width + (1 << sx) - 1) >> sx
                let ph = (height + (1 << sy) - 1) >> sy
                let stride = Int(lines[i])
                guard let base = data[i] else { throw FrameIOError.unsupported("plane \(i) of \(name) is missing") }
                let bytes = [UInt8](unsafeUninitializedCapacity: pw * ph) { out, n in
                    for y in 0..<ph {
                        (out.baseAddress! + y * pw).update(from: base + y * stride, count: pw)
                    }
                    n = pw * ph
                }
                planes.append(try Plane(width: pw, height: ph, data: bytes))
            }
        }
        return PlanarImage(pixelFormat: name, planes: planes, time: time)
    }

    static func checkEightBitPlanar(_ d: AVPixFmtDescriptor, name: String) throws {
        let flags = d.flags
        let planar = (flags & UInt64(AV_PIX_FMT_FLAG_PLANAR)) != 0 || d.nb_components == 1
        let bad = (flags & UInt64(AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL | AV_PIX_FMT_FLAG_FLOAT)) != 0
        var eightBit = true
        withUnsafeBytes(of: d.comp) { raw in
            let comps = raw.bindMemory(to: AVComponentDescriptor.self)
            for c in 0..<Int(d.nb_components) where comps[c].depth != 8 || comps[c].step != 1 {
                eightBit = false
            }
        }
        guard planar, !bad, eightBit else {
            throw FrameIOError.invalidArgument(
                "pixel format '\(name)' is not an 8-bit planar format; use yuv420p, yuv422p, yuv444p, gray or gbrp")
        }
    }

    // MARK: - Opening helpers

    static func validate(_ options: Options) throws {
        if let size = options.size, size.width <= 0 || size.height <= 0 || size.width > 16384 || size.height > 16384 {
            throw FrameIOError.invalidArgument("output size \(size) must be between 1x1 and 16384x16384")
        }
        if let fps = options.frameRate, !(fps > 0 && fps <= 1000) {
            throw FrameIOError.invalidArgument("frame rate \(fps) must be in (0, 1000]")
        }
        if options.threads < 0 || options.threads > 64 {
            throw FrameIOError.invalidArgument("threads \(options.threads) must be 0 (auto) ... 64")
        }
        if let start = options.start, !(start >= 0 && start.isFinite) {
            throw FrameIOError.invalidArgument("start time \(start) must be a finite number of seconds >= 0")
        }
        if options.maxPixels <= 0 {
            throw FrameIOError.invalidArgument("maxPixels must be positive")
        }
    }

    static func checkFile(_ path: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw FrameIOError.fileNotFound(path: path)
        }
        if isDirectory.boolValue {
            throw FrameIOError.notAVideo(path: path, reason: "it is a directory; give the path of a video file inside it")
        }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw FrameIOError.notAVideo(path: path, reason: "permission denied; check the file's permissions")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
        if size == 0 {
            throw FrameIOError.notAVideo(path: path, reason: "the file is empty (0 bytes); it was probably not written completely")
        }
    }

    static func openError(path: String, code: Int32, stage: String) -> FrameIOError {
        let message = FFmpegError.describe(code)
        return .notAVideo(path: path,
                          reason: "FFmpeg cannot read it: \(stage) says '\(message)'; check that it is a complete video file "
                              + "(a truncated MP4 loses its index) or re-encode it with ffmpeg")
    }

    static func makeInfo(path: String, format: UnsafeMutablePointer<AVFormatContext>,
                         stream: UnsafeMutablePointer<AVStream>, hasAudio: Bool) -> VideoInfo {
        let fmt = format.pointee, st = stream.pointee, par = st.codecpar.pointee
        func rational(_ r: AVRational) -> Rational? { r.num > 0 && r.den > 0 ? Rational(r.num, r.den) : nil }
        func name(_ c: UnsafePointer<CChar>?) -> String? { c.map { String(cString: $0) } }
        let tb = st.time_base
        let nopts = cff_nopts_value()
        var duration: Double?
        if st.duration != nopts && st.duration > 0 {
            duration = Double(st.duration) * Double(tb.num) / Double(tb.den)
        } else if fmt.duration != nopts && fmt.duration > 0 {
            duration = Double(fmt.duration) / Double(AV_TIME_BASE)
        }
        var start: Double?
        if st.start_time != nopts {
            start = Double(st.start_time) * Double(tb.num) / Double(tb.den)
        }
        var bitRate: Int?
        if par.bit_rate > 0 { bitRate = Int(par.bit_rate) } else if fmt.bit_rate > 0 { bitRate = Int(fmt.bit_rate) }
        var metadata: [String: String] = [:]
        var entry: UnsafeMutablePointer<AVDictionaryEntry>? = nil
        while let e = av_dict_get(fmt.metadata, "", entry, AV_DICT_IGNORE_SUFFIX) {
            metadata[String(cString: e.pointee.key)] = String(cString: e.pointee.value)
            entry = e
        }
        let pixelFormat = par.format >= 0 ? (name(av_get_pix_fmt_name(AVPixelFormat(rawValue: par.format))) ?? "unknown") : "unknown"
        let frameRate = rational(st.r_frame_rate) ?? rational(st.avg_frame_rate)
        return VideoInfo(
            path: path,
            formatName: name(fmt.iformat?.pointee.name) ?? "unknown",
            codecName: String(cString: avcodec_get_name(par.codec_id)),
            width: Int(par.width), height: Int(par.height),
            pixelFormat: pixelFormat,
            frameRate: frameRate,
            averageFrameRate: rational(st.avg_frame_rate),
            timeBase: Rational(tb.num, tb.den),
            startTime: start,
            duration: duration,
            frameCount: st.nb_frames > 0 ? Int(st.nb_frames) : nil,
            bitRate: bitRate,
            colorSpace: par.color_space == AVCOL_SPC_UNSPECIFIED ? nil : name(av_color_space_name(par.color_space)),
            colorRange: par.color_range == AVCOL_RANGE_UNSPECIFIED ? nil : name(av_color_range_name(par.color_range)),
            colorPrimaries: par.color_primaries == AVCOL_PRI_UNSPECIFIED ? nil : name(av_color_primaries_name(par.color_primaries)),
            colorTransfer: par.color_trc == AVCOL_TRC_UNSPECIFIED ? nil : name(av_color_transfer_name(par.color_trc)),
            hasAudio: hasAudio,
            metadata: metadata)
    }
}
