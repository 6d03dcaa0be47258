import Foundation
import FrameIO
import Generator
import Renderer

/// The bridge between a dataset and the Generator's trainers: clips by index as Float32
/// `[frames, channels, H, W]`, each with the pooled text embedding of its caption (computed once
/// per distinct caption; an empty caption is the zero, unconditional embedding) and those of its
/// alternative captions (`ClipRecord.alternatives`, one drawn per use by the trainer). The dataset is
/// either `extract`'s pixels (3 channels in [-1, 1]) or `encode-latents`' latents (a latent
/// model's training data).
final class TrainingData {
    private let pixels: DatasetLoader?
    /// The latent dataset, when the folder holds one.
    let latents: LatentDatasetReader?
    /// Each clip's captions, its caption first.
    private let captions: [[String]]
    private var embeddings: [String: [Float]] = [:]
    /// Kept only while token states may be asked for (`keepTokenStates`).
    private var encoder: TextEncoder?
    /// Token states by caption, computed on first use (for models with cross-attention).
    private var tokenStates: [String: [Float]] = [:]

    /// Opens the dataset and embeds its captions. Throws `CommandError` with what to do.
    init(directory: String, textModel: String?, quiet: Bool) throws {
        let url = URL(fileURLWithPath: directory)
        do {
            if LatentDatasetReader.isLatentDataset(url) {
                latents = try LatentDatasetReader(directory: url)
                pixels = nil
                captions = latents!.records.map(\.allCaptions)
            } else {
                pixels = try DatasetLoader(directory: url, seed: 0)
                latents = nil
                captions = pixels!.records.map(\.allCaptions)
            }
        } catch {
            throw CommandError(CommandError.text(error))
        }
        let distinct = Array(Set(captions.joined())).sorted()
        let encoder: TextEncoder
        do {
            encoder = try TextEncoder(directory: TextModelLocator.locate(explicitPath: textModel))
        } catch { throw CommandError("\(error)") }
        let bar = ProgressBar(total: distinct.count, label: "captions", unit: "texts", quiet: quiet)
        for (i, caption) in distinct.enumerated() {
            embeddings[caption] = caption.isEmpty ? [Float](repeating: 0, count: encoder.dimension)
                                                  : try encoder.encode(caption).pooled
            bar.update(i + 1)
        }
        self.encoder = encoder
    }

    /// Whether `clip` gives each clip its caption's token states too: true for a model with
    /// `DenoiserConfig.crossAttention`. False releases the text encoder (tens of MB).
    func keepTokenStates(_ keep: Bool) {
        if !keep { encoder = nil }
    }

    /// Clips in the dataset.
    var count: Int { captions.count }

    /// The pooled embedding of every distinct caption (the empty one's zeros included), in caption order.
    func distinctEmbeddings() -> [[Float]] { embeddings.keys.sorted().map { embeddings[$0]! } }

    /// The dataset's captions with their embeddings, for the model file (`CaptionIndex`).
    func captionIndex() -> CaptionIndex {
        let distinct = embeddings.keys.sorted()
        return CaptionIndex(captions: distinct, embeddings: distinct.map { embeddings[$0]! })
    }
    /// Frames, height and width of every clip (the latents' for a latent dataset).
    var shape: (frames: Int, height: Int, width: Int) {
        if let latents { return (latents.frames, latents.height, latents.width) }
        return (pixels!.frames, pixels!.height, pixels!.width)
    }
    /// Channels of every frame: 3 for pixels, the autoencoder's latent channels for latents.
    var channels: Int { latents?.channels ?? 3 }

    /// Clip `i` with its caption's embedding and its alternatives' (and their token states while
    /// `keepTokenStates(true)` holds).
    func clip(_ i: Int) throws -> TrainingClip {
        let video = try latents.map { try $0.clip(at: i) } ?? pixels!.clip(at: i)
        let conditions = try captions[i].map(condition)
        return TrainingClip(video: video, text: conditions[0].text, tokens: conditions[0].tokens,
                            alternatives: Array(conditions.dropFirst()))
    }

    /// One caption's embedding (and token states while kept).
    private func condition(_ caption: String) throws -> CaptionCondition {
        guard let encoder, !caption.isEmpty else { return CaptionCondition(text: embeddings[caption]!) }
        if tokenStates[caption] == nil { tokenStates[caption] = try encoder.encode(caption).tokens }
        return CaptionCondition(text: embeddings[caption]!, tokens: tokenStates[caption]!)
    }
}
