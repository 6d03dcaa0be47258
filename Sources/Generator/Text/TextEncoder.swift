import Foundation

/// The pretrained sentence encoder all-MiniLM-L6-v2 (BERT: 6 layers, hidden 384, 12 heads,
/// feed-forward 1536, exact GELU, LayerNorm eps 1e-12), run offline on the CPU: BERT uncased
/// tokenisation truncated to 256 tokens, the encoder's last hidden states, their mean over the
/// tokens, then L2 normalisation — the same pipeline as
/// `SentenceTransformer(dir).encode(texts, normalize_embeddings=True)`.
///
/// Inference only (no gradients). The weights are read once (about 91 MB) and never change
/// after loading, and gradient recording is off per thread during `encode`, so one encoder may
/// be shared between threads (hence `@unchecked Sendable`).
///
/// ```swift
/// let encoder = try TextEncoder(directory: URL(fileURLWithPath: "models/all-MiniLM-L6-v2"))
/// let e = try encoder.encode("a cyberpunk city at night")
/// e.pooled      // 384 floats, length 1
/// e.tokens      // [e.tokenCount, 384] last hidden states
/// ```
public final class TextEncoder: @unchecked Sendable {
    /// The folder the model files were read from.
    public let directory: URL
    /// The encoder's shape, from `config.json`.
    public let config: BertConfig
    /// The tokenizer, from `vocab.txt`.
    public let tokenizer: BertTokenizer
    /// The BERT encoder with the weights of `model.safetensors`.
    let model: BertModel

    /// Width of the embeddings (384).
    public var dimension: Int { config.hiddenSize }
    /// Most tokens per text, [CLS] and [SEP] included (256); longer texts are truncated.
    public var maxLength: Int { tokenizer.maxLength }

    /// Loads the model from a folder holding `model.safetensors`, `vocab.txt` and `config.json`
    /// (and optionally sentence-transformers' `sentence_bert_config.json` for the maximum length
    /// and `1_Pooling/config.json`, which must ask for mean pooling).
    /// - Throws: `TextEncoderError` naming the file that is missing or malformed.
    public init(directory: URL) throws {
        let fm = FileManager.default
        for name in TextEncoder.requiredFiles where !fm.fileExists(atPath: directory.appendingPathComponent(name).path) {
            throw TextEncoderError.missingFile(path: directory.appendingPathComponent(name).path)
        }
        let config: BertConfig = try Self.readJSON(directory.appendingPathComponent("config.json"))
        guard config.hiddenAct == "gelu" else {
            throw TextEncoderError.unreadableFile(path: directory.appendingPathComponent("config.json").path,
                                                  reason: "hidden_act \(config.hiddenAct) is not supported (only gelu)")
        }
        guard config.numAttentionHeads > 0, config.hiddenSize % config.numAttentionHeads == 0 else {
            throw TextEncoderError.unreadableFile(path: directory.appendingPathComponent("config.json").path,
                                                  reason: "hidden_size \(config.hiddenSize) is not a multiple of num_attention_heads \(config.numAttentionHeads)")
        }
        var maxLength = 256
        let stConfig = directory.appendingPathComponent("sentence_bert_config.json")
        if fm.fileExists(atPath: stConfig.path) {
            let st: SentenceBertConfig = try Self.readJSON(stConfig)
            maxLength = st.maxSeqLength ?? maxLength
        }
        let pooling = directory.appendingPathComponent("1_Pooling/config.json")
        if fm.fileExists(atPath: pooling.path) {
            let p: PoolingConfig = try Self.readJSON(pooling)
            guard p.poolingModeMeanTokens == true, p.poolingModeClsToken != true, p.poolingModeMaxTokens != true else {
                throw TextEncoderError.unreadableFile(path: pooling.path, reason: "only mean pooling is supported")
            }
        }
        maxLength = max(2, min(maxLength, config.maxPositionEmbeddings))
        self.directory = directory
        self.config = config
        self.tokenizer = try BertTokenizer(vocabularyFile: directory.appendingPathComponent("vocab.txt"), maxLength: maxLength)
        guard tokenizer.wordPiece.vocabulary.count == config.vocabSize else {
            throw TextEncoderError.unreadableFile(
                path: directory.appendingPathComponent("vocab.txt").path,
                reason: "\(tokenizer.wordPiece.vocabulary.count) tokens, config.json says vocab_size \(config.vocabSize)")
        }
        self.model = BertModel(config)
        try model.loadWeights(from: directory.appendingPathComponent("model.safetensors"))
    }

