import ArgumentParser
import Foundation
import FrameIO
import Generator
import Renderer

/// `t2v-render train-autoencoder`: trains the latent-diffusion autoencoder on a dataset written by
/// `extract`.
struct TrainAutoencoder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-autoencoder",
        abstract: "Train the latent autoencoder (a per-frame VAE) on a dataset made by `t2v-render extract`.",
        discussion: """
        Each step trains on --batch random --crop x --crop crops of random frames of random clips \
        (loss: L1 + image-gradient L1 + 1e-6 KL). Checkpoints (weights, EMA, optimizer state, random \
        stream) are written atomically to --checkpoint every --checkpoint-every steps and on Ctrl-C; \
        --resume continues bit for bit. The loss goes to --log (CSV) and --plot (PNG). At the end the \
        latent scale factor (1 / std of the encoder means) is measured on the data and -o receives the \
        EMA weights with it, ready for `encode-latents --autoencoder`.
        """)

    @Option(help: "Dataset directory (from `t2v-render extract`).")
    var data: String

    @OptionGroup var files: TrainingRunOptions

    @OptionGroup var compute: PrecisionOptions
    var output: String { files.output }
    var checkpoint: String? { files.checkpoint }
    var resume: Bool { files.resume }
    var log: String? { files.log }
    var plot: String? { files.plot }
    var quiet: Bool { files.quiet }

    @Option(help: "Total optimisation steps of the run.")
    var steps: Int = 5000

    @Option(help: "Crops (frames) per step.")
    var batch: Int = 8

    @Option(help: "Side of the square training crops in pixels, a multiple of the downsampling factor. (default: 64, or the frame size when smaller)")
    var crop: Int?

    @Option(help: "Peak learning rate (AdamW).")
    var lr: Float = 5e-4

    @Option(help: "Linear warm-up steps.")
    var warmup: Int = 100

    @Option(name: .customLong("latent-channels"), help: "Latent channels: 4 or 8. (default: 4)")
    var latentChannels: Int?

    @Option(help: "Channels of each level, comma-separated; n levels downsample by 2^(n-1). (default: 32,64,128)")
    var channels: String?

    @Option(help: "Random seed (initial weights, crops, posterior noise).")
    var seed: UInt64 = 0


    @Option(help: "Checkpoint every this many steps.")
    var checkpointEvery: Int = 500


    @Flag(help: "With --resume: make --steps the run's new end when it lies beyond the checkpoint's (the cosine learning-rate decay restarts over the longer run).")
    var extend = false




    /// Frames encoded to measure the latent scale factor.
    static let scaleFrames = 256

    /// The one parser of comma-separated channel lists: positive decimal integers, e.g. `32,64,128`.
    static func parseChannels(_ text: String) -> [Int]? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.map { p in p.allSatisfy { $0.isASCII && $0.isNumber } ? Int(p) : nil }
        guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) > 0 }) else { return nil }
        return values.map { $0! }
    }

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
        guard batch >= 1, batch <= 1024 else { throw ValidationError("--batch must be in 1...1024") }
        guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be positive") }
        guard warmup >= 0, checkpointEvery >= 1 else { throw ValidationError("--warmup must be >= 0 and --checkpoint-every >= 1") }
        guard !extend || resume else { throw ValidationError("--extend only applies with --resume") }
        if let crop, crop < 1 { throw ValidationError("--crop must be positive") }
        if let latentChannels, ![4, 8].contains(latentChannels) { throw ValidationError("--latent-channels must be 4 or 8, got \(latentChannels)") }
        if let channels, Self.parseChannels(channels) == nil {
            throw ValidationError("--channels must be positive integers separated by commas, e.g. 32,64,128; got '\(channels)'")
        }
    }

    /// The autoencoder and training configurations of a new run on frames of `height` x `width`.
    func newRun(height: Int, width: Int) throws -> (AutoencoderConfig, AutoencoderTrainingConfig) {
        var ac = AutoencoderConfig()
        if let channels { ac.channels = Self.parseChannels(channels)! }
        if let latentChannels { ac.latentChannels = latentChannels }
        do { try ac.validate() } catch { throw CommandError("cannot set up training: \(CommandError.text(error))") }
        let f = ac.downsamplingFactor
        var tc = AutoencoderTrainingConfig()
        tc.batchSize = batch
        tc.crop = crop ?? min(tc.crop, min(height, width) / f * f)
        tc.learningRate = lr
        tc.warmupSteps = min(warmup, steps)
        tc.totalSteps = steps
        tc.checkpointEvery = checkpointEvery
        tc.seed = seed
        return (ac, tc)
    }

    /// The run in the checkpoint, after checking that the options given agree with it.
    func resumedRun(_ path: String) throws -> AutoencoderTrainer {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandError("--resume: no checkpoint at \(path); start without --resume")
        }
        let trainer: AutoencoderTrainer
        do {
            trainer = try AutoencoderTrainer.resume(from: URL(fileURLWithPath: path), extendingTo: extend ? steps : nil)
        } catch { throw CommandError(CommandError.text(error)) }
        try compute.apply(resuming: trainer.config.precision, checkpoint: path)
        if steps > trainer.config.totalSteps, !quiet {
            FileHandle.standardError.write(Data("train-autoencoder: the checkpoint's run ends at step \(trainer.config.totalSteps); pass --extend to train on to \(steps) (a warm restart of the cosine schedule)\n".utf8))
        }
        let mc = trainer.model.config
        if let latentChannels, latentChannels != mc.latentChannels {
            throw CommandError("checkpoint \(path) trains \(mc.latentChannels) latent channels, not \(latentChannels); resume without --latent-channels")
        }
        if let channels, Self.parseChannels(channels)! != mc.channels {
            throw CommandError("checkpoint \(path) trains channels \(mc.channels.map(String.init).joined(separator: ",")), not \(channels); resume without --channels")
        }
        if let crop, crop != trainer.config.crop {
            throw CommandError("checkpoint \(path) trains on \(trainer.config.crop)-pixel crops, not \(crop); resume without --crop")
        }
        return trainer
    }

    func run() throws {
        let (checkpointPath, logPath, plotPath) = (files.checkpointPath, files.logPath, files.plotPath)
        let interrupted = SignalFlag.install()
        try files.checkPaths()
        // A new run's precision is settled before the data loads; a resumed run's is its checkpoint's.
        let precision = resume ? nil : try compute.apply()
        let loader: DatasetLoader
        do { loader = try DatasetLoader(directory: URL(fileURLWithPath: data), seed: 0) } catch { throw CommandError("\(error)") }
        if interrupted.isSet { throw CommandError("interrupted before training started; nothing was written") }
        let shape = (frames: loader.frames, height: loader.height, width: loader.width)

        let trainer: AutoencoderTrainer
        if resume {
            trainer = try resumedRun(checkpointPath)
        } else {
            var (ac, tc) = try newRun(height: shape.height, width: shape.width)
            tc.precision = precision.flatMap(PrecisionOptions.recorded)
            do {
                var rng = Philox(seed: seed)
                trainer = try AutoencoderTrainer(model: try VideoAutoencoder(config: ac, rng: &rng), config: tc)
            } catch { throw CommandError("cannot set up training: \(CommandError.text(error))") }
        }

        do { try trainer.validate(clipShape: shape) } catch { throw CommandError("\(data): \(CommandError.text(error))") }
        if !resume { try? FileManager.default.removeItem(atPath: logPath) }
        var log = try LossLog(path: logPath, truncateAfter: trainer.step)
        let bar = ProgressBar(total: trainer.config.totalSteps, label: "train-autoencoder", unit: "steps", quiet: quiet)
        let startStep = trainer.step
        let completed: Bool
        do {
            completed = try trainer.train(steps: max(0, min(steps, trainer.config.totalSteps) - trainer.step), clipCount: loader.records.count,
                                          clipShape: shape, loadClip: loader.clip(at:), checkpoint: URL(fileURLWithPath: checkpointPath)) { p in
                log.append(step: p.step, loss: p.loss.total, lr: p.learningRate)
                bar.update(p.step, rateCount: p.step - startStep, suffix: String(format: "loss %.4f (L1 %.4f)", log.smoothed, p.loss.reconstruction))
                if p.step % trainer.config.checkpointEvery == 0 { log.flush(); log.plot(to: plotPath) }
                return !interrupted.isSet
            }
        } catch {
            log.flush()
            let hint = FileManager.default.fileExists(atPath: checkpointPath)
                ? "The last checkpoint written is \(checkpointPath); fix the cause and continue with --resume."
                : "No checkpoint was written; fix the cause and start again."
            throw CommandError("training failed at step \(trainer.step): \(CommandError.text(error)). \(hint)")
        }
        log.flush()
        log.plot(to: plotPath)
        if !completed {
            throw CommandError("interrupted at step \(trainer.step); checkpoint saved to \(checkpointPath). Run the same command with --resume to continue; \(output) is written when the run completes.")
        }
        try export(trainer, loader: loader, shape: shape, logPath: logPath, plotPath: plotPath)
    }

    /// Measures the latent scale on the data and writes -o with it.
    func export(_ trainer: AutoencoderTrainer, loader: DatasetLoader, shape: AutoencoderTrainer.ClipShape, logPath: String, plotPath: String) throws {
        do {
            let scale = try trainer.measureScaleFactor(frames: Self.scaleFrames, clipCount: loader.records.count, clipShape: shape, loadClip: loader.clip(at:))
            try trainer.exportModel(to: URL(fileURLWithPath: output), scaleFactor: scale)
            if !quiet {
                FileHandle.standardError.write(Data("train-autoencoder: \(trainer.step) steps done; EMA weights in \(output) (latent scale \(scale)), loss log \(logPath), curve \(plotPath)\n".utf8))
            }
        } catch {
            throw CommandError("writing \(output) failed: \(CommandError.text(error)). The trained state is in the checkpoint; run the same command with --resume to export again.")
        }
    }
}
