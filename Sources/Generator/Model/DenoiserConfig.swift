import Foundation

/// Configuration of `VideoDenoiser`, the factorised space-time noise predictor. Stored as JSON in
/// the metadata of every checkpoint (key `DenoiserConfig.metadataKey`), so a weights file
/// rebuilds its own model.
public struct DenoiserConfig: Sendable, Codable, Equatable {
    /// Channels of the video (3: RGB in [-1, 1], pixel-space diffusion).
    public var inChannels: Int = 3
    /// Channels of the first level; level l has `baseChannels * channelMultipliers[l]`.
    public var baseChannels: Int = 64
    /// Channel multiplier per resolution level; the count is the number of levels (each level
    /// after the first halves the resolution).
    public var channelMultipliers: [Int] = [1, 2, 2]
    /// Residual blocks per level on the way down (and up).
    public var resBlocksPerLevel: Int = 1
    /// Attention heads (spatial attention at the lowest resolution and temporal attention).
    public var heads: Int = 4
    /// GroupNorm groups (must divide every level's channel count).
    public var groups: Int = 8
    /// Frames per training clip. Inference accepts any count: the temporal bias is relative.
    public var frames: Int = 16
    /// Height and width of training frames (divisible by 2^(levels-1)).
    public var resolution: Int = 32
    /// Width of the pooled text embedding (384 for all-MiniLM-L6-v2).
    public var textDim: Int = 384
    /// Frame distances beyond this share one learned temporal bias per head.
    public var maxFrameDistance: Int = 16
    /// The temporal stream (TGS attention after the spatial blocks of every level); false gives
    /// the per-frame ablation.
    public var temporal: Bool = true
    /// A spatio-temporal convolution in every temporal block, before its attention: a 3x3
    /// convolution over each frame and its two neighbours (`TemporalConvolution`), so an object
    /// can be carried to a neighbouring position in the next frame. Off in models made before
    /// it existed (the key is then absent from the checkpoint's JSON).
    public var temporalConvolution: Bool = false
    /// Cross-attention from the frames to the prompt's token states (MiniLM's last hidden
    /// states), beside the pooled embedding's FiLM, at the two lowest resolutions (each level's
    /// blocks there, down and up) and in the middle (`CrossAttention`, zero-started). Off in
    /// models made before it existed (the key is then absent from the checkpoint's JSON).
    public var crossAttention: Bool = false
    /// The prompt in the temporal stream: every temporal block adds a learned projection of the
    /// pooled text embedding (zero-started) to the input of its attention and feed-forward, so
    /// how frames relate (which way a thing moves) can follow the words, not only what the
    /// spatial features carry. Off in models made before it existed (the key is then absent from
    /// the checkpoint's JSON).
    public var temporalConditioning: Bool = false
    /// Each frame's place in its clip in the temporal stream: every temporal block adds a
    /// learned projection (zero-started) of sinusoidal features of the frame index to the input
    /// of its attention and feed-forward, as AnimateDiff's motion modules add absolute positions.
    /// Without it the stream sees only frame distances (the relative bias) and the clip's ends
    /// (the convolution's zero padding), so from pure noise it can hardly draw anything that
    /// depends on where in the clip a frame is, such as where a car is at the start and at the
    /// end of a drive to the left (docs/conditioning.md). Off in models made before it existed
    /// (the key is then absent from the checkpoint's JSON).
    public var temporalPositions: Bool = false
    /// Whitening of the pooled text embedding over the training captions before the model reads
    /// it (`TextWhitening`): the value is its eps, the variance added to each principal direction
    /// of the captions' spread before it is scaled to unit variance. The attribute words of a
    /// caption ("left", "red") move its embedding a quarter as far as a change of subject does,
    /// along directions the captions barely vary in; whitening stretches those to the scale of
    /// the others, which a linear layer trained by gradient descent would otherwise learn
    /// slowest. `train` fits the transform to the dataset's captions when a run starts; it is
    /// stored with the model and fixed. Off (nil) in models made before it existed (the key is
    /// then absent from the checkpoint's JSON).
    public var textWhitening: Double? = nil
    /// The training noise schedule.
    public var schedule: NoiseSchedule = NoiseSchedule(.squaredCosCapV2)
    /// What the network predicts.
    public var predictionType: PredictionType = .v

