import ArgumentParser
import Foundation
import FrameIO
import Generator

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
    var prompt: String

    @Option(help: "A prompt to steer away from (replaces the unconditional branch of guidance).")
    var negativePrompt: String?

    @Option(name: .shortAndLong, help: "Output file, or - for stdout.")
    var output: String

    @Option(help: "Frames to generate (default: the model's training length). Longer clips are sampled in overlapping windows.")
    var frames: Int?

    @Option(help: "Frames per denoiser call for clips longer than it (sliding-window sampling; default: the model's training length).")
    var window: Int?

    @Option(help: "Frames shared by neighbouring windows (default: half the window).")
    var overlap: Int?

    @Option(help: "Frames per second of the video.")
    var fps: String = "8"

    @Option(help: "Output size WxH; frames are upscaled from the model's native size.")
    var size: String = "256x256"

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

    @Flag(help: "Print a JSON summary (settings, timings, output) on stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    var parsedSize: (Int, Int)? {
        FrameSizeArgument.parse(size, limit: 4096).map { ($0.width, $0.height) }
    }

    func validate() throws {
        if prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ValidationError("--prompt is empty; describe the video, e.g. --prompt \"a sunset over the ocean\"")
        }
        if let frames, !(1...256).contains(frames) { throw ValidationError("--frames must be in 1...256, got \(frames)") }
        if let window, !(1...256).contains(window) { throw ValidationError("--window must be in 1...256, got \(window)") }
        if let overlap, overlap < 0 || overlap >= (window ?? Int.max) {
            throw ValidationError("--overlap must be at least 0 and less than --window, got \(overlap)")
        }
        if let steps, !(1...1000).contains(steps) { throw ValidationError("--steps must be in 1...1000, got \(steps)") }
        if let guidance, !(guidance >= 0 && guidance.isFinite && guidance <= 50) { throw ValidationError("--guidance must be in 0...50, got \(guidance)") }
        guard parsedSize != nil else { throw ValidationError("--size must be WxH with sides in 1...4096, got '\(size)'") }
        guard let r = Rational(parsing: fps), r.doubleValue <= 240 else { throw ValidationError("--fps must be a positive rate such as 8 or 30000/1001, got '\(fps)'") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        VideoWriter.setFFmpegLogLevel(.error)
        var clock = Stopwatch()
        let interrupted = SignalFlag.install()
        let outputName = output == "-" ? "stdout" : output
        // Outputs that cannot be written fail now, naming the path, not after the whole denoise.
        try OutputPath.check(output, option: "-o", streams: true)
        if let sheet { try OutputPath.check(sheet, option: "--sheet", streams: false) }

        // Model and text encoder.
        let modelURL = try ModelLocator.locate(explicit: model)
        let loaded: (model: VideoDenoiser, metadata: [String: String])
        do { loaded = try VideoDenoiser.load(from: modelURL) } catch { throw CommandError(CommandError.text(error)) }
        let encoder: TextEncoder
        do {
            encoder = try TextEncoder(directory: TextEncoder.locate(explicitPath: textModel.textModel))
        } catch { throw CommandError(CommandError.text(error)) }
        let pipeline: VideoPipeline
        do { pipeline = try VideoPipeline(model: loaded.model, metadata: loaded.metadata, textEncoder: encoder) } catch { throw CommandError(CommandError.text(error)) }
        let modelHash = try SHA256.hex(fileAt: modelURL.path)
        let loadSeconds = clock.lap()

        var settings = VideoPipeline.Settings(
            prompt: prompt, negativePrompt: negativePrompt, frames: frames ?? loaded.model.config.frames,
            steps: steps ?? pipeline.defaultSteps, sampler: sampler, guidance: guidance ?? pipeline.defaultGuidance, seed: seed)
        settings.window = window
        settings.overlap = overlap
        settings.clipSample = clipSample

        // The encoder's options (container, codec, CRF, size) are checked now, not after the denoise.
        let r = pipeline.resolution
        let (outW, outH) = parsedSize!
        var options = VideoWriter.Options()
        options.format = format
        options.frameRate = Rational(parsing: fps)!
        options.crf = crf
        do { try VideoWriter.validate(path: output, width: outW, height: outH, options: options) } catch {
            throw CommandError(CommandError.text(error))
        }

        // Denoise.
        let bar = ProgressBar(total: settings.steps, label: "render", unit: "steps", quiet: quiet)
        let values: [Float]
        do {
            values = try pipeline.generate(settings) { p in
                bar.update(p.step)
                return !interrupted.isSet
            }
        } catch {
            if interrupted.isSet { throw CommandError("interrupted while denoising; nothing was written to \(outputName)") }
            throw CommandError("generation failed: \(CommandError.text(error))")
        }
        let denoiseSeconds = clock.lap()

        // Encode: frames stream into the encoder one by one, upscaled on the way.
        let scaler = try FrameScaler(inputWidth: r, inputHeight: r, outputWidth: outW, outputHeight: outH, filter: filter)
        options.metadata["title"] = prompt
        options.metadata["comment"] = Render.metadataComment(settings, modelHash: modelHash, modelFile: modelURL.lastPathComponent)
        let plane = 3 * r * r
        if interrupted.isSet { throw CommandError("interrupted after denoising; nothing was written to \(outputName)") }
        // A file is encoded under a hidden name beside -o and renamed onto it only once it is
        // complete (contact sheet included) and no SIGINT/SIGTERM came: a signal at any point,
        // even while the encoder flushes, leaves an existing file byte-identical.
        let staged = OutputPath.staging(for: output, format: format)
        if let staged { options.format = staged.container }
        var committed = false
        defer { if let staged, !committed { unlink(staged.path) } }
        let lost = staged == nil && OutputPath.isStream(output)
            ? "the video sent to \(outputName) is incomplete" : "nothing was written to \(outputName)"
        var sheetFrames: [RGBFrame] = []
        let result: VideoWriter.Result
        var encoded = 0
        do {
            let writer = try VideoWriter(path: staged?.path ?? output, width: outW, height: outH, options: options)
            do {
                for f in 0..<settings.frames {
                    if interrupted.isSet { throw Interruption() }
                    let frame = try RGBFrame(width: r, height: r, planar: Array(values[(f * plane)..<((f + 1) * plane)]))
                    let scaled = try scaler.scale(frame)
                    try writer.write(scaled)
                    encoded = f + 1
                    if sheet != nil { sheetFrames.append(scaled) }
                }
                if interrupted.isSet { throw Interruption() }
                result = try writer.finish()
            } catch {
                writer.cancel()
                throw error
            }
        } catch is Interruption {
            throw CommandError("interrupted while encoding (\(encoded) of \(settings.frames) frames); \(lost)")
        } catch {
            var text = CommandError.text(error)
            if let staged { text = text.replacingOccurrences(of: staged.path, with: output) }
            throw CommandError("writing \(outputName) failed: \(text)")
        }
        // A signal during the encoder's flush: the finished file is dropped, the old one kept.
        if staged != nil, interrupted.isSet { throw CommandError("interrupted while finishing the video; \(lost)") }
        if let sheet {
            do {
                let composed = try ContactSheet(columns: min(8, sheetFrames.count)).compose(sheetFrames)
                try PNGImage.write(composed, to: sheet)
            } catch {
                throw CommandError("writing the contact sheet \(sheet) failed: \(CommandError.text(error))"
                                   + (staged != nil ? "; nothing was written to \(output)" : ""))
            }
        }
        if let staged {
            guard rename(staged.path, output) == 0 else {
                throw CommandError("writing \(output) failed: cannot rename the finished video into place: \(String(cString: strerror(errno)))")
            }
            committed = true
        }
        let encodeSeconds = clock.lap()

        let summary = Summary(prompt: prompt, negativePrompt: negativePrompt, seed: seed, steps: settings.steps,
                              sampler: sampler.rawValue, guidance: settings.guidance, frames: settings.frames,
                              width: outW, height: outH, nativeSize: r, model: modelURL.path, modelSHA256: modelHash,
                              output: output, bytes: Int(result.bytesWritten),
                              seconds: .init(load: loadSeconds, denoise: denoiseSeconds, encode: encodeSeconds,
                                             total: loadSeconds + denoiseSeconds + encodeSeconds),
                              denoiserStepsPerSecond: Double(settings.steps) / max(denoiseSeconds, 1e-9))
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
            print(String(decoding: try e.encode(summary), as: UTF8.self))
        } else if !quiet {
            FileHandle.standardError.write(Data(String(
                format: "render: %d frames %dx%d (native %d) -> %@ in %.2f s (load %.2f, denoise %.2f at %.2f steps/s, encode %.2f)\n",
                settings.frames, outW, outH, r, output == "-" ? "stdout" : output, summary.seconds.total,
                loadSeconds, denoiseSeconds, summary.denoiserStepsPerSecond, encodeSeconds).utf8))
        }
    }

    /// The settings as the `comment` metadata tag: `key=value` pairs joined by "; ".
    static func metadataComment(_ s: VideoPipeline.Settings, modelHash: String, modelFile: String) -> String {
        var parts = ["prompt=\(s.prompt)"]
        if let n = s.negativePrompt { parts.append("negative_prompt=\(n)") }
        parts += ["seed=\(s.seed)", "steps=\(s.steps)", "sampler=\(s.sampler.rawValue)", "guidance=\(s.guidance)",
                  "frames=\(s.frames)"]
        if let w = s.window { parts.append("window=\(w)") }
        if let o = s.overlap { parts.append("overlap=\(o)") }
        if let c = s.clipSample { parts.append("clip_sample=\(c)") }
        parts += ["model=\(modelFile)", "model_sha256=\(modelHash)", "generator=t2v-render \(GeneratorInfo.version)"]
        return parts.joined(separator: "; ")
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
    }
}

/// Thrown inside `render`'s encode loop when SIGINT or SIGTERM arrived.
private struct Interruption: Error {}

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
