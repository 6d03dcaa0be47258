import Foundation

/// A dense layer y = x·Wᵀ + b with PyTorch's `[out, in]` weight layout, created empty (zeros)
/// for loading pretrained weights.
final class BertDense: Module {
    /// `[outFeatures, inFeatures]`; module key `weight`.
    let weight: Parameter
    /// `[outFeatures]`; module key `bias`.
    let bias: Parameter

    init(_ inFeatures: Int, _ outFeatures: Int) {
        weight = Parameter(Tensor.zeros([outFeatures, inFeatures]))
        bias = Parameter(Tensor.zeros([outFeatures]))
    }

    func callAsFunction(_ x: Tensor) -> Tensor { linear(x, weight: weight.value, bias: bias.value) }
}

/// BERT's input embeddings: word + absolute position + token type (always type 0 here), then
/// LayerNorm.
final class BertEmbeddings: Module {
    /// `[vocabSize, hidden]`; module key `word`.
    let word: Parameter
    /// `[maxPositionEmbeddings, hidden]`; module key `position`.
    let position: Parameter
    /// `[typeVocabSize, hidden]`; module key `tokenType`.
    let tokenType: Parameter
    /// Module key `norm`.
    let norm: LayerNorm

    init(_ c: BertConfig) {
        word = Parameter(Tensor.zeros([c.vocabSize, c.hiddenSize]))
        position = Parameter(Tensor.zeros([c.maxPositionEmbeddings, c.hiddenSize]))
        tokenType = Parameter(Tensor.zeros([c.typeVocabSize, c.hiddenSize]))
        norm = LayerNorm(c.hiddenSize, eps: c.layerNormEps)
    }

    /// `[n, hidden]` for the token ids of one sequence.
    func callAsFunction(_ ids: [Int]) -> Tensor {
        let n = ids.count
        var x = embedding(word.value, indices: ids)
        x = x + position.value.slice(axis: 0, 0..<n)
        x = x + tokenType.value.slice(axis: 0, 0..<1)
        return norm(x)
    }
}

/// One post-LayerNorm BERT transformer layer.
final class BertLayer: Module {
    /// Self-attention projections; module keys `query`, `key`, `value`, `attentionOutput`.
    let query, key, value, attentionOutput: BertDense
    /// Module key `attentionNorm`.
    let attentionNorm: LayerNorm
    /// Feed-forward layers; module keys `intermediate`, `output`.
    let intermediate, output: BertDense
    /// Module key `outputNorm`.
    let outputNorm: LayerNorm
    let heads: Int

    init(_ c: BertConfig) {
        let h = c.hiddenSize
        query = BertDense(h, h); key = BertDense(h, h); value = BertDense(h, h)
        attentionOutput = BertDense(h, h)
        attentionNorm = LayerNorm(h, eps: c.layerNormEps)
        intermediate = BertDense(h, c.intermediateSize)
        output = BertDense(c.intermediateSize, h)
        outputNorm = LayerNorm(h, eps: c.layerNormEps)
        heads = c.numAttentionHeads
    }

    /// `[n, hidden]` → `[n, hidden]`; every token attends to every token.
    func callAsFunction(_ x: Tensor) -> Tensor {
        let n = x.shape[0], hidden = x.shape[1], dh = hidden / heads
        // Self-attention: [n, hidden] -> [heads, n, dh] per projection.
        func split(_ t: Tensor) -> Tensor { t.reshaped([n, heads, dh]).permuted([1, 0, 2]) }
        var a = scaledDotProductAttention(query: split(query(x)), key: split(key(x)), value: split(value(x)))
        a = a.permuted([1, 0, 2]).reshaped([n, hidden])
        // Project, residual, LayerNorm.
        let y = attentionNorm(attentionOutput(a) + x)
        // Feed-forward with exact GELU, residual, LayerNorm.
        return outputNorm(output(intermediate(y).gelu()) + y)
    }
}

/// BERT's encoder (Hugging Face `BertModel` without the pooler): embeddings, then
/// `numHiddenLayers` transformer layers. Returns the last hidden states.
final class BertModel: Module {
    /// Module key `embeddings`.
    let embeddings: BertEmbeddings
    /// Module keys `layers.N`.
    let layers: [BertLayer]
    let config: BertConfig

    init(_ c: BertConfig) {
        config = c
        embeddings = BertEmbeddings(c)
        layers = (0..<c.numHiddenLayers).map { _ in BertLayer(c) }
    }

    /// Last hidden states `[n, hidden]` of one sequence of token ids (no padding).
    func callAsFunction(_ ids: [Int]) -> Tensor {
        withoutGradients {
            var x = embeddings(ids)
            for layer in layers { x = layer(x) }
            return x
        }
    }
}