    private enum CodingKeys: String, CodingKey {
        case inChannels, baseChannels, channelMultipliers, resBlocksPerLevel, heads, groups, frames, resolution, textDim,
             maxFrameDistance, temporal, temporalConvolution, crossAttention, temporalConditioning, temporalPositions, textWhitening,
             schedule, predictionType
    }

    /// Creates the default configuration (use the presets or change fields).
    public init() {}

    /// Decodes a configuration; keys it leaves out keep the default configuration's values, so a
    /// JSON file names only what it changes (and checkpoints of older versions, written before a
    /// field existed, still load).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = DenoiserConfig()
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? d.inChannels
        baseChannels = try c.decodeIfPresent(Int.self, forKey: .baseChannels) ?? d.baseChannels
        channelMultipliers = try c.decodeIfPresent([Int].self, forKey: .channelMultipliers) ?? d.channelMultipliers
        resBlocksPerLevel = try c.decodeIfPresent(Int.self, forKey: .resBlocksPerLevel) ?? d.resBlocksPerLevel
        heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? d.heads
        groups = try c.decodeIfPresent(Int.self, forKey: .groups) ?? d.groups
        frames = try c.decodeIfPresent(Int.self, forKey: .frames) ?? d.frames
        resolution = try c.decodeIfPresent(Int.self, forKey: .resolution) ?? d.resolution
        textDim = try c.decodeIfPresent(Int.self, forKey: .textDim) ?? d.textDim
        maxFrameDistance = try c.decodeIfPresent(Int.self, forKey: .maxFrameDistance) ?? d.maxFrameDistance
        temporal = try c.decodeIfPresent(Bool.self, forKey: .temporal) ?? d.temporal
        temporalConvolution = try c.decodeIfPresent(Bool.self, forKey: .temporalConvolution) ?? d.temporalConvolution
        crossAttention = try c.decodeIfPresent(Bool.self, forKey: .crossAttention) ?? d.crossAttention
        temporalConditioning = try c.decodeIfPresent(Bool.self, forKey: .temporalConditioning) ?? d.temporalConditioning
        temporalPositions = try c.decodeIfPresent(Bool.self, forKey: .temporalPositions) ?? d.temporalPositions
        textWhitening = try c.decodeIfPresent(Double.self, forKey: .textWhitening) ?? d.textWhitening
        schedule = try c.decodeIfPresent(NoiseSchedule.self, forKey: .schedule) ?? d.schedule
        predictionType = try c.decodeIfPresent(PredictionType.self, forKey: .predictionType) ?? d.predictionType
    }

    /// Encodes every field; `temporalConvolution`, `crossAttention`, `temporalConditioning`, `temporalPositions` and `textWhitening`
    /// only when on, so the JSON
    /// of a model without them is what older versions wrote and read.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inChannels, forKey: .inChannels)
        try c.encode(baseChannels, forKey: .baseChannels)
        try c.encode(channelMultipliers, forKey: .channelMultipliers)
        try c.encode(resBlocksPerLevel, forKey: .resBlocksPerLevel)
        try c.encode(heads, forKey: .heads)
        try c.encode(groups, forKey: .groups)
        try c.encode(frames, forKey: .frames)
        try c.encode(resolution, forKey: .resolution)
        try c.encode(textDim, forKey: .textDim)
        try c.encode(maxFrameDistance, forKey: .maxFrameDistance)
        try c.encode(temporal, forKey: .temporal)
        if temporalConvolution { try c.encode(temporalConvolution, forKey: .temporalConvolution) }
        if crossAttention { try c.encode(crossAttention, forKey: .crossAttention) }
        if temporalConditioning { try c.encode(temporalConditioning, forKey: .temporalConditioning) }
        if temporalPositions { try c.encode(temporalPositions, forKey: .temporalPositions) }
        try c.encodeIfPresent(textWhitening, forKey: .textWhitening)
        try c.encode(schedule, forKey: .schedule)
        try c.encode(predictionType, forKey: .predictionType)
    }

    /// The preset named `name` ("tiny", "default"), or nil.
    public static func preset(named name: String) -> DenoiserConfig? {
        switch name {
        case "tiny": return .tiny
        case "default": return .default
        default: return nil
        }
    }

    /// A configuration from JSON: an object whose keys are this type's fields, each optional
    /// (the default's value otherwise).
    ///
    /// - Throws: `DenoiserError.invalidConfig` for text that is not a JSON object, an unknown key
    ///   (a misspelt field would otherwise be ignored) or a value of the wrong type.
    public static func fromJSON(_ data: Data) throws -> DenoiserConfig {
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw DenoiserError.invalidConfig("not a JSON object")
        }
        let known = Set(["inChannels", "baseChannels", "channelMultipliers", "resBlocksPerLevel", "heads", "groups", "frames",
                         "resolution", "textDim", "maxFrameDistance", "temporal", "temporalConvolution", "crossAttention",
                         "temporalConditioning", "temporalPositions", "textWhitening", "schedule", "predictionType"])
        if let unknown = object.keys.filter({ !known.contains($0) }).sorted().first {
            throw DenoiserError.invalidConfig("unknown key \"\(unknown)\"; the fields are \(known.sorted().joined(separator: ", "))")
        }
        do { return try JSONDecoder().decode(DenoiserConfig.self, from: data) } catch {
            throw DenoiserError.invalidConfig("a value has the wrong type or form (\(error))")
        }
    }

    /// Metadata key of the JSON configuration in checkpoint files.
    public static let metadataKey = "t2v.denoiser_config"

    /// A 0.19M-parameter model for tests: 2 levels of 16/32 channels, 4 frames of 16x16.
    public static var tiny: DenoiserConfig {
        var c = DenoiserConfig()
        c.baseChannels = 16
        c.channelMultipliers = [1, 2]
        c.heads = 2
        c.groups = 4
        c.frames = 4
        c.resolution = 16
        c.maxFrameDistance = 4
        return c
    }

    /// The design's model: 3 levels of 64/128/128 channels, 16 frames of 32x32 (4.2M parameters).
    public static var `default`: DenoiserConfig { DenoiserConfig() }

    /// Channels at level `l`.
    public func channels(level l: Int) -> Int { baseChannels * channelMultipliers[l] }

    /// Width of the timestep/text embedding fed to every residual block.
    public var embeddingDim: Int { 4 * baseChannels }

    /// Checks the fields fit together.
    ///
    /// - Throws: `DenoiserError.invalidConfig` naming the offending field.
    public func validate() throws {
        func fail(_ message: String) -> DenoiserError { .invalidConfig(message) }
        guard inChannels > 0, baseChannels > 0, textDim > 0, heads > 0, groups > 0 else {
            throw fail("channel counts, heads and groups must be positive")
        }
        guard !channelMultipliers.isEmpty, channelMultipliers.allSatisfy({ $0 > 0 }) else {
            throw fail("channelMultipliers must be a non-empty list of positive integers")
        }
        guard resBlocksPerLevel >= 1 else { throw fail("resBlocksPerLevel must be at least 1") }
        for l in channelMultipliers.indices {
            let c = channels(level: l)
            guard c % groups == 0 else { throw fail("level \(l) has \(c) channels, not divisible by \(groups) groups") }
            guard c % heads == 0 else { throw fail("level \(l) has \(c) channels, not divisible by \(heads) heads") }
        }
        let factor = 1 << (channelMultipliers.count - 1)
        guard resolution > 0, resolution % factor == 0 else {
            throw fail("resolution \(resolution) must be divisible by \(factor) for \(channelMultipliers.count) levels")
        }
        guard frames > 0, maxFrameDistance > 0 else { throw fail("frames and maxFrameDistance must be positive") }
        guard temporal || !temporalConvolution else {
            throw fail("temporalConvolution is part of the temporal stream; it needs temporal = true")
        }
        guard temporal || !temporalConditioning else {
            throw fail("temporalConditioning is part of the temporal stream; it needs temporal = true")
        }
        guard temporal || !temporalPositions else {
            throw fail("temporalPositions is part of the temporal stream; it needs temporal = true")
        }
        if let textWhitening {
            guard textWhitening.isFinite, textWhitening > 0 else { throw fail("textWhitening (its eps) must be positive, got \(textWhitening)") }
        }
    }
}