    /// The files a model folder must hold.
    public static let requiredFiles = ["model.safetensors", "vocab.txt", "config.json"]

    /// Embeds one text (any string; the empty string gives the embedding of "[CLS] [SEP]").
    /// - Throws: nothing at present; declared `throws` so callers keep working if encoding ever
    ///   gains a failure mode (it is a pure computation on loaded weights today).
    public func encode(_ text: String) throws -> TextEmbedding {
        encode(ids: tokenizer.encode(text).ids)
    }

    /// Embeds several texts, each on its own (no padding, so each result equals `encode(_:)`).
    /// - Throws: see `encode(_:)`.
    public func encode(_ texts: [String]) throws -> [TextEmbedding] {
        try texts.map { try encode($0) }
    }

    /// Runs the encoder on token ids (as from `tokenizer.encode`; [CLS] first, [SEP] last):
    /// last hidden states and their normalised mean. Always in fp32, whatever
    /// `ComputePrecision.current` is, so a prompt's embedding (and the caches and caption checks
    /// keyed on it) does not depend on the precision the denoiser runs in.
    public func encode(ids: [Int]) -> TextEmbedding {
        precondition(!ids.isEmpty && ids.count <= config.maxPositionEmbeddings,
                     "encode(ids:): \(ids.count) tokens, expected 1...\(config.maxPositionEmbeddings)")
        precondition(ids.allSatisfy { $0 >= 0 && $0 < config.vocabSize },
                     "encode(ids:): a token id is outside 0..<\(config.vocabSize)")
        let hidden = ComputePrecision.with(.fp32) { model(ids) }
        let n = ids.count, h = config.hiddenSize
        // Mean pooling over the (all real) tokens, then L2 normalisation as torch's
        // F.normalize: v / max(|v|, 1e-12).
        var pooled = hidden.mean(axis: 0).toArray()
        let norm = pooled.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        let inv = 1 / max(norm, 1e-12)
        for i in 0..<h { pooled[i] *= inv }
        return TextEmbedding(pooled: pooled, tokens: hidden.toArray(), tokenCount: n)
    }

    /// The cosine of the angle between two vectors of equal length (0 when either is zero).
    public static func cosineSimilarity(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "cosineSimilarity: lengths \(a.count) and \(b.count) differ")
        var dot: Double = 0, na: Double = 0, nb: Double = 0
        for i in a.indices {
            dot += Double(a[i]) * Double(b[i])
            na += Double(a[i]) * Double(a[i])
            nb += Double(b[i]) * Double(b[i])
        }
        guard na > 0, nb > 0 else { return 0 }
        return Float(dot / (na.squareRoot() * nb.squareRoot()))
    }

    /// The cosine similarity of two embeddings' pooled vectors.
    public static func cosineSimilarity(_ a: TextEmbedding, _ b: TextEmbedding) -> Float {
        cosineSimilarity(a.pooled, b.pooled)
    }

    private static func readJSON<T: Decodable>(_ url: URL) throws -> T {
        do {
            return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
        } catch {
            throw TextEncoderError.unreadableFile(path: url.path, reason: "\(error)")
        }
    }
}

/// sentence-transformers' `sentence_bert_config.json`.
private struct SentenceBertConfig: Decodable {
    var maxSeqLength: Int?
    enum CodingKeys: String, CodingKey { case maxSeqLength = "max_seq_length" }
}

/// sentence-transformers' `1_Pooling/config.json`.
private struct PoolingConfig: Decodable {
    var poolingModeMeanTokens: Bool?
    var poolingModeClsToken: Bool?
    var poolingModeMaxTokens: Bool?
    enum CodingKeys: String, CodingKey {
        case poolingModeMeanTokens = "pooling_mode_mean_tokens"
        case poolingModeClsToken = "pooling_mode_cls_token"
        case poolingModeMaxTokens = "pooling_mode_max_tokens"
    }
}
