import Foundation

/// Weights of one linear layer: weight [outFeatures, inFeatures] (PyTorch layout), bias.
struct LinearWeights: Sendable {
    var weight: [Float]
    var bias: [Float]
    var inFeatures: Int
    var outFeatures: Int
}

/// Weights of one LayerNorm.
struct NormWeights: Sendable {
    var gamma: [Float]
    var beta: [Float]
}

/// Weights of one BERT transformer layer.
struct BertLayerWeights: Sendable {
    var query, key, value, attentionOutput: LinearWeights
    var attentionNorm: NormWeights
    var intermediate, output: LinearWeights
    var outputNorm: NormWeights
}

/// All weights of the BERT encoder.
struct BertWeights: Sendable {
    var wordEmbeddings: [Float]
    var positionEmbeddings: [Float]
    var tokenTypeEmbeddings: [Float]
    var embeddingNorm: NormWeights
    var layers: [BertLayerWeights]
}

extension BertWeights {
    /// Loads the weights from a Hugging Face BertModel checkpoint. This is the one place where
    /// checkpoint names map to the model: `embeddings.*` and `encoder.layer.N.*`, with or
    /// without a leading `bert.` (BertForX checkpoints); `pooler.*` and
    /// `embeddings.position_ids` are not used.
    /// - Throws: `TextEncoderError.badWeights` when a tensor is missing or misshapen.
    static func load(from file: TextWeightsFile, config c: BertConfig) throws -> BertWeights {
        let prefix = file.entries["bert.embeddings.word_embeddings.weight"] != nil ? "bert." : ""
        func t(_ name: String, _ shape: [Int]) throws -> [Float] { try file.floats(prefix + name, shape: shape) }
        func linear(_ name: String, _ inF: Int, _ outF: Int) throws -> LinearWeights {
            LinearWeights(weight: try t(name + ".weight", [outF, inF]), bias: try t(name + ".bias", [outF]),
                          inFeatures: inF, outFeatures: outF)
        }
        func norm(_ name: String) throws -> NormWeights {
            NormWeights(gamma: try t(name + ".weight", [c.hiddenSize]), beta: try t(name + ".bias", [c.hiddenSize]))
        }
        let h = c.hiddenSize, f = c.intermediateSize
        var layers: [BertLayerWeights] = []
        for i in 0..<c.numHiddenLayers {
            let p = "encoder.layer.\(i)."
            layers.append(BertLayerWeights(
                query: try linear(p + "attention.self.query", h, h),
                key: try linear(p + "attention.self.key", h, h),
                value: try linear(p + "attention.self.value", h, h),
                attentionOutput: try linear(p + "attention.output.dense", h, h),
                attentionNorm: try norm(p + "attention.output.LayerNorm"),
                intermediate: try linear(p + "intermediate.dense", h, f),
                output: try linear(p + "output.dense", f, h),
                outputNorm: try norm(p + "output.LayerNorm")))
        }
        return BertWeights(
            wordEmbeddings: try t("embeddings.word_embeddings.weight", [c.vocabSize, h]),
            positionEmbeddings: try t("embeddings.position_embeddings.weight", [c.maxPositionEmbeddings, h]),
            tokenTypeEmbeddings: try t("embeddings.token_type_embeddings.weight", [c.typeVocabSize, h]),
            embeddingNorm: try norm("embeddings.LayerNorm"),
            layers: layers)
    }
}
