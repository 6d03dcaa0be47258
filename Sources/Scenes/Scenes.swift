import FrameIO

/// The procedural scene corpus: captioned clips rendered from code, used to train the default
/// model. Only the `t2v-scenes` tool links this module.
///
/// A clip is a pure function of `(family, seed)`: the seed feeds independent SplitMix64 streams
/// for the attributes, the caption choice, the scene layout and the grain, so changing
/// a caption table never changes pixels. Motion is defined per frame (speeds are fractions of the
/// frame size per frame), so `frames` only sets how long the clip runs.
public enum Scenes {
    /// The smallest supported frame size (pixels).
    public static let minimumSize = 8

    /// Renders `frames` frames of `size x size` pixels of `family`'s clip for `seed`.
    /// `size` must be at least `minimumSize` and `frames` at least 1.
    public static func render(family: SceneFamily, seed: UInt64, size: Int = 128, frames: Int = 16) -> SceneClip {
        var frameList: [RGBFrame] = []
        frameList.reserveCapacity(frames)
        renderFrames(family: family, seed: seed, size: size, frames: frames) { frameList.append($0) }
        let attributes = self.attributes(family: family, seed: seed)
        return SceneClip(family: family, seed: seed, attributes: attributes,
                         caption: caption(family: family, seed: seed),
                         paraphrase: paraphrase(family: family, seed: seed),
                         frames: frameList)
    }

    /// Renders the same frames as `render` but hands them to `body` one at a time, so a caller
    /// can stream them into an encoder without holding the clip.
    public static func renderFrames(family: SceneFamily, seed: UInt64, size: Int = 128, frames: Int = 16,
                                    _ body: (RGBFrame) throws -> Void) rethrows {
        precondition(size >= minimumSize, "scene size must be at least \(minimumSize) pixels, got \(size)")
        precondition(frames >= 1, "a clip needs at least one frame, got \(frames)")
        let attributes = self.attributes(family: family, seed: seed)
        var rng = SceneRNG(seed: seed, stream: UInt64(family.number))
        let scene = makeGenerator(family, size: Float(size), frames: frames, attributes: attributes, rng: &rng)
        for f in 0..<frames {
            var canvas = Canvas(width: size, height: size)
            scene.draw(&canvas, t: Float(f))
            if scene.grain > 0 {
                // The same grain pattern on every frame: texture that breaks up banding without
                // adding frame-to-frame flicker.
                var grainRNG = SceneRNG(seed: seed, stream: UInt64(family.number) | 1 << 63)
                canvas.addNoise(amount: scene.grain, rng: &grainRNG)
            }
            try body(canvas.rgbFrame())
        }
    }

    /// The attributes (ball colour, direction) of `family`'s clip for `seed`.
    public static func attributes(family: SceneFamily, seed: UInt64) -> SceneAttributes {
        var rng = SceneRNG(seed: seed, stream: UInt64(family.number) + 2000)
        switch family {
        case .ball: return SceneAttributes(ballColor: rng.pick(BallColor.allCases))
        case .clouds, .car: return SceneAttributes(direction: rng.pick(SceneDirection.allCases))
        default: return SceneAttributes()
        }
    }

    /// The training caption of `family`'s clip for `seed`: a template chosen by the seed,
    /// expanded with the clip's attributes.
    public static func caption(family: SceneFamily, seed: UInt64) -> String {
        var rng = SceneRNG(seed: seed, stream: UInt64(family.number) + 1000)
        return SceneCaptions.expand(rng.pick(SceneCaptions.templates(family)), attributes(family: family, seed: seed))
    }

    /// Every training wording of `family`'s clip for `seed`: its training caption first, then
    /// the family's other templates expanded with the same attributes (`t2v-scenes render
    /// --captions all`, one a line in the sidecar). Trained on all of them, a clip's wording says
    /// nothing about the clip beyond its family and attributes.
    public static func captionVariants(family: SceneFamily, seed: UInt64) -> [String] {
        let own = caption(family: family, seed: seed), attributes = attributes(family: family, seed: seed)
        var seen: Set<String> = [own], out = [own]
        for template in SceneCaptions.templates(family) {
            let text = SceneCaptions.expand(template, attributes)
            if seen.insert(text).inserted { out.append(text) }
        }
        return out
    }

    /// A caption from the family's compositional grammar for `family`'s clip for `seed`, agreeing
    /// with its attributes: half the time a training template, otherwise a composed sentence in
    /// the templates' vocabulary (`t2v-scenes render --captions grammar`).
    public static func grammarCaption(family: SceneFamily, seed: UInt64) -> String {
        var rng = SceneRNG(seed: seed, stream: UInt64(family.number) + 4000)
        return CaptionGrammar.caption(family, attributes: attributes(family: family, seed: seed), rng: &rng)
    }

    /// Every caption the grammar can give `family`'s clips (expanded over all attribute values),
    /// without duplicates; it includes `trainingCaptions(family)`.
    public static func grammarCaptions(_ family: SceneFamily) -> [String] {
        SceneCaptions.expandAll(CaptionGrammar.templates(family), family)
    }

    /// A held-out paraphrase for `family`'s clip for `seed`, agreeing with its attributes.
    public static func paraphrase(family: SceneFamily, seed: UInt64) -> String {
        var rng = SceneRNG(seed: seed, stream: UInt64(family.number) + 3000)
        return SceneCaptions.expand(rng.pick(SceneCaptions.paraphrases(family)), attributes(family: family, seed: seed))
    }

    /// Every training caption `family`'s clips can carry (templates expanded over all attribute
    /// values), without duplicates.
    public static func trainingCaptions(_ family: SceneFamily) -> [String] {
        SceneCaptions.expandAll(SceneCaptions.templates(family), family)
    }

    /// The held-out paraphrases of `family` (expanded over all attribute values): never used as
    /// training captions; for the prompt-adherence report.
    public static func heldOutParaphrases(_ family: SceneFamily) -> [String] {
        SceneCaptions.expandAll(SceneCaptions.paraphrases(family), family)
    }

    /// The attributes a caption of `family` names (its ball colour or direction), found by
    /// expanding the family's training templates, held-out paraphrases and caption grammar over every attribute
    /// value; nil when the caption is not one of them or names none (e.g. "a bouncing ball").
    public static func namedAttributes(_ caption: String, family: SceneFamily) -> SceneAttributes? {
        let combinations = SceneCaptions.attributeCombinations(family)
        guard combinations.count > 1 else { return nil }
        for template in SceneCaptions.templates(family) + SceneCaptions.paraphrases(family) + CaptionGrammar.templates(family) {
            let matches = combinations.filter { SceneCaptions.expand(template, $0) == caption }
            if matches.count == 1 { return matches[0] }
        }
        return nil
    }
}
