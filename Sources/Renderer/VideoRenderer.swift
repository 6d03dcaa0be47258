import AtomicFiles
import Foundation
import FrameIO
import Generator

/// Renders prompts into video files: the diffusion model's frames, upscaled on the way, streamed
/// one by one into an FFmpeg encoder. A file is encoded under a hidden name beside its path and
/// renamed onto it only when it is complete (contact sheet included) and nobody asked to stop, so
/// an output is whole or absent and an existing file is never half-overwritten. Streams (`-`, a
/// pipe, a device) are written directly.
///
/// ```swift
/// let renderer = VideoRenderer(pipeline: pipeline, modelFile: "t2v-default.safetensors", modelSHA256: hash)
/// var output = VideoRenderer.Output(path: "city.mp4")
/// try renderer.validate(output)
/// let result = try renderer.render(settings, to: output)
/// ```
public final class VideoRenderer {
    /// Where and how a video is written.
    public struct Output: Sendable {
        /// File path, or `-` for stdout.
        public var path: String
        /// Output size; frames are upscaled from the model's native size.
        public var width = 256, height = 256
        /// Upscaling filter.
        public var filter: FrameScaler.Filter = .lanczos
        /// Frame rate.
        public var frameRate = Rational(8, 1)
        /// Container (default: from the path's extension; NUT for `-`).
        public var format: VideoWriter.Container? = nil
        /// Encoder quality (CRF); nil: the codec's default.
        public var crf: Int? = nil
        /// Also write the frames as a contact sheet PNG here.
        public var sheet: String? = nil

        /// Output to `path` with the defaults above.
        public init(path: String) { self.path = path }

        /// The encoder's options for these settings.
        public var encoderOptions: VideoWriter.Options {
            var options = VideoWriter.Options()
            options.format = format
            options.frameRate = frameRate
            options.crf = crf
            return options
        }
    }

    /// What a render produced.
    public struct Result: Sendable {
        /// Bytes the encoder wrote.
        public var bytes: Int
        /// Seconds spent denoising and encoding.
        public var denoiseSeconds: Double, encodeSeconds: Double
    }

    /// A render that stopped: why, and what happened to the output.
    public enum Failure: Error, LocalizedError, CustomStringConvertible {
        /// `shouldContinue` returned false.
        case interrupted(String)
        /// The model, the encoder or the file system failed.
        case failed(String)

        public var errorDescription: String? { description }
        public var description: String {
            switch self {
            case let .interrupted(text), let .failed(text): return text
            }
        }
    }

    /// The text-to-video pipeline.
    public let pipeline: VideoPipeline
    /// Recorded in every file's metadata: the weights' file name and SHA-256.
    public let modelFile: String, modelSHA256: String

    /// A renderer for `pipeline`, whose weights are `modelFile` with digest `modelSHA256`.
    public init(pipeline: VideoPipeline, modelFile: String, modelSHA256: String) {
        self.pipeline = pipeline
        self.modelFile = modelFile
        self.modelSHA256 = modelSHA256
    }

    /// Checks, before any denoising, that `output` can be written: its folder (and the sheet's),
    /// the container, codec, CRF and size. Throws a message naming what is wrong.
    public func validate(_ output: Output) throws {
        try OutputPath.check(output.path, option: "-o", streams: true)
        if let sheet = output.sheet { try OutputPath.check(sheet, option: "--sheet", streams: false) }
        try VideoWriter.validate(path: output.path, width: output.width, height: output.height, options: output.encoderOptions)
    }

    /// The settings as the `comment` metadata tag: `key=value` pairs joined by "; ".
    public func metadataComment(_ s: VideoPipeline.Settings) -> String {
        var parts = ["prompt=\(s.prompt)"]
        if let n = s.negativePrompt { parts.append("negative_prompt=\(n)") }
        parts += ["seed=\(s.seed)", "steps=\(s.steps)", "sampler=\(s.sampler.rawValue)", "guidance=\(s.guidance)",
                  "frames=\(s.frames)"]
        if let w = s.window { parts.append("window=\(w)") }
        if let o = s.overlap { parts.append("overlap=\(o)") }
        if let c = s.clipSample { parts.append("clip_sample=\(c)") }
        if let e = s.eta, e != 0 { parts.append("eta=\(e)") }
        if let r = s.guidanceRescale, r != 0 { parts.append("guidance_rescale=\(r)") }
        if let i = s.guidanceInterval { parts.append("guidance_interval=\(i.lowerBound):\(i.upperBound)") }
        parts.append("precision=\(ComputePrecision.current)")
        parts += ["model=\(modelFile)", "model_sha256=\(modelSHA256)", "generator=t2v-render \(GeneratorInfo.version)"]
        return parts.joined(separator: "; ")
    }

