extension VideoWriter {
    /// A container (muxer) the writer can produce.
    public enum Container: String, Sendable, Codable, CaseIterable {
        /// MPEG-4 Part 14 (`.mp4`, `.m4v`); `+faststart` for files, fragmented on pipes.
        case mp4
        /// QuickTime (`.mov`); `+faststart` for files, fragmented on pipes.
        case mov
        /// Matroska (`.mkv`); streams as it is.
        case mkv
        /// WebM (`.webm`): VP9 or AV1 only; streams as it is.
        case webm
        /// Animated GIF (`.gif`), looping forever.
        case gif
        /// NUT (`.nut`), FFmpeg's own streamable container; the default for `-` (stdout).
        case nut
        /// A numbered PNG sequence, e.g. `frames_%04d.png` (FFmpeg's image2 muxer).
        case png

        /// FFmpeg's muxer name.
        var muxerName: String {
            switch self {
            case .mp4: return "mp4"
            case .mov: return "mov"
            case .mkv: return "matroska"
            case .webm: return "webm"
            case .gif: return "gif"
            case .nut: return "nut"
            case .png: return "image2"
            }
        }

        /// The codec used when `Options.codec` is nil.
        public var defaultCodec: Codec {
            switch self {
            case .mp4, .mov, .mkv, .nut: return .h264
            case .webm: return .vp9
            case .gif: return .gif
            case .png: return .png
            }
        }

        /// The container for a file name's extension (case-insensitive), or nil when unknown.
        public init?(pathExtension ext: String) {
            switch ext.lowercased() {
            case "mp4", "m4v": self = .mp4
            case "mov": self = .mov
            case "mkv": self = .mkv
            case "webm": self = .webm
            case "gif": self = .gif
            case "nut": self = .nut
            case "png": self = .png
            default: return nil
            }
        }
    }

    /// A video codec the writer can encode with.
    public enum Codec: String, Sendable, Codable, CaseIterable {
        /// H.264 with libx264.
        case h264
        /// VP9 with libvpx-vp9.
        case vp9
        /// AV1 with libsvtav1 (frames at least 64x64) or libaom-av1 (smaller frames).
        case av1
        /// FFV1, lossless (Matroska, NUT).
        case ffv1
        /// GIF with a palette computed from the frames (GIF container only).
        case gif
        /// PNG images (PNG sequences, also storable in Matroska/NUT/MOV).
        case png
    }

    /// The YUV layout the encoder receives (ignored by GIF, PNG: they take RGB).
    public enum PixelFormat: String, Sendable, Codable, CaseIterable {
        /// 4:2:0: chroma at half width and height (the compatible default).
        case yuv420p
        /// 4:4:4: full-resolution chroma (better colour; fewer players; x264 profile High 4:4:4).
        case yuv444p
    }

    /// The RGB->YUV matrix used for conversion and written into the stream's colour tags.
    public typealias ColourMatrix = FrameIO.ColourMatrix
    /// Luma/chroma value range.
    public typealias ColourRange = FrameIO.ColourRange

    /// How 4:2:0 chroma is filtered before it is subsampled. Both filters are separable and
    /// centre-sited (tagged `chroma_location=center` where the stream can say so).
    public enum ChromaFilter: String, Sendable, Codable, CaseIterable {
        /// The mean of each 2x2 block (swscale's `area`): the sharpest chroma and the closest
        /// round trip to the RGB input. The default.
        case area
        /// [1 3 3 1]/8 in each direction (swscale's `bilinear+full_chroma_inp` at half size):
        /// softer chroma that costs the encoder fewer bits, at a lower round-trip PSNR on detailed
        /// colour (docs/writer.md has figures).
        case bilinear
    }

    /// What to do with an odd width or height when the pixel format is 4:2:0.
    public enum OddSizePolicy: String, Sendable, Codable, CaseIterable {
        /// Pad the right/bottom edge to even size by repeating the last column/row (reported in `Result`).
        case pad
        /// Throw `FrameIOError.invalidArgument` from `init`.
        case fail
    }

