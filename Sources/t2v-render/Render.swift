import ArgumentParser
import Foundation
import FrameIO
import Generator
import Renderer

extension SamplerKind: ExpressibleByArgument {}
extension FrameScaler.Filter: ExpressibleByArgument {}

/// `t2v-render render` (the default subcommand): a prompt into a video, through the diffusion
/// model and straight into an FFmpeg encoder.
struct Render: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate a video from a text prompt with the video diffusion model (the default command).",
        discussion: """
        The default model ships in weights/t2v-default.safetensors (override with --model or $T2V_MODEL). \
        Frames are generated at the model's native size and upscaled to --size with --filter. The \
        container follows -o's extension (mp4, webm, mkv, mov, gif, ...); -o - streams NUT to stdout \
        (or --format webm/mkv/mp4). The prompt, negative prompt, seed, steps, sampler, guidance and \
        the model's SHA-256 are stored in the file's metadata (comment). The same seed and settings \
        give a byte-identical file.
        """)

    @Option(name: .shortAndLong, help: "The text prompt.")
    var prompt: String?

    @Option(help: "A prompt to steer away from (replaces the unconditional branch of guidance).")
    var negativePrompt: String?

    @Option(name: .shortAndLong, help: "Output file, or - for stdout.")
    var output: String?

    @Option(help: ArgumentHelp("Render every line of this JSON Lines file into --output-dir instead of one --prompt.",
                               discussion: "One object per line: {\"prompt\": ..., \"seed\": ..., \"steps\": ..., \"guidance\": ..., \"frames\": ..., \"negative_prompt\": ..., \"output\": \"name.mp4\"}; only prompt is required, the rest override the options for that line; output defaults to the line number (000001.mp4, with --format's extension). Files already in the folder are skipped, so a stopped run resumes; a failed line is logged to errors.jsonl and the rest go on."))
    var prompts: String?

    @Option(help: "Folder for the videos of --prompts (created if missing).")
    var outputDir: String?

    @Option(help: "With --prompts: render only shard i of N (e.g. 0/4): lines i+1, i+1+N, ...; N machines together render each line once.")
    var shard: String?

    @Option(help: "Frames to generate (default: the model's training length). Longer clips are sampled in overlapping windows.")
    var frames: Int?

    @Option(help: "Frames per denoiser call for clips longer than it (sliding-window sampling; default: the model's training length).")
    var window: Int?

    @Option(help: "Frames shared by neighbouring windows (default: half the window).")
    var overlap: Int?

    @Option(help: "Frames per second of the video.")
    var fps: Rational = Rational(8, 1)

    @Option(help: "Output size WxH; frames are upscaled from the model's native size.")
    var size = FrameSize(width: 256, height: 256)

    @Option(help: "Upscaling filter: \(FrameScaler.Filter.allCases.map(\.rawValue).joined(separator: ", ")).")
    var filter: FrameScaler.Filter = .lanczos

    @Option(help: "Denoising steps (default: the model's own, 8 for the distilled default model).")
    var steps: Int?

    @Option(help: "Sampler: \(SamplerKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var sampler: SamplerKind = .ddim

    @Option(parsing: .unconditional, help: ArgumentHelp("Classifier-free guidance scale (1 = no guidance; default: 3, or 1 for a model with guidance distilled into it).",
                               discussion: "On a model distilled with guidance (the default model) the scale multiplies the distilled one, and 1 samples with one denoiser pass per step."))
    var guidance: Float?

    @Option(help: "Clamp the predicted clean frames to [-X, X] at every step (ddim and ddpm samplers; default: no clamping).")
    var clipSample: Float?

    @Option(parsing: .unconditional, help: "Guidance rescale in 0...1 (diffusers' guidance_rescale; 0.7 in Lin et al.): keeps strong guidance from washing the frames out. Default 0.")
    var guidanceRescale: Float?

    @Option(help: "Timesteps FIRST:LAST (of the model's 0...999) where guidance applies, e.g. 150:850; the others use the prompt's prediction alone (default: every step).")
    var guidanceInterval: String?

    @Option(parsing: .unconditional, help: "DDIM's eta: 0 (default) is deterministic, 1 adds DDPM's noise at every step (ddim sampler only).")
    var eta: Double?

    @Option(help: "Random seed; the same seed and settings reproduce the video exactly.")
    var seed: UInt64 = 0

    @Option(help: "Denoiser weights (.safetensors written by train or distill).")
    var model: String?

    @Option(help: "Container when -o - or to override the extension (mp4, webm, mkv, mov, gif, nut).")
    var format: VideoWriter.Container?

    @Option(help: "Encoder quality (CRF); default per codec.")
    var crf: Int?

    @Option(help: "Also write a contact sheet of the frames as a PNG.")
    var sheet: String?

    @OptionGroup var textModel: TextModelOptions

    @OptionGroup var compute: PrecisionOptions

    @Flag(help: "Print a JSON summary (settings, timings, output) on stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    var parsedSize: (Int, Int)? { (size.width, size.height) }

    func validate() throws {
        if prompts != nil {
            guard prompt == nil, output == nil else {
                throw ValidationError("--prompts renders a file of prompts into --output-dir; drop --prompt and -o (or drop --prompts to render one video)")
            }
            guard outputDir != nil else { throw ValidationError("--prompts needs --output-dir, the folder for the videos") }
            guard sheet == nil else { throw ValidationError("--sheet applies to one video, not to --prompts") }
            if let shard, ShardArgument.parse(shard) == nil { throw ValidationError("--shard must be i/N with 0 <= i < N, got '\(shard)'") }
            if let format, [.nut, .png].contains(format) { throw ValidationError("--format \(format.rawValue) cannot name batch files; use mp4, webm, mkv, mov or gif") }
        } else {
            guard outputDir == nil, shard == nil else { throw ValidationError("--output-dir and --shard apply to --prompts") }
            if let prompt, prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw ValidationError("--prompt is empty; describe the video, e.g. --prompt \"a sunset over the ocean\"")
            }
            // A missing --prompt or -o is reported by run(), after the parser has named any
            // unknown option (a misspelt --prompt is the usual cause).
        }
        if let frames, !(1...256).contains(frames) { throw ValidationError("--frames must be in 1...256, got \(frames)") }
        if let window, !(1...256).contains(window) { throw ValidationError("--window must be in 1...256, got \(window)") }
        if let overlap, overlap < 0 || overlap >= (window ?? Int.max) {
            throw ValidationError("--overlap must be at least 0 and less than --window, got \(overlap)")
        }
        if let steps, !(1...1000).contains(steps) { throw ValidationError("--steps must be in 1...1000, got \(steps)") }
        if let guidance, !(guidance >= 0 && guidance.isFinite && guidance <= 50) { throw ValidationError("--guidance must be in 0...50, got \(guidance)") }
        if let guidanceRescale, !(guidanceRescale >= 0 && guidanceRescale <= 1) {
            throw ValidationError("--guidance-rescale must be in 0...1, got \(guidanceRescale)")
        }
        if let guidanceInterval, ClassifierFreeGuidance.parseInterval(guidanceInterval) == nil {
            throw ValidationError(ClassifierFreeGuidance.intervalSyntaxMessage(guidanceInterval))
        }
        if let eta {
            guard eta >= 0, eta <= 10, eta.isFinite else { throw ValidationError("--eta must be in 0...10, got \(eta)") }
            guard sampler == .ddim || eta == 0 else { throw ValidationError("--eta applies to the ddim sampler, not --sampler \(sampler.rawValue)") }
        }
        guard size.width <= 4096, size.height <= 4096 else { throw ValidationError("--size must be WxH with sides in 1...4096, got '\(size)'") }
        guard fps.doubleValue > 0, fps.doubleValue <= 240 else { throw ValidationError("--fps must be a positive rate up to 240 such as 8 or 30000/1001, got '\(fps)'") }
    }

    /// The model, text encoder and renderer, loaded once.
    private func loadRenderer() throws -> (renderer: VideoRenderer, model: VideoDenoiser, url: URL) {
        let modelURL = try ModelLocator.locate(explicit: model)
        let encoder: TextEncoder
        do {
            encoder = try TextEncoder(directory: TextModelLocator.locate(explicitPath: textModel.textModel))
        } catch { throw CommandError(CommandError.text(error)) }
        let pipeline: VideoPipeline
        do { pipeline = try VideoPipeline.load(from: modelURL, textEncoder: encoder) } catch { throw CommandError(CommandError.text(error)) }
        let renderer = VideoRenderer(pipeline: pipeline, modelFile: modelURL.lastPathComponent,
                                     modelSHA256: try SHA256.hex(fileAt: modelURL.path))
        return (renderer, pipeline.model, modelURL)
    }

    /// The settings every prompt shares (a batch line overrides its own).
    private func baseSettings(_ renderer: VideoRenderer, model: VideoDenoiser, prompt: String) -> VideoPipeline.Settings {
        var settings = VideoPipeline.Settings(
            prompt: prompt, negativePrompt: negativePrompt, frames: frames ?? model.config.frames,
            steps: steps ?? renderer.pipeline.defaultSteps, sampler: sampler,
            guidance: guidance ?? renderer.pipeline.defaultGuidance, seed: seed)
        settings.window = window
        settings.overlap = overlap
        settings.clipSample = clipSample
        settings.eta = eta
        settings.guidanceRescale = guidanceRescale
        settings.guidanceInterval = guidanceInterval.flatMap(ClassifierFreeGuidance.parseInterval)
        return settings
    }

    /// Size, filter, rate, container, CRF and sheet from the options, for `path`.
    private func outputTemplate(path: String) -> VideoRenderer.Output {
        var out = VideoRenderer.Output(path: path)
        (out.width, out.height) = parsedSize!
        out.filter = filter
        out.frameRate = fps
        out.format = format
        out.crf = crf
        out.sheet = sheet
        return out
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        VideoWriter.setFFmpegLogLevel(.error)
        try compute.apply()
        if prompts != nil { return try runBatch() }
        guard let prompt else {
            throw ValidationError("Missing expected argument '--prompt <prompt>' (or --prompts FILE --output-dir DIR for a batch)")
        }
        guard let output else { throw ValidationError("Missing expected argument '--output <output>' (-o FILE, or -o - for stdout)") }
        var clock = Stopwatch()
        let interrupted = SignalFlag.install()
        // Outputs that cannot be written fail now, naming the path, not after the whole denoise;
        // so do the encoder's options (container, codec, CRF, size).
        let out = outputTemplate(path: output)
        do {
            try OutputPath.check(output, option: "-o", streams: true)
            if let sheet { try OutputPath.check(sheet, option: "--sheet", streams: false) }
        } catch { throw CommandError(CommandError.text(error)) }
        let (renderer, model, modelURL) = try loadRenderer()
        do { try renderer.validate(out) } catch { throw CommandError(CommandError.text(error)) }
        let loadSeconds = clock.lap()

        let settings = baseSettings(renderer, model: model, prompt: prompt)
        // A prompt far from every training caption still renders, with a word about it.
        let nearest: [CaptionIndex.Match]
        do { nearest = try renderer.pipeline.nearestKnownCaptions(to: prompt, count: 3) } catch { throw CommandError(CommandError.text(error)) }
        if let best = nearest.first, best.isFar, !quiet {
            let names = nearest.map { "\"\($0.caption)\"" }.joined(separator: ", ")
            FileHandle.standardError.write(Data(String(
                format: "t2v-render: warning: the prompt is far from what the model learned (cosine similarity %.2f to its nearest training caption, below %.2f); rendering it anyway. Nearest known scenes: %@\n",
                best.similarity, CaptionIndex.farThreshold, names).utf8))
        }
        let bar = ProgressBar(total: settings.steps, label: "render", unit: "steps", quiet: quiet)
        let result: VideoRenderer.Result
        do {
            result = try renderer.render(settings, to: out, shouldContinue: { !interrupted.isSet }, progress: { bar.update($0) })
        } catch { throw CommandError(CommandError.text(error)) }

        let (outW, outH) = parsedSize!
        let summary = Summary(prompt: prompt, negativePrompt: negativePrompt, seed: seed, steps: settings.steps,
                              sampler: sampler.rawValue, guidance: settings.guidance, frames: settings.frames,
                              width: outW, height: outH, nativeSize: renderer.pipeline.resolution, model: modelURL.path,
                              modelSHA256: renderer.modelSHA256, output: output, bytes: result.bytes,
                              seconds: .init(load: loadSeconds, denoise: result.denoiseSeconds, encode: result.encodeSeconds,
                                             total: loadSeconds + result.denoiseSeconds + result.encodeSeconds),
                              denoiserStepsPerSecond: Double(settings.steps) / max(result.denoiseSeconds, 1e-9),
                              nearestCaption: nearest.first?.caption, captionSimilarity: nearest.first.map { Double($0.similarity) },
                              farFromTraining: nearest.first?.isFar, precision: ComputePrecision.current.rawValue)
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(summary), as: UTF8.self))
        } else if !quiet {
            FileHandle.standardError.write(Data(String(
                format: "render: %d frames %dx%d (native %d) -> %@ in %.2f s (load %.2f, denoise %.2f at %.2f steps/s, encode %.2f)\n",
                settings.frames, outW, outH, renderer.pipeline.resolution, output == "-" ? "stdout" : output, summary.seconds.total,
                loadSeconds, result.denoiseSeconds, summary.denoiserStepsPerSecond, result.encodeSeconds).utf8))
        }
    }

    /// `--prompts FILE --output-dir DIR [--shard i/N]`.
    private func runBatch() throws {
        let interrupted = SignalFlag.install()
        let directory = outputDir!
        let batch: PromptBatch
        do { batch = try PromptBatch(contentsOf: prompts!, defaultExtension: format?.rawValue ?? "mp4") } catch {
            throw CommandError(CommandError.text(error))
        }
        var isDir: ObjCBool = false
        if !FileManager.default.fileExists(atPath: directory, isDirectory: &isDir) {
            do { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw CommandError("--output-dir \(directory): cannot create it: \(CommandError.text(error))")
            }
        } else if !isDir.boolValue {
            throw CommandError("--output-dir \(directory) is a file; give a folder")
        }
        let (index, count) = shard.flatMap(ShardArgument.parse).map { ($0.index, $0.count) } ?? (0, 1)
        let jobs = batch.shard(index, of: count)
        let errorLog = (directory as NSString).appendingPathComponent(count > 1 ? "errors-\(index)-of-\(count).jsonl" : "errors.jsonl")
        // Every line's file and the encoder's options are checked before the first denoise.
        let template = outputTemplate(path: directory)
        do {
            try OutputPath.check(errorLog, option: "--output-dir", streams: false)
            for job in jobs {
                var out = template
                out.path = (directory as NSString).appendingPathComponent(job.output)
                out.format = nil
                do {
                    try VideoWriter.validate(path: out.path, width: out.width, height: out.height, options: out.encoderOptions)
                } catch { throw CommandError("\(prompts!) line \(job.line): \(CommandError.text(error))") }
            }
        } catch { throw CommandError(CommandError.text(error)) }
        let (renderer, model, _) = try loadRenderer()
        let base = baseSettings(renderer, model: model, prompt: jobs.first?.prompt ?? "")
        let outcome: PromptBatch.Outcome
        do {
            outcome = try PromptBatch.run(jobs, into: directory, renderer: renderer, base: base, output: template,
                                          errorLog: errorLog, shouldContinue: { !interrupted.isSet }) { event in
                guard !quiet else { return }
                switch event {
                case let .started(job, path, position, total):
                    FileHandle.standardError.write(Data("render [\(position)/\(total)] line \(job.line) -> \(path)\n".utf8))
                case let .failed(job, _, message):
                    FileHandle.standardError.write(Data("render: line \(job.line) failed: \(message)\n".utf8))
                case .skipped, .rendered:
                    break
                }
            }
        } catch {
            throw CommandError(CommandError.text(error) + "; finished files are kept in \(directory). Run the same command again to resume.")
        }
        if json {
            let doc: [String: Any] = ["shard": "\(index)/\(count)", "lines": jobs.count, "rendered": outcome.rendered,
                                      "skipped": outcome.skipped,
                                      "failed": outcome.failed.map { ["line": $0.line, "output": $0.output, "error": $0.message] }]
            let data = try JSONSerialization.data(withJSONObject: doc, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        } else if !quiet {
            FileHandle.standardError.write(Data("render: shard \(index)/\(count): \(jobs.count) lines, \(outcome.rendered.count) rendered, \(outcome.skipped.count) already there, \(outcome.failed.count) failed -> \(directory)\n".utf8))
        }
        if !outcome.failed.isEmpty {
            throw CommandError("\(outcome.failed.count) of \(jobs.count) prompts failed (first: line \(outcome.failed[0].line): \(outcome.failed[0].message)); see \(errorLog)")
        }
    }

    /// `--json` output.
    struct Summary: Codable {
        var prompt: String
        var negativePrompt: String?
        var seed: UInt64
        var steps: Int
        var sampler: String
        var guidance: Float
        var frames: Int
        var width: Int
        var height: Int
        var nativeSize: Int
        var model: String
        var modelSHA256: String
        var output: String
        var bytes: Int
        struct Seconds: Codable { var load, denoise, encode, total: Double }
        var seconds: Seconds
        var denoiserStepsPerSecond: Double
        /// The training caption nearest to the prompt and its cosine similarity, and whether that
        /// is below `CaptionIndex.farThreshold` (absent for models that keep no captions).
        var nearestCaption: String?
        var captionSimilarity: Double?
        var farFromTraining: Bool?
        /// The arithmetic the denoiser and decoder ran in (fp32 or bf16).
        var precision: String
    }
}

/// Wall-clock laps in seconds.
struct Stopwatch {
    private var last = DispatchTime.now().uptimeNanoseconds
    /// Seconds since the previous lap (or creation).
    mutating func lap() -> Double {
        let now = DispatchTime.now().uptimeNanoseconds
        defer { last = now }
        return Double(now - last) / 1e9
    }
}
