import ArgumentParser
import Foundation
import FrameIO
import Generator
import Renderer

/// `t2v-render eval-autoencoder`: reconstruction quality of an autoencoder on a dataset's clips.
struct EvalAutoencoder: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval-autoencoder",
        abstract: "Score an autoencoder's reconstructions of a dataset's clips (PSNR and SSIM as ffmpeg's psnr and ssim filters).",
        discussion: """
        Every frame of every clip (from `t2v-render extract`) is coded (the posterior mean) and decoded; \
        PSNR (from the mean squared error over the frames) and SSIM (All) are measured on yuv420p \
        as `ffmpeg -lavfi psnr/ssim` does, per group of clips and over all. Groups: by the source \
        file's name up to its last '-' (the corpus's FAMILY-SEED.mp4), by caption, or none. \
        --sheet writes, for the first clip of each group, two frames of the original beside the \
        reconstruction. --reconstructions writes every decoded clip as a dataset of its own (the \
        same sources and captions), so that the judges that read datasets (`t2v-scenes track`, \
        `t2v-render eval`) can compare what the autoencoder keeps of each clip with the original.
        """)

    enum Grouping: String, ExpressibleByArgument, CaseIterable { case sourcePrefix = "source-prefix", caption, none }

    @Option(help: "The autoencoder (from `train-autoencoder`).")
    var autoencoder: String

    @Option(help: "Dataset directory (from `t2v-render extract`), e.g. held-out clips.")
    var data: String

    @Option(help: "How clips are grouped: \(Grouping.allCases.map(\.rawValue).joined(separator: ", ")).")
    var group: Grouping = .sourcePrefix

    @Option(help: "Score at most this many clips (in manifest order; default: all).")
    var limit: Int?

    @Option(help: "Contact sheet PNG: per group, two frames of the original, then the same two reconstructed.")
    var sheet: String?

    @Option(help: "Write the reconstructed clips as a dataset in this new directory (created whole at the end).")
    var reconstructions: String?

    @Flag(help: "Print the scores as JSON on stdout.")
    var json = false

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1, got \(limit)") }
    }

    func run() throws {
        if let sheet { try OutputPath.check(sheet, option: "--sheet", streams: false) }
        if let reconstructions, FileManager.default.fileExists(atPath: reconstructions) {
            throw CommandError("--reconstructions \(reconstructions) already exists; choose a new directory (the dataset is written whole)")
        }
        let model: VideoAutoencoder
        do { model = try VideoAutoencoder.load(from: URL(fileURLWithPath: autoencoder)).model } catch { throw CommandError(CommandError.text(error)) }
        let loader: DatasetLoader
        do { loader = try DatasetLoader(directory: URL(fileURLWithPath: data), seed: 0) } catch { throw CommandError(CommandError.text(error)) }
        let (frames, height, width) = (loader.frames, loader.height, loader.width)
        let count = min(limit ?? loader.records.count, loader.records.count)
        let interrupted = SignalFlag.install()
        let bar = ProgressBar(total: count, label: "eval-autoencoder", unit: "clips", quiet: quiet)
        var evaluation = ReconstructionEvaluation(autoencoder: model)
        var tiles: [String: [RGBFrame]] = [:]
        let frameSize = 3 * height * width
        let frame = { (v: [Float], k: Int) in try RGBFrame(width: width, height: height, planar: Array(v[(k * frameSize)..<((k + 1) * frameSize)])) }
        // The reconstructions go to a sibling temporary directory, renamed into place once complete.
        var writer: DatasetWriter?
        var partial: URL?
        if let reconstructions {
            let target = URL(fileURLWithPath: reconstructions)
            let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).partial-\(getpid())")
            do { writer = try DatasetWriter(directory: temporary, frames: frames, width: width, height: height) } catch {
                throw CommandError("--reconstructions \(reconstructions): \(CommandError.text(error))")
            }
            partial = temporary
        }
        defer { if let partial { try? FileManager.default.removeItem(at: partial) } }
        for i in 0..<count {
            if interrupted.isSet { throw CommandError("interrupted after \(i) of \(count) clips; nothing was written") }
            let record = loader.records[i]
            let name = groupName(record)
            let clip = try loader.clip(at: i)
            let decoded: [Float]
            do { decoded = try evaluation.add(clip, frames: frames, height: height, width: width, group: name) } catch {
                throw CommandError("\(data): clip \(i): \(CommandError.text(error))")
            }
            if let writer {
                let bytes = try (0..<frames).flatMap { try frame(decoded, $0).packedRGB }
                try writer.add(clip: bytes, .init(source: record.source, start: record.start, fps: record.fps,
                                                 caption: record.caption, alternatives: record.alternatives))
            }
            if sheet != nil, tiles[name] == nil {
                let picks = [0, frames / 2]
                tiles[name] = try picks.map { try frame(clip, $0) } + picks.map { try frame(decoded, $0) }
            }
            bar.update(i + 1)
        }
        let scores = evaluation.scores
        if let writer, let partial, let reconstructions {
            do {
                try writer.close()
                try FileManager.default.moveItem(at: partial, to: URL(fileURLWithPath: reconstructions))
            } catch {
                throw CommandError("writing the reconstructions to \(reconstructions) failed: \(CommandError.text(error))")
            }
        }
        if let sheet {
            let frames = tiles.keys.sorted().flatMap { tiles[$0]! }
            do { try PNGImage.write(try ContactSheet(columns: 4).compose(frames), to: sheet) } catch {
                throw CommandError("writing the contact sheet \(sheet) failed: \(CommandError.text(error))")
            }
        }
        if json {
            let e = JSONEncoder()
            e.outputFormatting = [.sortedKeys, .prettyPrinted]
            print(String(decoding: try e.encode(scores), as: UTF8.self))
        } else {
            print("group            clips  frames   PSNR dB    SSIM  worst frame dB")
            for s in scores {
                print(s.group.padding(toLength: 16, withPad: " ", startingAt: 0)
                      + String(format: " %5d  %6d  %8.2f  %.4f  %8.2f", s.clips, s.frames, s.psnr, s.ssim, s.worstFramePSNR))
            }
        }
    }

    private func groupName(_ record: ClipRecord) -> String {
        switch group {
        case .none: return "clips"
        case .caption: return record.caption
        case .sourcePrefix:
            let stem = URL(fileURLWithPath: record.source).deletingPathExtension().lastPathComponent
            guard let dash = stem.lastIndex(of: "-") else { return stem }
            return String(stem[..<dash])
        }
    }
}
