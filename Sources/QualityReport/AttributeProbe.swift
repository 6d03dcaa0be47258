import Foundation
import Generator
import Renderer
import Scenes

/// Attribute binding: does a model draw the attribute a prompt names (the ball's colour, the
/// direction the car drives and the clouds drift) for every value of it, in training wordings and
/// in held-out paraphrases?
///
/// Every value of every attribute gets `seeds` clips per caption set, generated with the same
/// noise seeds (0 ..< seeds) for every value, so a model that ignores the attribute word draws the
/// same clip for each value and scores at chance. The attribute is read from the pixels by the
/// report's judges (`AttributeProbe.read`: `ObjectTracker` and `CloudDrift`), with the frames
/// downscaled to `size` as the report does.
public struct AttributeProbe {
    /// The model to probe.
    public var model: String
    /// Clips per value and caption set.
    public var seeds = 8
    /// Sampling steps (default: the model's own).
    public var steps: Int?
    /// Classifier-free guidance (default: the model's own).
    public var guidance: Float?
    /// Guidance rescale φ for guidance above 1 (nil: plain guidance).
    public var guidanceRescale: Float?
    /// Timesteps where guidance applies (nil: every step).
    public var guidanceInterval: ClosedRange<Int>?
    /// Frame size the judges read (the model's frames are Lanczos-downscaled to it).
    public var size = 32
    /// Frames per clip.
    public var frames = 16
    /// Folder with the text encoder's files (default: as `t2v-render`).
    public var textModel: String?
    /// The families probed (a subset of `AttributeProbe.families`).
    public var families: [SceneFamily] = AttributeProbe.families

    /// Guide against each caption with its attribute words removed (`withoutAttribute`, as a
    /// negative prompt) instead of the empty prompt, so that what the guidance adds to the
    /// conditional prediction is the attribute alone. Needs guidance above 1.
    public var attributeFreeNegative = false

    /// A probe of `model` with the defaults above.
    public init(model: String) { self.model = model }

    /// The families whose captions name an attribute.
    public static let families: [SceneFamily] = [.ball, .car, .clouds]

    /// What was read for one value of one family's attribute in one caption set.
    public struct Cell: Codable, Sendable, Equatable {
        /// Family id.
        public var family: String
        /// The value the captions name ("red", "left", ...).
        public var value: String
        /// Held-out paraphrases (true) or training captions (false).
        public var paraphrase: Bool
        /// The caption of each clip.
        public var captions: [String]
        /// The value read from each clip; "none" when the judge found no object (a ball in fewer
        /// than half the frames) or no direction of travel.
        public var read: [String]

        /// Clips whose read value is the named one.
        public var right: Int { read.filter { $0 == value }.count }
        /// Clips where the judge read some value.
        public var judged: Int { read.filter { $0 != AttributeProbe.none }.count }
    }

    /// The read value of a clip without one.
    public static let none = "none"

    /// The values `family`'s attribute takes (empty for a family without one).
    public static func values(_ family: SceneFamily) -> [String] {
        switch family {
        case .ball: return BallColor.allCases.map(\.rawValue)
        case .car, .clouds: return SceneDirection.allCases.map(\.rawValue)
        default: return []
        }
    }

    /// The training captions (or held-out paraphrases) of `family` that name `value`, in the
    /// corpus's order.
    public static func captions(_ family: SceneFamily, value: String, paraphrase: Bool) -> [String] {
        let all = paraphrase ? Scenes.heldOutParaphrases(family) : Scenes.trainingCaptions(family)
        return all.filter { named(Scenes.namedAttributes($0, family: family), family) == value }
    }

    /// `caption` without the words that name `family`'s attribute: every word that starts with
    /// one of its values ("red", "left", "leftwards"), with any punctuation attached to it.
    public static func withoutAttribute(_ caption: String, family: SceneFamily) -> String {
        let values = Self.values(family)
        return caption.split(separator: " ").filter { word in
            let letters = word.lowercased().prefix { $0.isLetter }
            return !values.contains { letters.hasPrefix($0) }
        }.joined(separator: " ")
    }

    /// The attribute value `attributes` gives `family`, as a string.
    static func named(_ attributes: SceneAttributes?, _ family: SceneFamily) -> String? {
        family == .ball ? attributes?.ballColor?.rawValue : attributes?.direction?.rawValue
    }

    /// The attribute value read from a clip (`frames` x 3 x `size` x `size`, planar, in [-1, 1]):
    /// the ball's majority colour when it is found in at least half the frames, the car's
    /// headlight's direction of travel, the clouds' drift; nil when there is none to read.
    public static func read(_ clip: [Float], family: SceneFamily, frames: Int, size: Int) -> String? {
        switch family {
        case .ball:
            guard let track = ObjectTracker.track(clip, family: .ball, frames: frames, size: size),
                  track.presence >= ObjectJudgement.drawnPresence else { return nil }
            return track.majorityColor?.rawValue
        case .car:
            return ObjectTracker.track(clip, family: .car, frames: frames, size: size)?.direction()?.rawValue
        case .clouds:
            return CloudDrift.measure(clip, frames: frames, size: size).direction?.rawValue
        default:
            return nil
        }
    }

