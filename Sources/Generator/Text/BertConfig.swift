/// The shape of a BERT encoder, read from a Hugging Face `config.json` (snake_case keys). The
/// defaults are all-MiniLM-L6-v2's.
public struct BertConfig: Sendable, Codable, Equatable {
    /// Vocabulary size (rows of the word embedding table).
    public var vocabSize: Int = 30522
    /// Width of every hidden state.
    public var hiddenSize: Int = 384
    /// Number of transformer layers.
    public var numHiddenLayers: Int = 6
    /// Number of attention heads; `hiddenSize` must be a multiple of it.
    public var numAttentionHeads: Int = 12
    /// Width of the feed-forward layer.
    public var intermediateSize: Int = 1536
    /// Feed-forward activation; only "gelu" (the exact, erf-based GELU) is supported.
    public var hiddenAct: String = "gelu"
    /// Epsilon of every LayerNorm.
    public var layerNormEps: Float = 1e-12
    /// Rows of the position embedding table (the longest input the weights allow).
    public var maxPositionEmbeddings: Int = 512
    /// Rows of the token type embedding table.
    public var typeVocabSize: Int = 2

    /// Width of one attention head.
    public var headSize: Int { hiddenSize / numAttentionHeads }

    /// all-MiniLM-L6-v2's configuration.
    public init() {}

    enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size"
        case hiddenSize = "hidden_size"
        case numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads"
        case intermediateSize = "intermediate_size"
        case hiddenAct = "hidden_act"
        case layerNormEps = "layer_norm_eps"
        case maxPositionEmbeddings = "max_position_embeddings"
        case typeVocabSize = "type_vocab_size"
    }

    /// Decodes a `config.json`; missing keys keep their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = BertConfig()
        vocabSize = try c.decodeIfPresent(Int.self, forKey: .vocabSize) ?? d.vocabSize
        hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? d.hiddenSize
        numHiddenLayers = try c.decodeIfPresent(Int.self, forKey: .numHiddenLayers) ?? d.numHiddenLayers
        numAttentionHeads = try c.decodeIfPresent(Int.self, forKey: .numAttentionHeads) ?? d.numAttentionHeads
        intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? d.intermediateSize
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? d.hiddenAct
        layerNormEps = try c.decodeIfPresent(Float.self, forKey: .layerNormEps) ?? d.layerNormEps
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? d.maxPositionEmbeddings
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? d.typeVocabSize
    }
}
