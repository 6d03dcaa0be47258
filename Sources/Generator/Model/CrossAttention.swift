/// The prompts' token states for `CrossAttention`: one row of `maxTokens` per conditioning item
/// (a clip, or an image of joint training), zero-padded, with each item's count of real tokens.
///
/// An item with no tokens (the unconditional branch, a dropped caption) attends to one all-zero
/// token instead: its keys and values are the projections' biases, so the layer adds a learned
/// constant there, as a "null" context.
public struct TokenStates {
    /// `[items, maxTokens, textDim]`.
    public let values: Tensor
    /// Real tokens per item (0: the null context).
    public let counts: [Int]

    /// Packs per-item token states (`count × textDim` values each, row-major; empty: the null
    /// context) into one padded batch.
    public init(_ items: [[Float]], textDim: Int) {
        let counts = items.map { $0.count / textDim }
        let width = max(1, counts.max() ?? 1)
        var data = [Float](repeating: 0, count: items.count * width * textDim)
        for (i, item) in items.enumerated() {
            precondition(item.count % textDim == 0, "TokenStates: \(item.count) values are not whole tokens of \(textDim)")
            for (j, v) in item.enumerated() { data[i * width * textDim + j] = v }
        }
        self.values = Tensor(shape: [items.count, width, textDim], data: data)
        self.counts = counts
    }

    /// Token states already packed: `values` `[items, maxTokens, textDim]` (zero beyond each
    /// item's count), `counts` real tokens per item.
    public init(values: Tensor, counts: [Int]) {
        precondition(values.rank == 3 && values.shape[0] == counts.count && counts.allSatisfy { $0 <= values.shape[1] },
                     "TokenStates: \(counts.count) items with counts \(counts) do not fit \(values.shape)")
        self.values = values
        self.counts = counts
    }

    /// The additive key mask `[items, 1, 1, maxTokens]`: each item's real tokens, or its first
    /// (all-zero) token when it has none.
    var mask: Tensor {
        let width = values.shape[1]
        return attentionMask(keep: counts.map { n in (0..<width).map { $0 < max(n, 1) } })
    }
}

/// Cross-attention from the pixels of every frame to its item's prompt tokens:
/// out = x + MHA(GN(x), tokens), the H·W positions of all the item's frames as queries.
/// The output projection starts at zero, so a fresh block is the identity and a model trained
/// without token states is where training starts.
final class CrossAttention: Module {
    /// Normalisation; checkpoint key `norm`.
    let norm: GroupNorm
    /// Attention (queries from the frames, keys and values from `textDim`-wide tokens);
    /// checkpoint key `attention`.
    let attention: MultiHeadAttention

    init(channels: Int, textDim: Int, heads: Int, groups: Int, rng: inout some RandomNumberGenerator) {
        norm = GroupNorm(groups: groups, channels: channels)
        attention = MultiHeadAttention(dim: channels, heads: heads, contextDim: textDim, rng: &rng)
        for p in [attention.toOut.weight] + [attention.toOut.bias].compactMap({ $0 }) { p.assign(Tensor.zeros(p.shape)) }
    }

    /// `x`: `[items · framesPerItem, C, H, W]`, the frames of each item consecutive.
    func callAsFunction(_ x: Tensor, tokens: TokenStates, framesPerItem f: Int) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let items = tokens.counts.count
        precondition(n == items * f, "CrossAttention: \(n) frames for \(items) items of \(f) frames")
        // [items·F, C, H, W] -> queries [items, F·H·W, C].
        let queries = norm(x).reshaped([items, f, c, h * w]).permuted([0, 1, 3, 2]).reshaped([items, f * h * w, c])
        let y = attention(queries, context: tokens.values, mask: tokens.mask)
        // Back to the frames' layout.
        return x + y.reshaped([items, f, h * w, c]).permuted([0, 1, 3, 2]).reshaped([n, c, h, w])
    }
}
