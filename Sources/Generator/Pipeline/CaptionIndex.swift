import Foundation

/// The captions a model was trained on, kept in its file, so that a prompt can be placed against
/// what the model learned: the training captions' pooled text embeddings (unit length) under the
/// tensor `captions.embeddings` `[N, D]` and the captions themselves as a JSON array under the
/// metadata key `t2v.captions`. `train` writes them into its output and `distill` carries them
/// into every student; the denoiser loader skips tensors under `captions.`.
///
/// A prompt whose best cosine similarity to the training captions is below `farThreshold` is far
/// from everything the model saw: `render` still renders it, and says so (docs/text.md).
public struct CaptionIndex: Sendable, Equatable {
    /// Tensor-name prefix of the index in a model file.
    public static let prefix = "captions."
    /// The embeddings tensor.
    public static let embeddingsName = "captions.embeddings"
    /// Metadata key of the captions (a JSON array of strings, in the tensor's row order).
    public static let captionsKey = "t2v.captions"
    /// At most this many captions are kept (a caption grammar can produce tens of thousands); a
    /// larger set keeps an evenly spaced selection of its sorted captions.
    public static let maxCaptions = 4096
    /// Below this best cosine similarity a prompt is far from the training captions. Chosen from
    /// the held-out paraphrases of the scene corpus: the lowest of their best similarities to the
    /// training captions is 0.483, and 20 prompts of other subjects reach at most 0.412
    /// (`python3 scripts/prompt_familiarity.py`); 0.45 lies between the two.
    public static let farThreshold: Float = 0.45

    /// A training caption and its cosine similarity to a prompt.
    public struct Match: Sendable, Equatable, Codable {
        public var caption: String
        public var similarity: Float
        /// Whether the prompt is far from what the model learned (`similarity < farThreshold`).
        public var isFar: Bool { similarity < CaptionIndex.farThreshold }
    }

    /// The captions, in row order.
    public let captions: [String]
    /// Embedding width.
    public let dimension: Int
    /// `captions.count` x `dimension` unit vectors, row-major.
    private let vectors: [Float]

    /// An index of `captions` with their pooled embeddings (same order). Empty captions (the
    /// unconditional input) are left out, duplicates kept once; over `maxCaptions` an evenly
    /// spaced selection of the sorted captions is kept.
    ///
    /// - Precondition: one embedding per caption, all of one non-zero width.
    public init(captions: [String], embeddings: [[Float]]) {
        precondition(captions.count == embeddings.count, "CaptionIndex: \(captions.count) captions but \(embeddings.count) embeddings")
        var byCaption = [String: [Float]]()
        for (c, e) in zip(captions, embeddings) where !c.isEmpty { byCaption[c] = e }
        var kept = byCaption.keys.sorted()
        if kept.count > Self.maxCaptions {
            let n = kept.count
            kept = (0..<Self.maxCaptions).map { kept[$0 * n / Self.maxCaptions] }
        }
        let dimension = embeddings.first?.count ?? 0
        var vectors = [Float]()
        vectors.reserveCapacity(kept.count * dimension)
        for c in kept {
            let e = byCaption[c]!
            precondition(e.count == dimension, "CaptionIndex: embeddings of different widths")
            let norm = max(e.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
            vectors += e.map { $0 / norm }
        }
        self.captions = kept
        self.dimension = dimension
        self.vectors = vectors
    }

    private init(captions: [String], dimension: Int, vectors: [Float]) {
        self.captions = captions
        self.dimension = dimension
        self.vectors = vectors
    }

    /// The tensors and metadata to write into a model file.
    public func contents() throws -> (entries: [SafeTensors.Entry], metadata: [String: String]) {
        let json = try JSONSerialization.data(withJSONObject: captions, options: [.withoutEscapingSlashes])
        return ([SafeTensors.Entry(name: Self.embeddingsName, shape: [captions.count, dimension], floats: vectors)],
                [Self.captionsKey: String(decoding: json, as: UTF8.self)])
    }

    /// The index in the model file at `url`; nil when the file carries none (models written
    /// before the index existed).
    ///
    /// - Throws: `DenoiserError.badWeights` when the file cannot be read or its index is
    ///   inconsistent (the message names the file).
    public static func load(from url: URL) throws -> CaptionIndex? {
        func fail(_ message: String) -> DenoiserError { .badWeights(path: url.path, message: message) }
        let file: SafeTensors
        do { file = try SafeTensors(contentsOf: url) } catch { throw fail(error.localizedDescription) }
        guard let info = file.tensors.first(where: { $0.name == embeddingsName }) else { return nil }
        guard let text = file.metadata[captionsKey],
              let captions = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String] else {
            throw fail("it has the tensor '\(embeddingsName)' but no JSON list of captions under '\(captionsKey)'")
        }
        guard info.shape.count == 2, info.shape[0] == captions.count, info.shape[1] > 0 else {
            throw fail("'\(embeddingsName)' has shape \(info.shape) for \(captions.count) captions")
        }
        let vectors: [Float]
        do { vectors = try file.floats(embeddingsName) } catch { throw fail(error.localizedDescription) }
        return CaptionIndex(captions: captions, dimension: info.shape[1], vectors: vectors)
    }

    /// The `count` training captions most similar to `embedding` (cosine similarity), best first.
    ///
    /// - Precondition: `embedding.count == dimension`.
    public func nearest(to embedding: [Float], count: Int = 3) -> [Match] {
        precondition(embedding.count == dimension, "CaptionIndex: a \(embedding.count)-d embedding for a \(dimension)-d index")
        let norm = max(embedding.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        var scored = [(Int, Float)]()
        scored.reserveCapacity(captions.count)
        for i in captions.indices {
            var dot: Float = 0
            for j in 0..<dimension { dot += vectors[i * dimension + j] * embedding[j] }
            scored.append((i, dot / norm))
        }
        scored.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        return scored.prefix(count).map { Match(caption: captions[$0.0], similarity: $0.1) }
    }
}
