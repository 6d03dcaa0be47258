import AtomicFiles
import ArgumentParser
import Foundation
import FrameIO
import Generator
import Renderer

/// `t2v-render train`: trains the video denoiser on a dataset written by `extract`.
struct Train: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the video diffusion model on a dataset made by `t2v-render extract`.",
        discussion: """
        --config is a preset (tiny, default) or a JSON DenoiserConfig file; its frames and resolution \
        are taken from the dataset. Checkpoints (weights, EMA, optimizer state, random stream) are \
        written atomically to --checkpoint every --checkpoint-every steps and on Ctrl-C; --resume \
        continues bit for bit. The loss goes to --log (CSV) and --plot (PNG). -o receives the EMA \
        weights, ready for `render --model` and `distill --teacher`.
        """)

    @Option(help: "Dataset directory (from `t2v-render extract`).")
    var data: String

    @Option(help: ArgumentHelp(
        "Model preset (tiny, default) or a JSON file with a DenoiserConfig (default: default).",
        discussion: "With --init: the starting model's architecture plus the zero-started modules to add to it (\"crossAttention\", \"temporalConvolution\", \"temporalConditioning\", \"temporalPositions\": true); every other field must match the model's."))
    var config: String?

    @Option(help: "Total optimisation steps of the run.")
    var steps: Int = 2000

    @Option(help: "Clips per step.")
    var batch: Int = 4

    @Option(help: "Peak learning rate (AdamW).")
    var lr: Float = 2e-4

    @Option(help: "Linear warm-up steps.")
    var warmup: Int = 100

    @Option(help: "Checkpoint every this many steps.")
    var checkpointEvery: Int = 100

    @Option(help: "Random seed (initial weights, batches, noise).")
    var seed: UInt64 = 0

    @Flag(help: "Train without the temporal stream (the ablation: frames denoised independently).")
    var noTemporal = false

    @Option(name: .customLong("init"), help: ArgumentHelp(
        "Start from the weights in this file (written by train or distill) instead of random ones.",
        discussion: "Fine-tuning on your own clips, or continuing at another resolution or frame count (the dataset's). The architecture comes from the file (a --config may add cross-attention or the temporal convolution to it, zero-started, so the run starts from the same function); --no-temporal does not apply; the optimizer, learning-rate schedule and random stream start fresh."))
    var initWeights: String?

    @Option(name: .customLong("text-noise"), help: ArgumentHelp(
        "Text-conditioning augmentation: train on each caption's embedding plus Gaussian noise of norm up to this (relative to the embedding's), rescaled; 0 = off.",
        discussion: "Teaches the denoiser a neighbourhood of each training caption, for prompts worded differently (at 1 the cosine to the caption is about 0.71). Stored in the checkpoint; a --resume must not change it."))
    var textNoise: Float?

    @Option(name: .customLong("image-fraction"), help: ArgumentHelp(
        "Joint image-video training: the share of each batch's clip slots filled with independent frames (each with its own noise level and caption, temporal stream skipped); 0 = off. (default: 0.5; 0 with --no-temporal)",
        discussion: "At equal compute the spatial layers see many more (frame, noise level) pairs (Ho et al. 2022). In the conditioning study (docs/conditioning.md) 0.5 raised the share of clips drawn as the caption's family from 37.5% to 66.1% for training captions and from 35.7% to 46.4% for new wordings, at the cost of less steady frames (inter-frame SSIM 0.81 against 0.89); pass 0 for the plain video recipe. A batch of one clip has no slot to spare and trains on clips only. Stored in the checkpoint; a --resume must not change it."))
    var imageFraction: Double?

    @Option(name: .customLong("condition-dropout"), help: ArgumentHelp(
        "The share of clips trained on the empty prompt (zeros), for classifier-free guidance. (default: 0.1)",
        discussion: "Stored in the checkpoint; a --resume must not change it."))
    var conditionDropout: Double?

    @Option(name: .customLong("min-snr-gamma"), help: ArgumentHelp(
        "Min-SNR-gamma loss weighting (Hang et al. 2023; 5 is their choice) instead of the uniform weighting of the v target.",
        discussion: "Stored in the checkpoint; a --resume must not change it."))
    var minSNRGamma: Double?

    @Option(name: .customLong("motion-loss"), help: ArgumentHelp(
        "Weight of a frame-difference term beside the plain loss: the squared change of the error from one frame to the next, which falls on moving objects. (default: 0, off)",
        discussion: "The plain loss weighs an error alike whether every frame shares it or not; the term weighs what differs between neighbouring frames: an object misplaced, drawn in one frame and not the next, or moving the wrong way. Stored in the checkpoint; a --resume must not change it."))
    var motionLoss: Double?

    @Option(name: .customLong("high-noise-fraction"), help: ArgumentHelp(
        "Share of examples trained at the noisiest timesteps (those from --high-noise-from of the schedule on) instead of uniformly over all. (default: 0, off)",
        discussion: "Near the end of the schedule the noisy input no longer shows what the clip holds, and only the caption can say which object, colour or direction to draw; uniform timesteps spend a few percent of training there. Stored in the checkpoint; a --resume must not change it."))
    var highNoiseFraction: Double?

    @Option(name: .customLong("high-noise-from"), help: "Where the noisiest band starts, as a fraction of the schedule's steps (with --high-noise-fraction). (default: 0.9)")
    var highNoiseFrom: Double?

    @Option(help: ArgumentHelp(
        "The autoencoder a latent dataset (from `encode-latents`) was coded with: the model then trains on its latents and -o bundles it, so render draws frames with its decoder.",
        discussion: "Its SHA-256 must be the one the dataset's shards record."))
    var autoencoder: String?

    @OptionGroup var files: TrainingRunOptions
    var output: String { files.output }
    var checkpoint: String? { files.checkpoint }
    var resume: Bool { files.resume }
    var log: String? { files.log }
    var plot: String? { files.plot }
    var quiet: Bool { files.quiet }



    @Flag(help: "With --resume: make --steps the run's new end when it lies beyond the checkpoint's (the cosine learning-rate decay restarts over the longer run).")
    var extend = false



    @OptionGroup var textModel: TextModelOptions

    @OptionGroup var compute: PrecisionOptions


    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard batch >= 1, batch <= 256 else { throw ValidationError("--batch must be in 1...256") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be positive") }
        guard warmup >= 0, checkpointEvery >= 1 else { throw ValidationError("--warmup must be >= 0 and --checkpoint-every >= 1") }
        guard !extend || resume else { throw ValidationError("--extend only applies with --resume") }
        if let textNoise {
            guard textNoise.isFinite, (0...10).contains(textNoise) else { throw ValidationError("--text-noise must be in 0...10, got \(textNoise)") }
        }
        if let imageFraction {
            guard imageFraction.isFinite, (0..<1).contains(imageFraction) else { throw ValidationError("--image-fraction must be in [0, 1), got \(imageFraction)") }
            guard !(noTemporal && imageFraction > 0) else {
                throw ValidationError("--image-fraction trains the spatial layers beside the temporal stream; --no-temporal has none (leave --image-fraction out)")
            }
        }
        if let conditionDropout {
            guard conditionDropout.isFinite, (0..<1).contains(conditionDropout) else { throw ValidationError("--condition-dropout must be in [0, 1), got \(conditionDropout)") }
        }
        if let minSNRGamma {
            guard minSNRGamma.isFinite, minSNRGamma > 0 else { throw ValidationError("--min-snr-gamma must be positive, got \(minSNRGamma)") }
        }
        if let motionLoss {
            guard motionLoss.isFinite, (0...100).contains(motionLoss) else { throw ValidationError("--motion-loss must be in 0...100, got \(motionLoss)") }
        }
        if let highNoiseFraction {
            guard highNoiseFraction.isFinite, (0...1).contains(highNoiseFraction) else {
                throw ValidationError("--high-noise-fraction must be in 0...1, got \(highNoiseFraction)")
            }
        }
        if let highNoiseFrom {
            guard highNoiseFrom.isFinite, (0..<1).contains(highNoiseFrom) else { throw ValidationError("--high-noise-from must be in [0, 1), got \(highNoiseFrom)") }
            guard highNoiseFraction != nil else { throw ValidationError("--high-noise-from applies with --high-noise-fraction") }
        }
        if initWeights != nil {
            guard !resume else { throw ValidationError("--init starts a new run; --resume continues one from its checkpoint: use one of them") }
            guard !noTemporal else {
                throw ValidationError("--no-temporal does not apply with --init: the architecture comes from the weights file")
            }
        }
    }


    /// A new run's `--image-fraction` when none is given: joint image-video training, the lever
    /// that moved prompt adherence in the conditioning study (docs/conditioning.md).
    static let defaultImageFraction = 0.5

    /// The preset or JSON file named by `--config`.
    static func loadConfig(_ text: String) throws -> DenoiserConfig {
        if let preset = DenoiserConfig.preset(named: text) { return preset }
        guard let data = FileManager.default.contents(atPath: text) else {
            throw CommandError("--config \(text): not a preset (tiny, default) and no such file")
        }
        do { return try DenoiserConfig.fromJSON(data) } catch {
            throw CommandError("--config \(text): not a valid DenoiserConfig JSON: \(CommandError.text(error))")
        }
    }

    func run() throws {
        let (checkpointPath, logPath, plotPath) = (files.checkpointPath, files.logPath, files.plotPath)
        // Installed first: a SIGINT/SIGTERM while the dataset loads stops the run with a message.
        let interrupted = SignalFlag.install()
        // Paths that cannot be written fail now, naming the path, not at the first checkpoint or
        // after the whole run (-o).
        try files.checkPaths()
        // A new run's precision is settled before the data loads; a resumed run's is its checkpoint's.
        let precision = resume ? nil : try compute.apply()
        let dataset = try TrainingData(directory: data, textModel: textModel.textModel, quiet: quiet)
        if interrupted.isSet { throw CommandError("interrupted before training started; nothing was written") }
        let (_, height, width) = dataset.shape
        guard height == width else {
            throw CommandError("\(data): clips are \(width)x\(height); the model needs square clips (extract with --size NxN)")
        }
        // A latent dataset trains a latent model, which carries its autoencoder.
        // What -o carries beside the denoiser: a latent model's autoencoder, and the training
        // captions (so render can tell a prompt far from them).
        var bundle = try latentBundle(for: dataset) ?? ([], [:])
        do {
            let captions = try dataset.captionIndex().contents()
            bundle.entries += captions.entries
            bundle.metadata.merge(captions.metadata) { a, _ in a }
        } catch { throw CommandError("cannot store the training captions: \(CommandError.text(error))") }

        let trainer = try precision.map { try newTrainer(dataset, precision: $0) } ?? resumedTrainer(dataset)

        dataset.keepTokenStates(trainer.model.config.crossAttention)
        var log = try LossLog(path: logPath, truncateAfter: trainer.step)
        let bar = ProgressBar(total: trainer.config.totalSteps, label: "train", unit: "steps", quiet: quiet)
        let startStep = trainer.step
        let completed: Bool
        do {
            // On --resume, --steps is the run's new end (at most the schedule's total): passing the
            // current step exports the checkpoint's EMA weights without training further.
            completed = try trainer.train(steps: max(0, min(steps, trainer.config.totalSteps) - trainer.step),
                                          clipCount: dataset.count, loadClip: dataset.clip,
                                          checkpoint: URL(fileURLWithPath: checkpointPath)) { p in
                log.append(step: p.step, loss: p.loss, lr: p.learningRate)
                bar.update(p.step, rateCount: p.step - startStep, suffix: String(format: "loss %.4f", log.smoothed))
                if p.step % trainer.config.checkpointEvery == 0 { log.flush(); log.plot(to: plotPath) }
                return !interrupted.isSet
            }
        } catch {
            log.flush()
            // Checkpoints are written atomically: a failed write leaves the previous one as it was.
            let hint = FileManager.default.fileExists(atPath: checkpointPath)
                ? "The last checkpoint written is \(checkpointPath); fix the cause and continue with --resume."
                : "No checkpoint was written; fix the cause and start again."
            if let e = error as? TrainingError, case .badCheckpoint = e {
                throw CommandError("training stopped at step \(trainer.step): \(CommandError.text(error)) (disk full, or the folder gone?). \(hint)")
            }
            throw CommandError("training failed at step \(trainer.step): \(CommandError.text(error)). \(hint)")
        }
        log.flush()
        log.plot(to: plotPath)
        if !completed {
            throw CommandError("interrupted at step \(trainer.step); checkpoint saved to \(checkpointPath). Run the same command with --resume to continue; \(output) is written when the run completes.")
        }
        do { try trainer.exportModel(to: URL(fileURLWithPath: output), metadata: bundle.metadata, extraEntries: bundle.entries) } catch {
            throw CommandError("writing \(output) failed: \(CommandError.text(error)). The trained state is in \(checkpointPath); run the same command with --resume to export again.")
        }
        if !quiet {
            FileHandle.standardError.write(Data("train: \(trainer.step) steps done; EMA weights in \(output), loss log \(logPath), curve \(plotPath)\n".utf8))
        }
    }

    /// For a latent dataset: the --autoencoder it was coded with, checked by SHA-256, as the
    /// tensors and metadata -o bundles; nil for pixels.
    private func latentBundle(for dataset: TrainingData) throws -> (entries: [SafeTensors.Entry], metadata: [String: String])? {
        if let latents = dataset.latents {
            guard let autoencoder else {
                throw CommandError("\(data) is a latent dataset (from encode-latents): pass --autoencoder with the autoencoder it was coded with, so the model can be rendered")
            }
            let digest = try SHA256.hex(fileAt: autoencoder)
            guard digest == latents.autoencoderSHA256 else {
                throw CommandError("--autoencoder \(autoencoder) has sha256 \(digest.prefix(16))..., but \(data) was coded with the autoencoder of sha256 \(latents.autoencoderSHA256.prefix(16))...; pass that file")
            }
            do {
                let ae = try VideoAutoencoder.load(from: URL(fileURLWithPath: autoencoder)).model
                return try LatentBundle.contents(of: ae, sha256: digest)
            } catch { throw CommandError(CommandError.text(error)) }
        } else if autoencoder != nil {
            throw CommandError("--autoencoder applies to a latent dataset (from encode-latents); \(data) holds pixels")
        }
        return nil
    }

    /// The run in --checkpoint, checked against the flags and the dataset.
    private func resumedTrainer(_ dataset: TrainingData) throws -> Trainer {
        let checkpointPath = files.checkpointPath
        let (frames, height, width) = dataset.shape
        guard FileManager.default.fileExists(atPath: checkpointPath) else {
            throw CommandError("--resume: no checkpoint at \(checkpointPath); start without --resume")
        }
        let trainer: Trainer
        do {
            trainer = try Trainer.resume(from: URL(fileURLWithPath: checkpointPath), extendingTo: extend ? steps : nil)
        } catch { throw CommandError(CommandError.text(error)) }
        try compute.apply(resuming: trainer.config.precision, checkpoint: checkpointPath)
        if steps > trainer.config.totalSteps, !quiet {
            FileHandle.standardError.write(Data("train: the checkpoint's run ends at step \(trainer.config.totalSteps); pass --extend to train on to \(steps) (a warm restart of the cosine schedule)\n".utf8))
        }
        if let textNoise, textNoise != (trainer.config.textNoise ?? 0) {
            throw CommandError("checkpoint \(checkpointPath) trains with --text-noise \(trainer.config.textNoise ?? 0), not \(textNoise); resume without --text-noise (or with the checkpoint's value)")
        }
        if let imageFraction, imageFraction != (trainer.config.imageFraction ?? 0) {
            throw CommandError("checkpoint \(checkpointPath) trains with --image-fraction \(trainer.config.imageFraction ?? 0), not \(imageFraction); resume without --image-fraction (or with the checkpoint's value)")
        }
        if let conditionDropout, conditionDropout != trainer.config.conditionDropout {
            throw CommandError("checkpoint \(checkpointPath) trains with --condition-dropout \(trainer.config.conditionDropout), not \(conditionDropout); resume without --condition-dropout (or with the checkpoint's value)")
        }
        if let minSNRGamma, trainer.config.lossWeighting != .minSNR(gamma: minSNRGamma) {
            throw CommandError("checkpoint \(checkpointPath) trains with loss weighting \(trainer.config.lossWeighting), not --min-snr-gamma \(minSNRGamma); resume without --min-snr-gamma (or with the checkpoint's value)")
        }
        if let highNoiseFraction, highNoiseFraction != (trainer.config.highNoiseFraction ?? 0)
            || (highNoiseFrom != nil && highNoiseFrom != trainer.config.highNoiseFrom) {
            throw CommandError("checkpoint \(checkpointPath) trains with --high-noise-fraction \(trainer.config.highNoiseFraction ?? 0) from \(trainer.config.highNoiseFrom ?? 0.9); resume without --high-noise-fraction and --high-noise-from (or with the checkpoint's values)")
        }
        if let motionLoss, motionLoss != (trainer.config.motionLossWeight ?? 0) {
            throw CommandError("checkpoint \(checkpointPath) trains with --motion-loss \(trainer.config.motionLossWeight ?? 0), not \(motionLoss); resume without --motion-loss (or with the checkpoint's value)")
        }
        let mc = trainer.model.config
        guard mc.inChannels == dataset.channels else {
            throw CommandError("checkpoint \(checkpointPath) trains on \(mc.inChannels)-channel frames, but \(data) holds \(dataset.channels)-channel \(dataset.latents == nil ? "pixels" : "latents")")
        }
        guard mc.frames == frames, mc.resolution == height else {
            throw CommandError("checkpoint \(checkpointPath) trains \(mc.frames) frames of \(mc.resolution)x\(mc.resolution), but \(data) holds \(frames) frames of \(width)x\(height)")
        }
        return trainer
    }

    /// A new run: the --config (or --init) network at the dataset's shape, the flags' recipe.
    private func newTrainer(_ dataset: TrainingData, precision: ComputePrecision) throws -> Trainer {
        let (frames, height, _) = dataset.shape
        // --init: the architecture and starting weights come from a trained model.
        var initial: VideoDenoiser?
        if let initWeights {
            do {
                initial = try VideoDenoiser.load(from: URL(fileURLWithPath: initWeights)).model
            } catch { throw CommandError("--init: \(CommandError.text(error))") }
        }
        // With --init, --config names the init model's architecture with modules added.
        var mc = try config.map(Train.loadConfig) ?? initial?.config ?? Train.loadConfig("default")
        if let initial { mc.inChannels = initial.config.inChannels } else { mc.inChannels = dataset.channels }
        guard mc.inChannels == dataset.channels else {
            throw CommandError("--init: the model takes \(mc.inChannels)-channel frames, \(data) holds \(dataset.channels) channels")
        }
        mc.frames = frames
        mc.resolution = height
        mc.maxFrameDistance = max(mc.maxFrameDistance, 1)
        // The ablation drops the whole temporal stream, its convolution, text and frame positions included.
        if noTemporal {
            mc.temporal = false
            mc.temporalConvolution = false
            mc.temporalConditioning = false
            mc.temporalPositions = false
        }
        var tc = TrainingConfig()
        tc.batchSize = batch
        tc.learningRate = lr
        tc.warmupSteps = min(warmup, steps)
        tc.totalSteps = steps
        tc.checkpointEvery = checkpointEvery
        tc.seed = seed
        if let textNoise, textNoise > 0 { tc.textNoise = textNoise }
        let fraction = noTemporal ? 0 : imageFraction ?? Train.defaultImageFraction
        if fraction > 0 { tc.imageFraction = fraction }
        if let conditionDropout { tc.conditionDropout = conditionDropout }
        if let minSNRGamma { tc.lossWeighting = .minSNR(gamma: minSNRGamma) }
        if let motionLoss, motionLoss > 0 { tc.motionLossWeight = motionLoss }
        if let highNoiseFraction, highNoiseFraction > 0 {
            tc.highNoiseFraction = highNoiseFraction
            tc.highNoiseFrom = highNoiseFrom ?? 0.9
        }
        tc.precision = PrecisionOptions.recorded(precision)
        do {
            try mc.validate()
            var rng = Philox(seed: seed)
            // Frame count and resolution are not part of any weight's shape.
            let model = try initial.map { try VideoDenoiser.extending($0, to: mc, rng: &rng) } ?? VideoDenoiser(config: mc, rng: &rng)
            // A fresh whitening is fitted to this dataset's captions (before the trainer copies
            // the weights into its average); one grown from --init keeps the trained model's.
            if let whitening = model.textWhitening, let epsilon = mc.textWhitening, initial?.textWhitening == nil {
                try whitening.fit(dataset.distinctEmbeddings(), epsilon: epsilon)
            }
            let trainer = try Trainer(model: model, config: tc)
            try? FileManager.default.removeItem(atPath: files.logPath)
            return trainer
        } catch { throw CommandError("cannot set up training: \(CommandError.text(error))") }
    }
}