    /// Denoises `settings` and encodes the frames into `output`. `shouldContinue` is polled at
    /// every denoising step and frame; `progress` gets the finished step count.
    ///
    /// - Throws: `Failure.interrupted` when `shouldContinue` returned false (the message says what
    ///   became of the output), `Failure.failed` otherwise.
    public func render(_ settings: VideoPipeline.Settings, to output: Output,
                       shouldContinue: @escaping () -> Bool = { true }, progress: ((Int) -> Void)? = nil) throws -> Result {
        let name = output.path == "-" ? "stdout" : output.path
        var start = DispatchTime.now().uptimeNanoseconds
        func lap() -> Double {
            let now = DispatchTime.now().uptimeNanoseconds
            defer { start = now }
            return Double(now - start) / 1e9
        }

        let values: [Float]
        do {
            values = try pipeline.generate(settings) { p in
                progress?(p.step)
                return shouldContinue()
            }
        } catch {
            if !shouldContinue() { throw Failure.interrupted("interrupted while denoising; nothing was written to \(name)") }
            throw Failure.failed("generation failed: \(Self.text(error))")
        }
        let denoiseSeconds = lap()

        let r = pipeline.resolution
        let scaler: FrameScaler
        do {
            scaler = try FrameScaler(inputWidth: r, inputHeight: r, outputWidth: output.width, outputHeight: output.height,
                                     filter: output.filter)
        } catch { throw Failure.failed("cannot scale \(r)x\(r) frames to \(output.width)x\(output.height): \(Self.text(error))") }
        var options = output.encoderOptions
        options.metadata["title"] = settings.prompt
        options.metadata["comment"] = metadataComment(settings)
        let plane = 3 * r * r
        if !shouldContinue() { throw Failure.interrupted("interrupted after denoising; nothing was written to \(name)") }
        let staged = OutputPath.staging(for: output.path, format: output.format)
        if let staged { options.format = staged.container }
        var committed = false
        defer { if let staged, !committed { unlink(staged.path) } }
        let lost = staged == nil && OutputPath.isStream(output.path)
            ? "the video sent to \(name) is incomplete" : "nothing was written to \(name)"
        var sheetFrames: [RGBFrame] = []
        let written: VideoWriter.Result
        var encoded = 0
        do {
            let writer = try VideoWriter(path: staged?.path ?? output.path, width: output.width, height: output.height, options: options)
            do {
                for f in 0..<settings.frames {
                    if !shouldContinue() { throw Stopped() }
                    let frame = try RGBFrame(width: r, height: r, planar: Array(values[(f * plane)..<((f + 1) * plane)]))
                    let scaled = try scaler.scale(frame)
                    try writer.write(scaled)
                    encoded = f + 1
                    if output.sheet != nil { sheetFrames.append(scaled) }
                }
                if !shouldContinue() { throw Stopped() }
                written = try writer.finish()
            } catch {
                writer.cancel()
                throw error
            }
        } catch is Stopped {
            throw Failure.interrupted("interrupted while encoding (\(encoded) of \(settings.frames) frames); \(lost)")
        } catch {
            var text = Self.text(error)
            if let staged { text = text.replacingOccurrences(of: staged.path, with: output.path) }
            throw Failure.failed("writing \(name) failed: \(text)")
        }
        // A stop during the encoder's flush: the finished file is dropped, the old one kept.
        if staged != nil, !shouldContinue() { throw Failure.interrupted("interrupted while finishing the video; \(lost)") }
        if let sheet = output.sheet {
            do {
                let composed = try ContactSheet(columns: min(8, sheetFrames.count)).compose(sheetFrames)
                try PNGImage.write(composed, to: sheet)
            } catch {
                throw Failure.failed("writing the contact sheet \(sheet) failed: \(Self.text(error))"
                                     + (staged != nil ? "; nothing was written to \(output.path)" : ""))
            }
        }
        if let staged {
            do {
                try AtomicFile.commit(staged.path, to: output.path)
            } catch let error as AtomicFileError {
                throw Failure.failed("writing \(output.path) failed: \(error.reason)")
            }
            committed = true
        }
        return Result(bytes: Int(written.bytesWritten), denoiseSeconds: denoiseSeconds, encodeSeconds: lap())
    }

    /// A library error's own message, not its Swift case name.
    static func text(_ error: Error) -> String {
        if let e = error as? LocalizedError, let d = e.errorDescription { return d }
        return "\(error)"
    }
}

/// Thrown inside the encode loop when `shouldContinue` returned false.
private struct Stopped: Error {}