    /// Generates and judges every clip; progress goes to `log`.
    ///
    /// - Throws: `CommandError` when the model or the text encoder cannot be loaded, or the
    ///   model's frames cannot be downscaled to `size`.
    public func run(log: (String) -> Void = { _ in }) throws -> [Cell] {
        let pipeline = try ReportClips.pipeline(model, encoder: try ReportClips.textEncoder(textModel), size: size,
                                                sizeHint: "pass a --size that divides the model's")
        if let other = families.first(where: { !Self.families.contains($0) }) {
            throw CommandError("\(other.id) has no attribute named in its captions; probe \(Self.families.map(\.id).joined(separator: ", "))")
        }
        if attributeFreeNegative, (guidance ?? pipeline.defaultGuidance) <= 1 {
            throw CommandError("the attribute-free negative prompt needs guidance above 1, and \(model) samples at guidance \(pipeline.defaultGuidance) by default: pass a guidance")
        }
        var cells: [Cell] = []
        for family in families {
            for paraphrase in [false, true] {
                for value in Self.values(family) {
                    let pool = Self.captions(family, value: value, paraphrase: paraphrase)
                    var cell = Cell(family: family.id, value: value, paraphrase: paraphrase, captions: [], read: [])
                    for s in 0..<seeds {
                        let caption = pool[s % pool.count]
                        var settings = VideoPipeline.Settings(prompt: caption, frames: frames, steps: steps ?? pipeline.defaultSteps,
                                                              sampler: .ddim, guidance: guidance ?? pipeline.defaultGuidance,
                                                              seed: UInt64(s))
                        settings.guidanceRescale = guidanceRescale
                        settings.guidanceInterval = guidanceInterval
                        if attributeFreeNegative { settings.negativePrompt = Self.withoutAttribute(caption, family: family) }
                        let clip = try ReportClips.generate(pipeline, settings, size: size)
                        cell.captions.append(caption)
                        cell.read.append(Self.read(clip, family: family, frames: frames, size: size) ?? Self.none)
                    }
                    log("\(family.id) \(value) \(paraphrase ? "paraphrases" : "training captions"): \(cell.right)/\(seeds)")
                    cells.append(cell)
                }
            }
        }
        return cells
    }

    /// The probe's tables in Markdown: per family and caption set, each value's right/clips and
    /// what was read, then the share right with its binomial standard error.
    public static func markdown(_ cells: [Cell]) -> String {
        var md = "| family | captions | value | right | read |\n|---|---|---|---|---|\n"
        for cell in cells {
            var counts: [String: Int] = [:]
            for r in cell.read { counts[r, default: 0] += 1 }
            let read = counts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
            md += "| \(cell.family) | \(cell.paraphrase ? "paraphrases" : "training") | \(cell.value) | \(cell.right)/\(cell.read.count) | \(read) |\n"
        }
        md += "\n| family | captions | right | with an attribute read | right among those | chance |\n|---|---|---|---|---|---|\n"
        var groups: [(String, Bool)] = []
        for c in cells where !groups.contains(where: { $0 == (c.family, c.paraphrase) }) { groups.append((c.family, c.paraphrase)) }
        for paraphrase in [false, true] {
            let all = cells.filter { $0.paraphrase == paraphrase }
            for (family, p) in groups where p == paraphrase {
                md += row(family, paraphrase, all.filter { $0.family == family })
            }
            md += row("all", paraphrase, all)
        }
        return md
    }

    /// One summary row: right / clips with its standard error, the clips with a read value, and
    /// the share right among those.
    static func row(_ name: String, _ paraphrase: Bool, _ cells: [Cell]) -> String {
        let n = cells.map(\.read.count).reduce(0, +), right = cells.map(\.right).reduce(0, +)
        let judged = cells.map(\.judged).reduce(0, +)
        guard n > 0 else { return "" }
        let p = Double(right) / Double(n), se = (p * (1 - p) / Double(n)).squareRoot()
        let values = Set(cells.map(\.value)).count
        let chance = name == "all" ? "-" : String(format: "%.0f%%", 100 / Double(max(values, 1)))
        let among = judged == 0 ? "-" : String(format: "%.1f%%", 100 * Double(right) / Double(judged))
        return "| \(name) | \(paraphrase ? "paraphrases" : "training") | \(right)/\(n) (\(String(format: "%.1f%% ± %.1f", 100 * p, 100 * se))) | \(judged)/\(n) | \(among) | \(chance) |\n"
    }
}