    /// How a writer encodes: container, codec, rate control, colour and muxing. Every field has a
    /// default; unset codec-specific fields take the codec's own sensible default.
    public struct Options: Sendable, Codable, Equatable {
        /// Container override; nil = from the path's extension (`-` = NUT).
        public var format: Container? = nil
        /// Codec override; nil = the container's default (mp4/mov/mkv/nut: h264, webm: vp9, gif, png).
        public var codec: Codec? = nil
        /// Frames per second (also the encoder time base, 1/frameRate).
        public var frameRate: Rational = Rational(8, 1)
        /// Constant-quality factor; nil = codec default (h264 20, vp9 32, av1 35). 0 with h264 = lossless.
        public var crf: Int? = nil
        /// x264 preset (ultrafast ... veryslow); nil = medium.
        public var preset: String? = nil
        /// Speed: vp9 cpu-used (-8...8, default 4), SVT-AV1 preset (0...13, default 8), aom cpu-used (0...9, default 6).
        public var speed: Int? = nil
        /// libvpx deadline (good, best, realtime); nil = good.
        public var deadline: String? = nil
        /// Target bitrate in bits/s; nil = pure constant quality (with crf, a cap for vp9).
        public var bitrate: Int? = nil
        /// Maximum frames between keyframes (GOP size); nil = codec default.
        public var keyframeInterval: Int? = nil
        /// YUV layout given to the encoder.
        public var pixelFormat: PixelFormat = .yuv420p
        /// Encoder threads; 0 = automatic (all cores).
        public var threads: Int = 0
        /// Container metadata tags (title, comment, artist, ...).
        public var metadata: [String: String] = [:]
        /// RGB->YUV matrix (and colour tags); BT.709 by default.
        public var colourMatrix: ColourMatrix = .bt709
        /// YUV range (and range tag); limited ("tv") by default.
        public var colourRange: ColourRange = .limited
        /// 4:2:0 chroma filter; area (the 2x2 mean) by default.
        public var chromaFilter: ChromaFilter = .area
        /// Odd sizes with 4:2:0: pad to even (default) or fail.
        public var oddSizePolicy: OddSizePolicy = .pad
        /// MP4/MOV files: move the index to the front (`movflags=+faststart`) for web playback.
        public var faststart: Bool = true
        /// MP4/MOV: write fragments (`frag_keyframe+empty_moov`); always on for non-seekable output.
        public var fragmented: Bool = false
        /// GIF: number of leading frames the global palette is computed from (buffered, 1...256).
        public var gifPaletteFrames: Int = 16
        /// Extra encoder options (AVOptions, e.g. `["tune": "film"]`); unknown names are an error.
        public var encoderOptions: [String: String] = [:]
        /// Extra muxer options (AVOptions, e.g. `["movflags": "+faststart"]`); unknown names are an error.
        public var muxerOptions: [String: String] = [:]

        /// Options with every default.
        public init() {}

        private enum CodingKeys: String, CodingKey {
            case format, codec, frameRate, crf, preset, speed, deadline, bitrate, keyframeInterval, pixelFormat, threads, metadata, colourMatrix, colourRange, chromaFilter, oddSizePolicy, faststart, fragmented, gifPaletteFrames, encoderOptions, muxerOptions
        }

        /// Decodes options; a missing key keeps its default, so a partial JSON config works.
        public init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            let d = Options()
            format = try c.decodeIfPresent(Container.self, forKey: .format)
            codec = try c.decodeIfPresent(Codec.self, forKey: .codec)
            frameRate = try c.decodeIfPresent(Rational.self, forKey: .frameRate) ?? d.frameRate
            crf = try c.decodeIfPresent(Int.self, forKey: .crf)
            preset = try c.decodeIfPresent(String.self, forKey: .preset)
            speed = try c.decodeIfPresent(Int.self, forKey: .speed)
            deadline = try c.decodeIfPresent(String.self, forKey: .deadline)
            bitrate = try c.decodeIfPresent(Int.self, forKey: .bitrate)
            keyframeInterval = try c.decodeIfPresent(Int.self, forKey: .keyframeInterval)
            pixelFormat = try c.decodeIfPresent(PixelFormat.self, forKey: .pixelFormat) ?? d.pixelFormat
            threads = try c.decodeIfPresent(Int.self, forKey: .threads) ?? d.threads
            metadata = try c.decodeIfPresent([String: String].self, forKey: .metadata) ?? d.metadata
            colourMatrix = try c.decodeIfPresent(ColourMatrix.self, forKey: .colourMatrix) ?? d.colourMatrix
            colourRange = try c.decodeIfPresent(ColourRange.self, forKey: .colourRange) ?? d.colourRange
            chromaFilter = try c.decodeIfPresent(ChromaFilter.self, forKey: .chromaFilter) ?? d.chromaFilter
            oddSizePolicy = try c.decodeIfPresent(OddSizePolicy.self, forKey: .oddSizePolicy) ?? d.oddSizePolicy
            faststart = try c.decodeIfPresent(Bool.self, forKey: .faststart) ?? d.faststart
            fragmented = try c.decodeIfPresent(Bool.self, forKey: .fragmented) ?? d.fragmented
            gifPaletteFrames = try c.decodeIfPresent(Int.self, forKey: .gifPaletteFrames) ?? d.gifPaletteFrames
            encoderOptions = try c.decodeIfPresent([String: String].self, forKey: .encoderOptions) ?? d.encoderOptions
            muxerOptions = try c.decodeIfPresent([String: String].self, forKey: .muxerOptions) ?? d.muxerOptions
        }

    }
}
