extension VideoReader {
    /// An output size in pixels.
    public struct Size: Sendable, Codable, Hashable, CustomStringConvertible {
        /// Width in pixels (positive).
        public var width: Int
        /// Height in pixels (positive).
        public var height: Int

        /// Creates `width x height`.
        public init(width: Int, height: Int) {
            self.width = width
            self.height = height
        }

        /// `WxH`.
        public var description: String { "\(width)x\(height)" }

        /// Parses `WxH` (e.g. `256x144`); nil for anything else or a non-positive dimension.
        public init?(parsing text: String) {
            let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
            guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0 else { return nil }
            self.init(width: w, height: h)
        }
    }

    /// The swscale filter used when the output size differs from the decoded size. Same-size
    /// conversions (YUV to RGB) use it for chroma upsampling too, exactly as the ffmpeg CLI does.
    public enum Scaling: String, Sendable, Codable, CaseIterable {
        /// Area averaging (`SWS_AREA`): good for large reductions.
        case area
        /// Bicubic (`SWS_BICUBIC`): the ffmpeg CLI's default, so RGB matches `ffmpeg -pix_fmt rgb24`.
        case bicubic
        /// Bilinear (`SWS_FAST_BILINEAR` is not used; this is `SWS_BILINEAR`).
        case bilinear
        /// Lanczos (`SWS_LANCZOS`): sharpest, slowest.
        case lanczos
        /// Nearest neighbour (`SWS_POINT`).
        case point
    }

    /// How `nextFrame()` lays out the RGB pixels of the frames it returns.
    public enum Layout: String, Sendable, Codable, CaseIterable {
        /// `RGBFrame.Pixels.packed`: UInt8 RGB24, row-major.
        case packed
        /// `RGBFrame.Pixels.planarFloat`: Float32 `[3, H, W]`, `v / 127.5 - 1` in [-1, 1].
        case planarFloat
    }

    /// How a `VideoReader` decodes and converts. Every field has a default; `Options()` reads
    /// frames at their native size and timing as packed RGB24.
    public struct Options: Sendable, Codable, Equatable {
        /// Output size of RGB frames; nil keeps the decoded size. (`nextPlanes` ignores it.)
        public var size: Size?
        /// The swscale filter for resizing and chroma upsampling.
        public var scaling: Scaling
        /// The pixel layout of RGB frames.
        public var layout: Layout
        /// Sample at this many frames per second by timestamps (like `ffmpeg -vf fps=F`);
        /// nil returns every decoded frame. See `VideoReader` for the exact rule.
        public var frameRate: Double?
        /// Decoder threads; 0 lets FFmpeg choose (one per core). Frame threading is used.
        public var threads: Int
        /// Start reading at this presentation time in seconds (a frame-accurate seek on open);
        /// nil starts at the first frame.
        public var start: Double?
        /// The largest picture (width * height) the reader accepts; a stream claiming more is
        /// refused before anything is allocated for it.
        public var maxPixels: Int

        /// Creates options; every argument has the default described on its property.
        public init(size: Size? = nil, scaling: Scaling = .bicubic, layout: Layout = .packed,
                    frameRate: Double? = nil, threads: Int = 0, start: Double? = nil,
                    maxPixels: Int = 1 << 26) {
            self.size = size
            self.scaling = scaling
            self.layout = layout
            self.frameRate = frameRate
            self.threads = threads
            self.start = start
            self.maxPixels = maxPixels
        }
    }
}
