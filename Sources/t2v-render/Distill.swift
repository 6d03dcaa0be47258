import ArgumentParser
import Foundation
import FrameIO
import Generator
import Renderer

extension DistillationLRSchedule: ExpressibleByArgument {}

/// `t2v-render distill`: progressive distillation of a trained model into a few-step student.
struct Distill: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Distil a trained model into a few-step sampler (progressive distillation, Salimans & Ho 2022).",
        discussion: """
        Each round the student learns to match two DDIM steps of the teacher with one, then the step \
        count halves: --from-steps 64 --to-steps 4 runs rounds 64->32->16->8->4. After each round the \
        student is written beside -o as NAME-<steps>steps.safetensors; -o gets the final one. Each \
        student stores its step count, which `render` uses by default. The whole state (teacher, \
        student, optimizer, random streams) is checkpointed atomically to --checkpoint every \
        --checkpoint-every steps, at each round's end and on Ctrl-C; --resume continues bit for bit. \
        Checkpoints and students record the --teacher file's sha256 (t2v.teacher_sha256); --resume \
        refuses a checkpoint of another teacher.
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

    @Option(help: "Peak learning rate (AdamW, reached after a 50-step warm-up in each round).")
    var lr: Float = 5e-5

    @Option(name: .customLong("lr-schedule"),
            help: "The learning rate within each round after the warm-up: constant, or linear (down to 0 at the round's end, as the reference implementation).")
    var lrSchedule: DistillationLRSchedule = .constant

    @Option(help: "Random seed.")
    var seed: UInt64 = 0

    @Option(parsing: .unconditional, help: ArgumentHelp("Classifier-free guidance distilled into the student (guided distillation, Meng et al. 2023); 1 distils the conditional model alone.",
                               discussion: "With a scale above 1 the first round's targets come from the teacher's guided output, and the student samples without guidance (one denoiser pass per step); `render` then defaults to --guidance 1."))
    var guidance: Float = 1

    @Option(name: .customLong("guidance-rescale"),
            help: ArgumentHelp("Guidance rescale in 0...1 applied to the teacher's guided output (Lin et al. 2024; diffusers' guidance_rescale); 0 is plain guidance.",
                               discussion: "Needs --guidance above 1. The guided output is scaled back towards the conditional output's standard deviation, which keeps strong guidance from over-exposing the frames."))
    var guidanceRescale: Float = 0

    @Option(name: .customLong("guidance-interval"),
            help: ArgumentHelp("Timesteps FIRST:LAST (of the teacher's 0...999) where the guidance applies; elsewhere the student learns the teacher's conditional output (default: every step).",
                               discussion: "Needs --guidance above 1. Kynkäänniemi et al. 2024: guidance at the noisiest steps mostly shifts the whole frame's brightness and colour; leaving those steps unguided keeps the layout and objects the conditional model draws."))
    var guidanceInterval: String?

    @Option(name: .customLong("guidance-steps"),
            help: ArgumentHelp("Steps of a first stage that distils the guidance alone at --from-steps (Meng et al. 2023, stage 1) before the halving rounds; 0 distils it in the first round.",
                               discussion: "Needs --guidance above 1. The stage's student is written beside OUTPUT as OUTPUT-<from>steps.safetensors."))
    var guidanceSteps: Int = 0

    @OptionGroup var files: TrainingRunOptions
    var output: String { files.output }
    var checkpoint: String? { files.checkpoint }
    var resume: Bool { files.resume }
    var log: String? { files.log }
    var plot: String? { files.plot }
    var quiet: Bool { files.quiet }


    @Option(help: "Checkpoint every this many steps within a round (and at every round's end, and on Ctrl-C).")
    var checkpointEvery: Int = 25




    @OptionGroup var textModel: TextModelOptions

    @OptionGroup var compute: PrecisionOptions


    func validate() throws {
        guard fromSteps > toSteps, toSteps >= 1, fromSteps % toSteps == 0, (fromSteps / toSteps).nonzeroBitCount == 1 else {
            throw ValidationError("--from-steps (\(fromSteps)) must be --to-steps (\(toSteps)) times a power of two, e.g. 64 and 4")
        }
        guard stepsPerRound >= 1, batch >= 1, lr > 0, checkpointEvery >= 1 else {
            throw ValidationError("--steps-per-round, --batch, --lr and --checkpoint-every must be positive")
        }
        guard guidance >= 1, guidance <= 50, guidance.isFinite else { throw ValidationError("--guidance must be in 1...50, got \(guidance)") }
        guard (0...1).contains(guidanceRescale) else { throw ValidationError("--guidance-rescale must be in 0...1, got \(guidanceRescale)") }
        guard guidanceRescale == 0 || guidance > 1 else { throw ValidationError("--guidance-rescale needs --guidance above 1: without guidance there is nothing to rescale") }
        if let guidanceInterval {
            guard ClassifierFreeGuidance.parseInterval(guidanceInterval) != nil else {
                throw ValidationError(ClassifierFreeGuidance.intervalSyntaxMessage(guidanceInterval))
            }
            guard guidance > 1 else { throw ValidationError("--guidance-interval needs --guidance above 1") }
        }
        guard guidanceSteps >= 0 else { throw ValidationError("--guidance-steps must be >= 0") }
        guard guidanceSteps == 0 || guidance > 1 else { throw ValidationError("--guidance-steps needs --guidance above 1: with guidance 1 there is nothing to distil") }
    }

    /// The distillation settings the flags ask for.
    var distillationConfig: DistillationConfig {
        var config = DistillationConfig()
        config.teacherSteps = fromSteps
        config.targetSteps = toSteps
        config.stepsPerRound = stepsPerRound
        config.batchSize = batch
        config.learningRate = lr
        config.learningRateSchedule = lrSchedule
        config.seed = seed
        config.guidance = guidance
        config.guidanceRescale = guidanceRescale
        config.guidanceInterval = guidanceInterval.flatMap(ClassifierFreeGuidance.parseInterval)
        config.guidanceSteps = guidanceSteps
        return config
    }

    func run() throws {
        // Installed first: a SIGINT/SIGTERM while the teacher and dataset load stops with a message.
        let interrupted = SignalFlag.install()
        // Paths that cannot be written fail now, not after the first round or checkpoint.
        try files.checkPaths()
        // The teacher file's digest goes into the checkpoint and every student, so that a resume
        // (and anyone reading a student) can tell which teacher it was distilled from.
        guard FileManager.default.fileExists(atPath: teacher) else { throw CommandError("--teacher \(teacher): no such file") }
        let teacherSHA = try SHA256.hex(fileAt: teacher)
        // A new run's precision is settled before the teacher loads; a resumed run's is its checkpoint's.
        let precision = resume ? nil : try compute.apply()
        let start = try precision.map { try started(precision: $0) } ?? resumed(teacherSHA: teacherSHA)
        // A latent teacher carries its autoencoder, and a teacher its training captions: every
        // student gets the same.
        var bundle: (entries: [SafeTensors.Entry], metadata: [String: String])? = nil
        do {
            let url = URL(fileURLWithPath: teacher)
            if let ae = try LatentBundle.autoencoder(in: url) {
                bundle = try LatentBundle.contents(of: ae.model, sha256: ae.sha256)
            }
            if let captions = try CaptionIndex.load(from: url) {
                let part = try captions.contents()
                bundle = ((bundle?.entries ?? []) + part.entries, (bundle?.metadata ?? [:]).merging(part.metadata) { a, _ in a })
            }
        } catch { throw CommandError(CommandError.text(error)) }
        let dataset = try TrainingData(directory: data, textModel: textModel.textModel, quiet: quiet)
        if interrupted.isSet { throw CommandError("interrupted before distillation started; nothing was written") }
        try check(dataset, for: start.distiller, bundledSHA: bundle?.metadata[LatentBundle.sha256Key])
        dataset.keepTokenStates(start.distiller.student.config.crossAttention)
        let session = try DistillSession(command: self, start: start, teacherSHA: teacherSHA, bundle: bundle)
        try session.run(dataset: dataset, interrupted: interrupted)
    }

    /// The command's state beside the distiller's: its clip-sampling stream (stream 7), the
    /// students written so far, and what the first teacher was.
    struct Start {
        var distiller: Distiller
        var rng: Philox
        var written: [String]
        var teacherGuidance: Float
        var teacherName: String
    }

    /// A new run from --teacher.
    private func started(precision: ComputePrecision) throws -> Start {
        let loaded: (model: VideoDenoiser, metadata: [String: String])
        do { loaded = try VideoDenoiser.load(from: URL(fileURLWithPath: teacher)) } catch { throw CommandError(CommandError.text(error)) }
        // A guided teacher's guidance is already in its conditional branch: it multiplies.
        let teacherGuidance = loaded.metadata[VideoPipeline.distilledGuidanceKey].flatMap(Float.init) ?? 1
        let distiller: Distiller
        var config = distillationConfig
        config.precision = PrecisionOptions.recorded(precision)
        do { distiller = try Distiller(teacher: loaded.model, config: config) } catch { throw CommandError(CommandError.text(error)) }
        return Start(distiller: distiller, rng: Philox(seed: seed, stream: 7), written: [], teacherGuidance: teacherGuidance,
                     teacherName: URL(fileURLWithPath: teacher).lastPathComponent)
    }

    /// The run in --checkpoint, checked against the flags and --teacher.
    private func resumed(teacherSHA: String) throws -> Start {
        let checkpointPath = files.checkpointPath
        guard FileManager.default.fileExists(atPath: checkpointPath) else {
            throw CommandError("--resume: no checkpoint at \(checkpointPath); start without --resume")
        }
        let restored: (distiller: Distiller, metadata: [String: String])
        do { restored = try Distiller.resume(from: URL(fileURLWithPath: checkpointPath)) } catch { throw CommandError(CommandError.text(error)) }
        try compute.apply(resuming: restored.distiller.config.precision, checkpoint: checkpointPath)
        var asked = distillationConfig
        asked.precision = restored.distiller.config.precision
        guard restored.distiller.config == asked else {
            throw CommandError("checkpoint \(checkpointPath) was written by a run with \(Self.describe(restored.distiller.config)); this command asks for \(Self.describe(distillationConfig)). Resume with the checkpoint's flags, or start again without --resume")
        }
        let meta = restored.metadata
        // The checkpoint carries its own copy of the teacher: resuming it under another
        // --teacher would silently keep distilling the old one.
        guard let recorded = meta[Self.teacherSHAKey] else {
            throw CommandError("checkpoint \(checkpointPath) does not record which teacher it was distilled from (it was written by an older t2v-render), so it cannot be checked against --teacher \(teacher). Delete it and start again without --resume")
        }
        guard recorded == teacherSHA else {
            throw CommandError("checkpoint \(checkpointPath) was distilled from a teacher with sha256 \(recorded.prefix(16))..., but --teacher \(teacher) has sha256 \(teacherSHA.prefix(16))...: the teacher changed since the checkpoint was written. Resume with the original teacher, or delete the checkpoint (and the students of its finished rounds) and start again without --resume")
        }
        guard let rngText = meta["t2v.cli_rng"], let offset = UInt64(rngText), let name = meta[VideoPipeline.distilledFromKey],
              let writtenJSON = meta["t2v.written"],
              let list = try? JSONDecoder().decode([String].self, from: Data(writtenJSON.utf8)) else {
            throw CommandError("checkpoint \(checkpointPath): missing the command's state (t2v.cli_rng, t2v.written, t2v.distilled_from); was it written by `t2v-render distill`?")
        }
        var rng = Philox(seed: seed, stream: 7)
        rng.advance(by: offset)
        return Start(distiller: restored.distiller, rng: rng, written: list,
                     teacherGuidance: meta["t2v.teacher_guidance"].flatMap(Float.init) ?? 1, teacherName: name)
    }

    /// The dataset must be what the teacher draws: its channels (pixels or the same autoencoder's
    /// latents), frames and size.
    private func check(_ dataset: TrainingData, for distiller: Distiller, bundledSHA: String?) throws {
        let mc = distiller.student.config
        guard dataset.channels == mc.inChannels else {
            throw CommandError("\(data) holds \(dataset.channels)-channel \(dataset.latents == nil ? "pixels" : "latents"); the teacher takes \(mc.inChannels) channels\(mc.inChannels == 3 ? "" : " (a latent teacher trains on the latent dataset it was trained on)")")
        }
        if let latents = dataset.latents, latents.autoencoderSHA256 != bundledSHA {
            throw CommandError("\(data) was coded with another autoencoder than the one bundled in --teacher \(teacher)")
        }
        guard dataset.shape.frames == mc.frames, dataset.shape.height == mc.resolution, dataset.shape.width == mc.resolution else {
            throw CommandError("\(data) holds \(dataset.shape.frames) frames of \(dataset.shape.width)x\(dataset.shape.height); the teacher makes \(mc.frames) of \(mc.resolution)x\(mc.resolution)")
        }
    }

    /// Metadata key of the sha256 (hex) of the --teacher file, in checkpoints and students.
    static let teacherSHAKey = VideoPipeline.teacherSHA256Key

    /// The settings a checkpoint must share with the command that resumes it, as flags.
    static func describe(_ c: DistillationConfig) -> String {
        "--from-steps \(c.teacherSteps) --to-steps \(c.targetSteps) --steps-per-round \(c.stepsPerRound) --batch \(c.batchSize) --lr \(c.learningRate) --lr-schedule \(c.learningRateSchedule.rawValue) --seed \(c.seed) --guidance \(c.guidance) --guidance-rescale \(c.guidanceRescale)\(c.guidanceInterval.map { " --guidance-interval \($0.lowerBound):\($0.upperBound)" } ?? "") --guidance-steps \(c.guidanceSteps)"
    }
}

/// One `distill` run after its checks: the distiller runs the rounds; the session logs,
/// checkpoints (with the command's state), writes each round's student and stops on a signal.
private final class DistillSession {
    let command: Distill
    let distiller: Distiller
    var rng: Philox
    var written: [String]
    let teacherGuidance: Float, teacherName: String, teacherSHA: String
    let bundle: (entries: [SafeTensors.Entry], metadata: [String: String])?
    var lossLog: LossLog
    let bar: ProgressBar
    let startDone: Int

    init(command: Distill, start: Distill.Start, teacherSHA: String, bundle: (entries: [SafeTensors.Entry], metadata: [String: String])?) throws {
        self.command = command
        distiller = start.distiller
        rng = start.rng
        written = start.written
        teacherGuidance = start.teacherGuidance
        teacherName = start.teacherName
        self.teacherSHA = teacherSHA
        self.bundle = bundle
        var rounds = 0, remaining = command.fromSteps
        while remaining > command.toSteps { remaining /= 2; rounds += 1 }
        bar = ProgressBar(total: command.guidanceSteps + rounds * command.stepsPerRound, label: "distill", unit: "steps", quiet: command.quiet)
        startDone = Self.roundStart(distiller, command) + distiller.roundStep
        if !command.resume { try? FileManager.default.removeItem(atPath: command.files.logPath) }
        // Rows past the checkpoint (steps done after it was written) are dropped on --resume.
        lossLog = try LossLog(path: command.files.logPath, truncateAfter: startDone)
    }

    /// Steps of the finished rounds (the guidance stage first, when there is one).
    static func roundStart(_ distiller: Distiller, _ command: Distill) -> Int {
        var n = 0, steps = command.fromSteps
        while steps > distiller.round.teacherTimesteps.count { steps /= 2; n += 1 }
        return (command.guidanceSteps > 0 && !distiller.inGuidanceStage ? command.guidanceSteps : 0) + n * command.stepsPerRound
    }

    func saveCheckpoint() throws {
        let checkpointPath = command.files.checkpointPath
        let writtenJSON = String(decoding: (try? JSONEncoder().encode(written)) ?? Data("[]".utf8), as: UTF8.self)
        let extra = ["t2v.cli_rng": String(rng.offset), "t2v.written": writtenJSON, VideoPipeline.distilledFromKey: teacherName,
                     "t2v.teacher_guidance": String(teacherGuidance), Distill.teacherSHAKey: teacherSHA]
        lossLog.flush()
        lossLog.plot(to: command.files.plotPath)
        do { try distiller.saveCheckpoint(to: URL(fileURLWithPath: checkpointPath), metadata: extra) } catch {
            // Checkpoints are written atomically: a failed write leaves the previous one as it was.
            let hint = FileManager.default.fileExists(atPath: checkpointPath)
                ? "The last checkpoint written is \(checkpointPath); fix the cause and continue with --resume."
                : "No checkpoint was written; fix the cause and start again."
            throw CommandError("distillation stopped: \(CommandError.text(error)) (disk full, or the folder gone?). \(hint)")
        }
    }

    /// Writes a finished round's student: -o for the last, OUTPUT-Nsteps.safetensors before.
    func writeStudent(_ student: VideoDenoiser, studentSteps: Int) throws {
        let output = command.output
        let path = String(studentSteps == command.toSteps ? output : TrainingRunOptions.sibling(output, "").dropLast() + "-\(studentSteps)steps.safetensors")
        var metadata = [
            VideoPipeline.samplingStepsKey: String(studentSteps), VideoPipeline.samplerKey: "ddim-trailing",
            VideoPipeline.distilledFromKey: teacherName, VideoPipeline.teacherSHA256Key: teacherSHA,
            VideoPipeline.teacherStepsKey: String(command.fromSteps),
            "t2v.precision": (distiller.config.precision ?? .fp32).rawValue]
        if command.guidance != 1 || teacherGuidance != 1 {
            metadata[VideoPipeline.distilledGuidanceKey] = String(command.guidance * teacherGuidance)
        }
        if command.guidanceRescale != 0 { metadata["t2v.distilled_guidance_rescale"] = String(command.guidanceRescale) }
        if let interval = distiller.config.guidanceInterval {
            metadata["t2v.distilled_guidance_interval"] = "\(interval.lowerBound):\(interval.upperBound)"
        }
        do {
            try student.save(to: URL(fileURLWithPath: path), metadata: metadata.merging(bundle?.metadata ?? [:]) { own, _ in own },
                             extraEntries: bundle?.entries ?? [])
        } catch { throw CommandError("writing \(path) failed: \(CommandError.text(error))") }
        if !written.contains(path) { written.append(path) }
        if !command.quiet { FileHandle.standardError.write(Data("distill: \(studentSteps)-step student written to \(path)\n".utf8)) }
    }

    /// Runs every round to the end, or to a signal (checkpoint, then an error saying how to resume).
    func run(dataset: TrainingData, interrupted: SignalFlag) throws {
        // Clips are drawn from the command's own stream (its position is in the checkpoint), as
        // a resumed run needs.
        var hooks = DistillationHooks()
        hooks.pickClip = { [unowned self] in rng.nextInt(below: $0) }
        hooks.shouldContinue = { !interrupted.isSet }
        hooks.step = { [unowned self] studentSteps, step, loss in
            let done = Self.roundStart(distiller, command) + step
            lossLog.append(step: done, loss: loss, lr: distiller.learningRate)
            bar.update(done, rateCount: done - startDone, suffix: String(format: "%d steps, loss %.4f", studentSteps, lossLog.smoothed))
            if step % command.checkpointEvery == 0, step < distiller.roundLength { try saveCheckpoint() }
        }
        hooks.roundFinished = { [unowned self] student, studentSteps in try writeStudent(student, studentSteps: studentSteps) }
        // A round boundary: a resume starts the next round, not the finished one again.
        hooks.roundStarted = { [unowned self] in try saveCheckpoint() }
        let outcome: DistillationOutcome
        do {
            outcome = try distiller.run(clipCount: dataset.count, loadClip: { try dataset.clip($0) }, hooks: hooks)
        } catch let error as CommandError {
            throw error
        } catch {
            throw CommandError("distillation failed: \(CommandError.text(error))")
        }
        let files = command.files
        if case .stopped = outcome {
            try saveCheckpoint()
            // Students are written atomically at the end of their round: -o is either absent or
            // the file it held before.
            let studentSteps = distiller.studentTimesteps.count
            let roundName = distiller.inGuidanceStage ? "the guidance stage (\(studentSteps) steps)" : "the round to \(studentSteps) steps"
            let kept = written.isEmpty ? "" : " The students of finished rounds are kept: " + written.joined(separator: ", ") + "."
            throw CommandError("interrupted at step \(distiller.roundStep) of \(distiller.roundLength) in \(roundName); checkpoint saved to \(files.checkpointPath). Run the same command with --resume to continue; \(files.output) was not written and is written when the run completes.\(kept)")
        }
        lossLog.flush()
        lossLog.plot(to: files.plotPath)
        // The run is complete: its checkpoint (teacher, student and optimizer state) is not needed.
        try? FileManager.default.removeItem(atPath: files.checkpointPath)
        if !command.quiet { FileHandle.standardError.write(Data("distill: loss log \(files.logPath), curve \(files.plotPath)\n".utf8)) }
    }
}
