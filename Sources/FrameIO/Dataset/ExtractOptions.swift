/// How source videos are cut into training clips.
public struct ExtractOptions: Sendable, Codable, Equatable {
    /// How a source frame is fitted to the clip size.
    public enum Resize: String, Sendable, Codable, CaseIterable {
        /// Scale so the short side fits, then centre-crop the long side.
        case crop
        /// Scale so the long side fits, then letterbox with black.
        case pad
        /// Scale each axis independently (distorts the aspect ratio).
        case stretch
    }

    /// Frames per clip.
    public var frames: Int = 16
    /// Sampling rate in frames per second (frames are picked by timestamp).
    public var fps: Double = 8
    /// Clip width in pixels.
    public var width: Int = 64
    /// Clip height in pixels.
    public var height: Int = 64
    /// How frames are fitted to the clip size.
    public var resize: Resize = .crop
    /// Seconds between the starts of consecutive clips; nil = the clip's length (no overlap).
    public var stride: Double? = nil
    /// At most this many clips per source video; nil = no limit.
    public var maxClipsPerVideo: Int? = nil
    /// Drop clips spanning a hard cut: a consecutive-frame SSIM below `cutThreshold`.
    public var skipCuts: Bool = false
    /// Inter-frame SSIM (luma, FFmpeg definition) under which a frame pair counts as a cut.
    public var cutThreshold: Double = 0.4
    /// Largest shard size in bytes of pixel data.
    public var maxShardBytes: Int = 64 << 20

    /// Options with every default.
    public init() {}

    /// The stride in sampled frames (at least 1).
    public var strideFrames: Int {
        max(1, Int(((stride ?? Double(frames) / fps) * fps).rounded()))
    }
}
