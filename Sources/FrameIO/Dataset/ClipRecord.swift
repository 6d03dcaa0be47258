/// One line of a dataset's `manifest.jsonl`: where a clip lives and where it came from.
public struct ClipRecord: Codable, Sendable, Equatable, Hashable {
    /// Shard file name inside the dataset directory, e.g. `shard-00003.safetensors`.
    public var shard: String
    /// Index of the clip along the shard tensor's first axis.
    public var index: Int
    /// The source video's path as given on the command line (or in the input manifest).
    public var source: String
    /// Start time of the clip in the source, seconds.
    public var start: Double
    /// Frame rate the clip was sampled at, frames per second.
    public var fps: Double
    /// Frames in the clip.
    public var frames: Int
    /// Clip width in pixels.
    public var width: Int
    /// Clip height in pixels.
    public var height: Int
    /// The caption (empty when the source had none).
    public var caption: String
    /// Other captions of the same clip, nil when it has one (a sidecar's later lines, or an input
    /// manifest's `alternatives`). Training draws one of `caption` and these each time it uses the
    /// clip, so that wording that varies between a clip's captions carries nothing the model
    /// can learn; the report and `caption` users see the first.
    public var alternatives: [String]?

    /// Creates a record.
    public init(shard: String, index: Int, source: String, start: Double, fps: Double,
                frames: Int, width: Int, height: Int, caption: String, alternatives: [String]? = nil) {
        self.shard = shard
        self.index = index
        self.source = source
        self.start = start
        self.fps = fps
        self.frames = frames
        self.width = width
        self.height = height
        self.caption = caption
        self.alternatives = alternatives?.isEmpty == true ? nil : alternatives
    }

    /// `caption` and its alternatives, the caption first.
    public var allCaptions: [String] { [caption] + (alternatives ?? []) }

    /// Identity of the clip independent of where it was stored: source and start time
    /// (rounded to microseconds). Resume and merge use it to avoid duplicates.
    public var clipKey: String {
        "\(source)#\(Int64((start * 1_000_000).rounded()))"
    }
}
