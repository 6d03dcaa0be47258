import Foundation
import FrameIO
import Generator
import Renderer

/// The bridge between an `extract` dataset (FrameIO) and the Generator's trainers: clips by index
/// as Float32 `[frames, 3, H, W]`, each with the pooled text embedding of its caption (computed
/// once per distinct caption; an empty caption is the zero, unconditional embedding).
final class TrainingData {
    let loader: DatasetLoader
    private var embeddings: [String: [Float]] = [:]

    /// Opens the dataset and embeds its captions. Throws `CommandError` with what to do.
    init(directory: String, textModel: String?, quiet: Bool) throws {
        do {
            loader = try DatasetLoader(directory: URL(fileURLWithPath: directory), seed: 0)
        } catch {
            throw CommandError("\(error)")
        }
        let captions = Array(Set(loader.records.map(\.caption))).sorted()
        let encoder: TextEncoder
        do {
            encoder = try TextEncoder(directory: TextModelLocator.locate(explicitPath: textModel))
        } catch { throw CommandError("\(error)") }
        let bar = ProgressBar(total: captions.count, label: "captions", unit: "texts", quiet: quiet)
        for (i, caption) in captions.enumerated() {
            embeddings[caption] = caption.isEmpty ? [Float](repeating: 0, count: encoder.dimension)
                                                  : try encoder.encode(caption).pooled
            bar.update(i + 1)
        }
    }

    /// Clips in the dataset.
    var count: Int { loader.records.count }
    /// Frames, height and width of every clip.
    var shape: (frames: Int, height: Int, width: Int) { (loader.frames, loader.height, loader.width) }

    /// Clip `i` with its caption's embedding.
    func clip(_ i: Int) throws -> TrainingClip {
        TrainingClip(video: try loader.clip(at: i), text: embeddings[loader.records[i].caption]!)
    }
}
