import ArgumentParser
import AtomicFiles
import Foundation
import Generator
import QualityReport

/// `t2v-scenes attributes`: maps its options onto `AttributeProbe` (the QualityReport library),
/// which generates clips for every value of the attributes captions name and reads them back from
/// the pixels.
struct AttributesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attributes",
        abstract: "Probe attribute binding: the ball's colour and the car's and clouds' direction, per value, for training captions and held-out paraphrases.",
        discussion: "Every value gets --seeds clips per caption set with the same noise seeds, so a model that ignores the attribute word scores at chance. Prints Markdown tables; --json writes every clip's caption and read value.")

    @Option(help: "Model to probe.")
    var model: String = "weights/t2v-default.safetensors"

    @Option(help: "Clips per value and caption set (noise seeds 0..<N, the same for every value).")
    var seeds: Int = 8

    @Option(help: "Sampling steps (default: the model's own).")
    var steps: Int?

    @Option(help: "Classifier-free guidance scale (default: the model's own).")
    var guidance: Float?

    @Option(name: .customLong("guidance-rescale"), help: "Guidance rescale in 0...1 for guidance above 1 (default: none).")
    var guidanceRescale: Float?

    @Option(name: .customLong("guidance-interval"), help: "Timesteps FIRST:LAST where guidance applies, e.g. 150:850 (default: every step).")
    var guidanceInterval: String?

    @Flag(name: .customLong("attribute-free-negative"), help: ArgumentHelp(
        "Guide against each caption with its attribute words removed, instead of the empty prompt.",
        discussion: "A negative prompt per clip (\"a red ball bouncing\" is guided against \"a ball bouncing\"): what guidance adds is then the attribute alone, so the probe shows whether the conditional model holds the attribute that guidance against the empty prompt hides. Needs guidance above 1."))
    var attributeFreeNegative = false

    @Option(help: "Frame size the judges read; the model's frames are downscaled to it.")
    var size: Int = 32

    @Option(name: .long, parsing: .upToNextOption,
            help: "Families to probe, by id (space- or comma-separated; default: ball, car and clouds, the families whose captions name an attribute).")
    var families: [String] = []

    /// `--families` resolved as `render` and `sheet` resolve theirs.
    private var selection: FamilySelection {
        var s = FamilySelection()
        s.families = families
        return s
    }

    @Option(help: "Write every clip's caption and read value as JSON to this file.")
    var json: String?

    @Option(name: .customLong("text-model"), help: "Folder with the text encoder's files (default: as t2v-render).")
    var textModel: String?

    @Flag(name: .shortAndLong, help: "No progress on stderr.")
    var quiet = false

    func validate() throws {
        guard (1...100).contains(seeds) else { throw ValidationError("--seeds must be from 1 to 100, got \(seeds)") }
        if let steps, !(1...1000).contains(steps) { throw ValidationError("--steps must be from 1 to 1000, got \(steps)") }
        if let guidance, !(guidance >= 1 && guidance <= 30) { throw ValidationError("--guidance must be from 1 to 30, got \(guidance)") }
        if let guidanceRescale, !(0...1).contains(guidanceRescale) { throw ValidationError("--guidance-rescale must be in 0...1, got \(guidanceRescale)") }
        if let guidanceInterval, ClassifierFreeGuidance.parseInterval(guidanceInterval) == nil {
            throw ValidationError(ClassifierFreeGuidance.intervalSyntaxMessage(guidanceInterval))
        }
        if attributeFreeNegative, let guidance, guidance <= 1 { throw ValidationError("--attribute-free-negative needs --guidance above 1, got \(guidance)") }
        if !selection.families.isEmpty, let other = try selection.resolved().first(where: { !AttributeProbe.families.contains($0) }) {
            throw ValidationError("--families: \(other.id) has no attribute named in its captions; choose from \(AttributeProbe.families.map(\.id).joined(separator: ", "))")
        }
        guard [16, 32, 64, 128].contains(size) else { throw ValidationError("--size must be 16, 32, 64 or 128 (the judges' scale), got \(size)") }
    }

    func run() throws {
        var probe = AttributeProbe(model: model)
        probe.seeds = seeds
        probe.steps = steps
        probe.guidance = guidance
        probe.guidanceRescale = guidanceRescale
        probe.guidanceInterval = guidanceInterval.flatMap(ClassifierFreeGuidance.parseInterval)
        probe.attributeFreeNegative = attributeFreeNegative
        probe.size = size
        probe.textModel = textModel
        if !selection.families.isEmpty { probe.families = try selection.resolved() }
        let cells = try probe.run { message in
            if !quiet { FileHandle.standardError.write(Data(("attributes: " + message + "\n").utf8)) }
        }
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try AtomicFile.write(try encoder.encode(cells), to: json)
        }
        print(AttributeProbe.markdown(cells), terminator: "")
    }
}
