import ArgumentParser
import Foundation
import Generator
import QualityReport

/// `t2v-scenes report`: maps its options onto `QualityReport` (the QualityReport library), which
/// measures the model and writes samples/REPORT.md.
struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Measure a trained model (prompt adherence, Frechet distance, inter-frame SSIM, speed) and write the quality report.",
        discussion: "Needs this checkout's corpus code (held-out scenes), an extracted held-out dataset and the text encoder.")

    @Option(help: "Model under test (the shipped student).")
    var model: String = "weights/t2v-default.safetensors"

    @Option(help: "Undistilled teacher, sampled with DDIM at --teacher-steps.")
    var teacher: String?

    @Option(help: "Teacher sampling steps.")
    var teacherSteps: Int = 64

    @Option(help: "Comma-separated distilled students (each sampled at its own step count).")
    var students: String?

    @Option(help: "Ablation without the temporal stream (for the SSIM row).")
    var ablation: String?

    @Option(help: "A model to compare with side by side (e.g. the previous default), sampled like the model under test.")
    var baseline: String?

    @Option(help: "Extracted held-out dataset (from t2v-render extract).")
    var heldout: String = "work/default-model/heldout-dataset"

    @Option(help: "Generation seeds per family and caption set.")
    var seeds: Int = 3

    @Option(help: "Seeds per family for the Frechet distance of the teacher and students (default: --seeds); the model under test is scored on the same count.")
    var fidSeeds: Int?

    @Option(help: "Held-out clips per family rendered in memory to train the classifier.")
    var classifierClips: Int = 24

    @Option(help: "Classifier training epochs.")
    var classifierEpochs: Int = 40

    @Option(help: "Classifier-free guidance scale for every model (default: each model's own: 3, or 1 for a model with guidance distilled into it).")
    var guidance: Float?

    @Option(name: .customLong("guidance-rescale"),
            help: "Guidance rescale in 0...1 for every model sampled with guidance above 1 (diffusers' guidance_rescale; default: none).")
    var guidanceRescale: Float?

    @Option(name: .customLong("guidance-interval"), help: "Timesteps FIRST:LAST where guidance applies, e.g. 150:850 (default: every step).")
    var guidanceInterval: String?

    @Option(help: "Clamp the predicted clean sample to [-X, X] at every DDIM step (default: no clamping).")
    var clipSample: Float?

    @Option(name: [.short, .customLong("out")], help: "The report (Markdown); images go to report/ beside it.")
    var out: String = "samples/REPORT.md"

    @Option(name: .customLong("text-model"), help: "Folder with the text encoder's files (default: as t2v-render).")
    var textModel: String?

    @Flag(help: "A fast smoke run: 1 seed, fewer classifier clips and epochs, teacher at 16 steps.")
    var quick = false

    func validate() throws {
        if let fidSeeds, !(1...seeds).contains(fidSeeds) { throw ValidationError("--fid-seeds must be from 1 to --seeds (\(seeds)), got \(fidSeeds)") }
        guard (1...50).contains(seeds) else { throw ValidationError("--seeds must be from 1 to 50, got \(seeds)") }
        guard (2...500).contains(classifierClips) else { throw ValidationError("--classifier-clips must be from 2 to 500, got \(classifierClips)") }
        guard (1...1000).contains(classifierEpochs) else { throw ValidationError("--classifier-epochs must be from 1 to 1000, got \(classifierEpochs)") }
        guard (1...1000).contains(teacherSteps) else { throw ValidationError("--teacher-steps must be from 1 to 1000, got \(teacherSteps)") }
        if let guidanceRescale, !(0...1).contains(guidanceRescale) { throw ValidationError("--guidance-rescale must be in 0...1, got \(guidanceRescale)") }
        if let guidanceInterval, ClassifierFreeGuidance.parseInterval(guidanceInterval) == nil {
            throw ValidationError(ClassifierFreeGuidance.intervalSyntaxMessage(guidanceInterval))
        }
        guard URL(fileURLWithPath: out).pathExtension.lowercased() == "md" else { throw ValidationError("--out must name a .md file, got \(out)") }
    }

    func run() throws {
        var report = QualityReport()
        report.model = model
        report.teacher = teacher
        report.teacherSteps = teacherSteps
        report.students = students
        report.ablation = ablation
        report.baseline = baseline
        report.heldout = heldout
        report.seeds = seeds
        report.fidSeeds = fidSeeds
        report.classifierClips = classifierClips
        report.classifierEpochs = classifierEpochs
        report.guidance = guidance
        report.guidanceRescale = guidanceRescale
        report.guidanceInterval = guidanceInterval.flatMap(ClassifierFreeGuidance.parseInterval)
        report.clipSample = clipSample
        report.out = out
        report.textModel = textModel
        report.quick = quick
        try report.write()
    }
}
