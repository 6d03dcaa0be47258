import FrameIO

/// One rendered clip of the corpus with its captions.
public struct SceneClip: Sendable {
    /// The scene family.
    public let family: SceneFamily
    /// The seed; together with `family` it determines every pixel and the caption.
    public let seed: UInt64
    /// The part of the corpus the seed belongs to.
    public var split: SceneSplit { SceneSplit(seed: seed) }
    /// The attributes the captions state (ball colour, direction).
    public let attributes: SceneAttributes
    /// A training caption (one of `Scenes.trainingCaptions(family)`), chosen by the seed.
    public let caption: String
    /// A held-out paraphrase (one of `Scenes.heldOutParaphrases(family)`) that agrees with the
    /// clip's attributes, chosen by the seed; for evaluation prompts, never for training.
    public let paraphrase: String
    /// The frames, packed RGB24, `size x size` each.
    public let frames: [RGBFrame]
}
