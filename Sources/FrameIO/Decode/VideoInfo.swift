/// Facts about a video file's container and its video stream, read once when a `VideoReader`
/// opens it. Names are FFmpeg's own (the strings `ffprobe` prints), so they can be compared with
/// `ffprobe -show_streams -show_format` directly.
public struct VideoInfo: Sendable, Codable, Equatable {
    /// The path the reader was opened with (`-` for stdin).
    public var path: String
    /// The container (demuxer) name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`, `matroska,webm`, `nut`.
    public var formatName: String
    /// The video codec name, e.g. `h264`, `vp9`, `ffv1`.
    public var codecName: String
    /// Coded width in pixels, as the container/codec parameters claim before decoding.
    public var width: Int
    /// Coded height in pixels.
    public var height: Int
    /// FFmpeg's pixel format name of the decoded pictures, e.g. `yuv420p`, `yuv420p10le`
    /// (`unknown` when the container does not say).
    public var pixelFormat: String
    /// The stream's frame rate: FFmpeg's `r_frame_rate` (the base rate that represents every
    /// timestamp exactly) when valid, else `avg_frame_rate`; nil when neither is known.
    public var frameRate: Rational?
    /// The stream's average frame rate (`avg_frame_rate`), nil when unknown. Differs from
    /// `frameRate` for variable-frame-rate streams.
    public var averageFrameRate: Rational?
    /// The stream's time base: timestamps count in units of this many seconds.
    public var timeBase: Rational
    /// Presentation time of the stream's first frame in seconds (ffprobe's `start_time`), when known.
    public var startTime: Double?
    /// Duration in seconds: the stream's own duration when the container stores one, else the
    /// container's; nil when neither is known (e.g. a pipe).
    public var duration: Double?
    /// The number of frames the container claims (`nb_frames`), nil when it does not say.
    /// Never trusted for reading: the reader goes by decoded timestamps.
    public var frameCount: Int?
    /// Bit rate in bits per second (the stream's, else the container's), nil when unknown.
    public var bitRate: Int?
    /// The colour matrix tag, e.g. `bt709`, `bt470bg`, `smpte170m`, `bt2020nc`; nil when untagged.
    public var colorSpace: String?
    /// The colour range tag: `tv` (limited) or `pc` (full); nil when untagged.
    public var colorRange: String?
    /// The colour primaries tag, e.g. `bt709`; nil when untagged.
    public var colorPrimaries: String?
    /// The transfer characteristic tag, e.g. `bt709`, `smpte2084`; nil when untagged.
    public var colorTransfer: String?
    /// True when the file also holds at least one audio stream.
    public var hasAudio: Bool
    /// The container's metadata tags (title, encoder, ...).
    public var metadata: [String: String]

    /// Creates a value field by field (readers fill it from the demuxer; tests and tools may
    /// build one by hand).
    public init(path: String, formatName: String, codecName: String, width: Int, height: Int,
                pixelFormat: String, frameRate: Rational?, averageFrameRate: Rational?,
                timeBase: Rational, startTime: Double?, duration: Double?, frameCount: Int?,
                bitRate: Int?, colorSpace: String?, colorRange: String?, colorPrimaries: String?,
                colorTransfer: String?, hasAudio: Bool, metadata: [String: String]) {
        self.path = path
        self.formatName = formatName
        self.codecName = codecName
        self.width = width
        self.height = height
        self.pixelFormat = pixelFormat
        self.frameRate = frameRate
        self.averageFrameRate = averageFrameRate
        self.timeBase = timeBase
        self.startTime = startTime
        self.duration = duration
        self.frameCount = frameCount
        self.bitRate = bitRate
        self.colorSpace = colorSpace
        self.colorRange = colorRange
        self.colorPrimaries = colorPrimaries
        self.colorTransfer = colorTransfer
        self.hasAudio = hasAudio
        self.metadata = metadata
    }
}
