import ArgumentParser
import FrameIO
import Foundation
import Renderer
import Scenes

/// `t2v-scenes render`: writes the corpus as one clip per (family, seed) with a caption sidecar
/// and a manifest. Resumable: clips whose video and caption files exist are skipped.
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render captioned clips: FAMILY-SEED.<ext> + FAMILY-SEED.txt per clip, and manifest.csv.",
        discussion: """
        Seeds: clip k of a family gets the seed SPLIT_BASE + S + k, where SPLIT_BASE is 0 for --split train \
        and 1000000000 for --split heldout (the two ranges never overlap). A clip is a pure function of \
        (family, seed). Re-running skips clips already written, so an interrupted run can be resumed.
        """)

    /// Which caption a clip's sidecar holds.
    enum CaptionKind: String, CaseIterable, ExpressibleByArgument {
        /// The training caption for train seeds, the held-out paraphrase for held-out seeds.
        case auto
        /// Always the training caption.
        case training
        /// Always the held-out paraphrase.
        case paraphrase
        /// The family's compositional caption grammar: half the clips a training template, the
        /// others a composed sentence in the templates' vocabulary (never a held-out paraphrase).
        case grammar
        /// Every training template expanded with the clip's attributes, one a line, the training
        /// caption first (`extract` keeps the others as the clip's alternatives).
        case all
    }

    @Option(name: [.short, .customLong("output")], help: "Output folder (created if missing).")
    var output: String

    @Option(name: .customLong("per-family"), help: "Clips per family.")
    var perFamily: Int = 10

    @Option(help: "Which seed range to draw from: train or heldout.")
    var split: SceneSplit = .train

    @Option(help: "Frame width and height in pixels (even, at least 8).")
    var size: Int = 128

    @Option(help: "Frames per clip.")
    var frames: Int = 16

    @Option(help: "Frame rate written into the video (frames per second).")
    var fps: Int = 8

    @Option(help: "First seed index within the split.")
    var seed: UInt64 = 0

    @Option(help: "Caption written to the sidecar: auto (training caption for train, paraphrase for heldout), training, paraphrase, grammar (the compositional caption grammar: hundreds of wordings a family, never a paraphrase), all (every training wording of the clip's attributes, one a line, the training caption first: training draws one each time it uses the clip).")
    var captions: CaptionKind = .auto

    @Option(help: "Clip container: mp4 (H.264), mkv (H.264) or webm (VP9).")
    var format: ClipFormat = .mp4

    @Option(help: "Constant-quality factor (h264 0...51, vp9 0...63; lower = better). Default: 18 for h264, 30 for vp9.")
    var crf: Int?

    @Option(help: "x264 preset (ultrafast ... veryslow) for mp4/mkv.")
    var preset: String = "medium"

    @OptionGroup var selection: FamilySelection

    @Flag(name: .shortAndLong, help: "No progress output.")
    var quiet = false

    func validate() throws {
        guard perFamily >= 1 else { throw ValidationError("--per-family must be at least 1, got \(perFamily)") }
        guard size >= Scenes.minimumSize, size % 2 == 0, size <= 4096 else {
            throw ValidationError("--size must be an even number from \(Scenes.minimumSize) to 4096 (H.264 needs even sizes), got \(size)")
        }
        guard frames >= 1, frames <= 10_000 else { throw ValidationError("--frames must be from 1 to 10000, got \(frames)") }
        guard fps >= 1, fps <= 240 else { throw ValidationError("--fps must be from 1 to 240, got \(fps)") }
        let presets = ["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"]
        guard presets.contains(preset) else { throw ValidationError("--preset must be one of \(presets.joined(separator: ", ")), got \(preset)") }
        if let crf {
            let top = format == .webm ? 63 : 51
            guard (0...top).contains(crf) else { throw ValidationError("--crf for \(format.rawValue) must be from 0 to \(top), got \(crf)") }
        }
        guard seed <= UInt64.max - SceneSplit.heldOutBase - UInt64(perFamily) else {
            throw ValidationError("--seed \(seed) is too large: it must be at most \(UInt64.max - SceneSplit.heldOutBase - UInt64(perFamily))")
        }
        if split == .train {
            guard seed + UInt64(perFamily) <= SceneSplit.heldOutBase else {
                throw ValidationError("--seed \(seed) + --per-family \(perFamily) runs past the training seed range (0..<\(SceneSplit.heldOutBase))")
            }
        }
    }

    func run() throws {
        VideoWriter.setFFmpegLogLevel(.error)
        let families = try selection.resolved()
        let folder = URL(fileURLWithPath: output, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw CommandError("\(folder.path): cannot create the output folder (\(error.localizedDescription)).")
        }
        let encoding = ClipEncoding(format: format, fps: fps, crf: crf ?? (format == .webm ? 30 : 18), preset: preset)
        let manifestURL = folder.appendingPathComponent("manifest.csv")
        // Rows of an earlier run whose clip has since been deleted are dropped.
        var rows = try Manifest.read(manifestURL).filter {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent($0.path).path)
        }
        let progress = ProgressLine(total: families.count * perFamily, enabled: !quiet && isatty(STDERR_FILENO) != 0)
        var rendered = 0, skipped = 0
        let start = Date()
        for family in families {
            for k in 0..<UInt64(perFamily) {
                let clipSeed = split.seed(seed + k)
                let stem = "\(family.id)-\(clipSeed)"
                let videoURL = folder.appendingPathComponent("\(stem).\(format.fileExtension)")
                let textURL = folder.appendingPathComponent("\(stem).txt")
                let caption = captionText(family: family, seed: clipSeed)
                let fm = FileManager.default
                if fm.fileExists(atPath: videoURL.path) && fm.fileExists(atPath: textURL.path) {
                    skipped += 1
                } else {
                    try writeAtomically(Data((caption + "\n").utf8), to: textURL)
                    try writeClip(to: videoURL, size: size, encoding: encoding) { sink in
                        try Scenes.renderFrames(family: family, seed: clipSeed, size: size, frames: frames, sink)
                    }
                    rendered += 1
                }
                // Keep the caption that is on disk (a resumed run may have been asked for other
                // captions); the manifest holds its first line.
                let onDisk = (try? String(contentsOf: textURL, encoding: .utf8))?
                    .split(whereSeparator: \.isNewline).first.map(String.init) ?? String(caption.prefix { !$0.isNewline })
                let row = Manifest.Row(path: videoURL.lastPathComponent, caption: onDisk, family: family.id,
                                       seed: clipSeed, split: SceneSplit(seed: clipSeed).rawValue)
                rows.removeAll { $0.path == row.path }
                rows.append(row)
                progress.step("\(stem)")
            }
        }
        progress.done()
        let order = Dictionary(uniqueKeysWithValues: SceneFamily.allCases.enumerated().map { ($1.id, $0) })
        rows.sort { (order[$0.family] ?? 99, $0.seed, $0.path) < (order[$1.family] ?? 99, $1.seed, $1.path) }
        try writeAtomically(Data(Manifest.format(rows).utf8), to: manifestURL)
        let seconds = Date().timeIntervalSince(start)
        print("rendered \(rendered) clips, skipped \(skipped) already present, in \(String(format: "%.1f", seconds)) s; manifest: \(manifestURL.path) (\(rows.count) rows)")
    }

    private func captionText(family: SceneFamily, seed: UInt64) -> String {
        switch captions {
        case .training: return Scenes.caption(family: family, seed: seed)
        case .paraphrase: return Scenes.paraphrase(family: family, seed: seed)
        case .grammar: return Scenes.grammarCaption(family: family, seed: seed)
        case .all: return Scenes.captionVariants(family: family, seed: seed).joined(separator: "\n")
        case .auto:
            return SceneSplit(seed: seed) == .train ? Scenes.caption(family: family, seed: seed) : Scenes.paraphrase(family: family, seed: seed)
        }
    }
}

/// A one-line progress display on stderr, shown only when stderr is a terminal.
final class ProgressLine {
    let total: Int
    let enabled: Bool
    private var count = 0
    private let start = Date()

    init(total: Int, enabled: Bool) {
        self.total = total
        self.enabled = enabled
    }

    func step(_ label: String) {
        count += 1
        guard enabled else { return }
        let elapsed = Date().timeIntervalSince(start)
        let eta = count > 0 ? elapsed / Double(count) * Double(total - count) : 0
        FileHandle.standardError.write(Data("\r\u{1B}[K[\(count)/\(total)] \(label)  ETA \(Int(eta)) s".utf8))
    }

    func done() {
        if enabled { FileHandle.standardError.write(Data("\n".utf8)) }
    }
}
