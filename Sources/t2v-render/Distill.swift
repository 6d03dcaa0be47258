import ArgumentParser
import Foundation
import FrameIO
import Generator

/// `t2v-render distill`: progressive distillation of a trained model into a few-step student.
struct Distill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Distil a trained model into a few-step sampler (progressive distillation, Salimans & Ho 2022).",
        discussion: """
        Each round the student learns to match two DDIM steps of the teacher with one, then the step \
        count halves: --from-steps 64 --to-steps 4 runs rounds 64->32->16->8->4. After each round the \
        student is written beside -o as NAME-<steps>steps.safetensors; -o gets the final one. Each \
        student stores its step count, which `render` uses by default.
        """)

    @Option(help: "The trained model (from `t2v-render train`).")
    var teacher: String

    @Option(help: "Dataset directory (from `t2v-render extract`); its clips seed the distillation.")
    var data: String

    @Option(help: "The teacher's DDIM steps.")
    var fromSteps: Int = 64

    @Option(help: "The final student's steps.")
    var toSteps: Int = 4

    @Option(help: "Optimisation steps per halving round.")
    var stepsPerRound: Int = 300

    @Option(help: "Clips per step.")
    var batch: Int = 4

    @Option(help: "Learning rate (AdamW, constant after warm-up).")
    var lr: Float = 5e-5

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(help: ArgumentHelp("Classifier-free guidance distilled into the student (guided distillation, Meng et al. 2023); 1 distils the conditional model alone.",
                               discussion: "With a scale above 1 the first round's targets come from the teacher's guided output, and the student samples without guidance (one denoiser pass per step); `render` then defaults to --guidance 1."))
    var guidance: Float = 1

    @Option(name: .shortAndLong, help: "Where to write the final student.")
    var output: String

    @OptionGroup var textModel: TextModelOptions

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws {
        guard fromSteps > toSteps, toSteps >= 1, fromSteps % toSteps == 0, (fromSteps / toSteps).nonzeroBitCount == 1 else {
            throw ValidationError("--from-steps (\(fromSteps)) must be --to-steps (\(toSteps)) times a power of two, e.g. 64 and 4")
        }
        guard stepsPerRound >= 1, batch >= 1, lr > 0 else { throw ValidationError("--steps-per-round, --batch and --lr must be positive") }
        guard guidance >= 1, guidance <= 50, guidance.isFinite else { throw ValidationError("--guidance must be in 1...50, got \(guidance)") }
    }

    func run() throws {
        // Installed first: a SIGINT/SIGTERM while the teacher and dataset load stops with a message.
        let interrupted = SignalFlag.install()
        // An -o that cannot be written fails now, not after the first round.
        try OutputPath.check(output, option: "-o", streams: false)
        let loaded: (model: VideoDenoiser, metadata: [String: String])
        guard FileManager.default.fileExists(atPath: teacher) else { throw CommandError("--teacher \(teacher): no such file") }
        do { loaded = try VideoDenoiser.load(from: URL(fileURLWithPath: teacher)) } catch { throw CommandError(CommandError.text(error)) }
        let dataset = try TrainingData(directory: data, textModel: textModel.textModel, quiet: quiet)
        let mc = loaded.model.config
        guard dataset.shape.frames == mc.frames, dataset.shape.height == mc.resolution, dataset.shape.width == mc.resolution else {
            throw CommandError("\(data) holds \(dataset.shape.frames) frames of \(dataset.shape.width)x\(dataset.shape.height); the teacher makes \(mc.frames) of \(mc.resolution)x\(mc.resolution)")
        }
        var config = DistillationConfig()
        config.teacherSteps = fromSteps
        config.targetSteps = toSteps
        config.stepsPerRound = stepsPerRound
        config.batchSize = batch
        config.learningRate = lr
        config.seed = seed
        // A guided teacher's guidance is already in its conditional branch: it multiplies.
        let teacherGuidance = loaded.metadata[VideoPipeline.distilledGuidanceKey].flatMap(Float.init) ?? 1
        config.guidance = guidance
        let distiller: Distiller
        do { distiller = try Distiller(teacher: loaded.model, config: config) } catch { throw CommandError(CommandError.text(error)) }

        var rng = Philox(seed: seed, stream: 7)
        var rounds = 0
        var remaining = fromSteps
        while remaining > toSteps { remaining /= 2; rounds += 1 }
        let bar = ProgressBar(total: rounds * stepsPerRound, label: "distill", unit: "steps", quiet: quiet)
        var done = 0
        var lossAverage = Double.nan
        var written: [String] = []
        while true {
            let studentSteps = distiller.round.studentTimesteps.count
            for _ in 0..<stepsPerRound {
                if interrupted.isSet {
                    // Students are written atomically at the end of their round: -o is either absent
                    // or the file it held before.
                    let kept = written.isEmpty ? "no round had finished"
                                               : "the students of finished rounds are kept: " + written.joined(separator: ", ")
                    throw CommandError("interrupted in the round to \(studentSteps) steps; \(output) was not written (\(kept)). Distillation does not resume: run the command again.")
                }
                let clips = try (0..<batch).map { _ in try dataset.clip(rng.nextInt(below: dataset.count)) }
                let loss: Float
                do { loss = try distiller.trainStep(clips: clips) } catch { throw CommandError("distillation failed: \(CommandError.text(error))") }
                lossAverage = lossAverage.isNaN ? Double(loss) : 0.98 * lossAverage + 0.02 * Double(loss)
                done += 1
                bar.update(done, suffix: String(format: "%d steps, loss %.4f", studentSteps, lossAverage))
            }
            let path = studentSteps == toSteps ? output : Train.sibling(output, "").dropLast() + "-\(studentSteps)steps.safetensors"
            var metadata = [
                VideoPipeline.samplingStepsKey: String(studentSteps), "t2v.sampler": "ddim-trailing",
                "t2v.distilled_from": URL(fileURLWithPath: teacher).lastPathComponent,
                "t2v.teacher_steps": String(fromSteps)]
            if guidance != 1 || teacherGuidance != 1 {
                metadata[VideoPipeline.distilledGuidanceKey] = String(guidance * teacherGuidance)
            }
            do {
                try distiller.student.save(to: URL(fileURLWithPath: String(path)), metadata: metadata)
            } catch { throw CommandError("writing \(path) failed: \(CommandError.text(error))") }
            written.append(String(path))
            if !quiet { FileHandle.standardError.write(Data("distill: \(studentSteps)-step student written to \(path)\n".utf8)) }
            if studentSteps <= toSteps { break }
            do { guard try distiller.finishRound() else { break } } catch { throw CommandError(CommandError.text(error)) }
        }
    }
}