/// The loss log: appended CSV lines (`step,loss,lr`), an exponential moving average for the
/// progress line, and a PNG of the curve.
struct LossLog {
    let path: String
    private var pending: [String] = []
    private(set) var history: [Double] = []
    private(set) var smoothed: Double = .nan

    /// Opens the log, keeping rows up to `step` from an earlier run (resume) and dropping later ones.
    init(path: String, truncateAfter step: Int) throws {
        self.path = path
        var kept: [String] = []
        if let text = try? String(contentsOfFile: path, encoding: .utf8) {
            for line in text.split(separator: "\n").dropFirst() {
                let cols = line.split(separator: ",")
                if cols.count >= 2, let s = Int(cols[0]), s <= step, let l = Double(cols[1]) {
                    kept.append(String(line))
                    history.append(l)
                }
            }
        }
        let content = (["step,loss,lr"] + kept).joined(separator: "\n") + "\n"
        do { try AtomicFile.write(Data(content.utf8), to: path) } catch { throw CommandError("cannot write the loss log \(path): \(error)") }
        for l in history { smoothed = smoothed.isNaN ? l : 0.98 * smoothed + 0.02 * l }
    }

    mutating func append(step: Int, loss: Float, lr: Float) {
        pending.append("\(step),\(loss),\(lr)")
        history.append(Double(loss))
        smoothed = smoothed.isNaN ? Double(loss) : 0.98 * smoothed + 0.02 * Double(loss)
    }

    mutating func flush() {
        guard !pending.isEmpty, let h = FileHandle(forWritingAtPath: path) else { return }
        defer { try? h.close() }
        _ = try? h.seekToEnd()
        try? h.write(contentsOf: Data((pending.joined(separator: "\n") + "\n").utf8))
        pending.removeAll()
    }

    /// Raw loss (grey) and its moving average over 50 steps (blue) as a PNG.
    func plot(to path: String) {
        guard history.count >= 2 else { return }
        var avg: [Double] = []
        var sum = 0.0
        for (i, v) in history.enumerated() {
            sum += v
            if i >= 50 { sum -= history[i - 50] }
            avg.append(sum / Double(min(i + 1, 50)))
        }
        let top = (avg.max() ?? 1) * 1.5
        if let image = try? MetricsPlot.render([.init(values: history, color: (190, 190, 190)), .init(values: avg, color: (30, 90, 220))],
                                               width: 800, height: 400, yRange: 0...max(top, 1e-6)) {
            try? PNGImage.write(image, to: path)
        }
    }
}
