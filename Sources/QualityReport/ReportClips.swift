import FrameIO
import Foundation
import Renderer
import Generator
import Scenes

/// Real clips for the quality report: the extracted held-out dataset and held-out scenes
/// rendered in memory, as planar Float32 `[frames, 3, R, R]` in [-1, 1] with family labels.
public enum ReportClips {
    /// First seed index (within the held-out split) of the clips rendered in memory to train the
    /// classifier: far above the indices of the extracted held-out corpus (0 ..< per-family).
    static let classifierSeedBase: UInt64 = 500_000

    /// The clips of an extracted held-out dataset with the family each came from (read from the
    /// source file name, `family-seed.mp4`). Throws when the dataset cannot be read or a source
    /// name names no family.
    public static func loadDataset(_ directory: URL) throws -> (clips: [[Float]], labels: [SceneFamily], captions: [String], frames: Int, size: Int) {
        let loader: DatasetLoader
        do { loader = try DatasetLoader(directory: directory, seed: 0) } catch {
            throw CommandError("cannot read the held-out dataset \(directory.path): \(error). Create it with scripts/train-default.sh (stage 2) or pass --heldout DIR.")
        }
        guard loader.height == loader.width else {
            throw CommandError("\(directory.path): clips are \(loader.width)x\(loader.height); the report needs square clips")
        }
        var clips: [[Float]] = [], labels: [SceneFamily] = [], captions: [String] = []
        for (i, record) in loader.records.enumerated() {
            let name = URL(fileURLWithPath: record.source).deletingPathExtension().lastPathComponent
            guard let dash = name.lastIndex(of: "-"), let family = SceneFamily(id: String(name[..<dash])) else {
                throw CommandError("\(directory.path): clip source '\(record.source)' is not named family-seed.mp4, so its family is unknown; use a dataset extracted from `t2v-scenes render --split heldout`")
            }
            clips.append(try loader.clip(at: i))
            labels.append(family)
            captions.append(record.caption)
        }
        return (clips, labels, captions, loader.frames, loader.width)
    }

    /// Held-out clips rendered in memory at twice `size` (as the corpus is rendered larger than
    /// the model) and downscaled with FrameIO's Lanczos scaler; `perFamily` seeds per family,
    /// starting at held-out index `classifierSeedBase`.
    public static func render(perFamily: Int, frames: Int, size: Int) throws -> (clips: [[Float]], labels: [SceneFamily]) {
        let scaler = try FrameScaler(inputWidth: 2 * size, inputHeight: 2 * size, outputWidth: size, outputHeight: size)
        var clips: [[Float]] = [], labels: [SceneFamily] = []
        for family in SceneFamily.allCases {
            for i in 0..<perFamily {
                var clip: [Float] = []
                clip.reserveCapacity(frames * 3 * size * size)
                try Scenes.renderFrames(family: family, seed: SceneSplit.heldout.seed(classifierSeedBase + UInt64(i)),
                                        size: 2 * size, frames: frames) { frame in
                    clip += try scaler.scale(frame).planarFloat
                }
                clips.append(clip)
                labels.append(family)
            }
        }
        return (clips, labels)
    }

    /// The text encoder the report's prompts go through (`--text-model`, or found as `t2v-render` finds it).
    static func textEncoder(_ textModel: String?) throws -> TextEncoder {
        do { return try TextEncoder(directory: TextModelLocator.locate(explicitPath: textModel)) } catch {
            throw CommandError("cannot load the text encoder: \(error). Pass --text-model DIR (all-MiniLM-L6-v2).")
        }
    }

    /// The model at `path`, checked to draw frames that downscale evenly to `size` (a latent
    /// model draws larger frames; they are Lanczos-downscaled to the size they are judged at).
    /// `sizeHint` says how to get a size that fits.
    static func pipeline(_ path: String, encoder: TextEncoder, size: Int, sizeHint: String) throws -> VideoPipeline {
        guard FileManager.default.fileExists(atPath: path) else {
            throw CommandError("model file \(path) does not exist; train it with scripts/train-default.sh or pass the right path")
        }
        do {
            let p = try VideoPipeline.load(from: URL(fileURLWithPath: path), textEncoder: encoder)
            guard p.resolution >= size, p.resolution % size == 0 else {
                throw CommandError("\(path) generates \(p.resolution)x\(p.resolution) frames, which do not downscale evenly to \(size)x\(size); \(sizeHint)")
            }
            return p
        } catch let error as CommandError { throw error } catch {
            throw CommandError("cannot load model \(path): \(error)")
        }
    }

    /// One clip of `p` for `settings`, downscaled to `size` when the model draws larger frames.
    static func generate(_ p: VideoPipeline, _ settings: VideoPipeline.Settings, size: Int) throws -> [Float] {
        let clip = try p.generate(settings)
        return p.resolution == size ? clip : try downscale(clip, from: p.resolution, to: size)
    }

    /// A planar clip `[frames, 3, from, from]` in [-1, 1] downscaled to `to` x `to` with FrameIO's
    /// Lanczos scaler (as `extract` downscales), frame by frame.
    public static func downscale(_ clip: [Float], from: Int, to: Int) throws -> [Float] {
        let scaler = try FrameScaler(inputWidth: from, inputHeight: from, outputWidth: to, outputHeight: to)
        var out: [Float] = []
        out.reserveCapacity(clip.count / (from * from) * to * to)
        for frame in try frames(clip, size: from) { out += try scaler.scale(frame).planarFloat }
        return out
    }

    /// The frames of a planar clip as packed RGB frames.
    public static func frames(_ clip: [Float], size: Int) throws -> [RGBFrame] {
        let n = 3 * size * size
        return try (0..<(clip.count / n)).map { f in
            let planar = try RGBFrame(width: size, height: size, planar: Array(clip[(f * n)..<((f + 1) * n)]))
            return try RGBFrame(width: size, height: size, packed: planar.packedRGB)
        }
    }

    /// Mean inter-frame SSIM (FFmpeg `ssim` All on yuv420p BT.601) over clips.
    public static func interFrameSSIM(_ clips: [[Float]], size: Int) throws -> Double {
        var total = 0.0
        for clip in clips {
            total += try TemporalConsistency.evaluate(frames: frames(clip, size: size), definition: .ssim).mean
        }
        return total / Double(max(clips.count, 1))
    }

    /// A contact sheet: one row per clip, `columns` frames evenly spaced in time, each frame
    /// upscaled to `cell` pixels (nearest neighbour, so pixels stay visible).
    public static func sheet(_ clips: [[Float]], size: Int, columns: Int = 8, cell: Int = 64) throws -> RGBFrame {
        let scaler = try FrameScaler(inputWidth: size, inputHeight: size, outputWidth: cell, outputHeight: cell, filter: .point)
        var tiles: [RGBFrame] = []
        for clip in clips {
            let frames = try self.frames(clip, size: size)
            let picks = (0..<columns).map { columns == 1 ? 0 : $0 * (frames.count - 1) / (columns - 1) }
            tiles += try picks.map { try scaler.scale(frames[$0]) }
        }
        return try ContactSheet(columns: columns, spacing: 2, background: [24, 24, 24]).compose(tiles)
    }
}
