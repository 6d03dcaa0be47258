/// The text encoder's output for one text.
public struct TextEmbedding: Sendable, Equatable {
    /// The sentence embedding: mean of the last hidden states over the tokens, L2-normalised
    /// (length 1, or all zeros never: every text has at least [CLS] and [SEP]).
    public var pooled: [Float]
    /// The last hidden states, row-major [tokenCount, dimension] (what cross-attention uses).
    public var tokens: [Float]
    /// Number of tokens, [CLS] and [SEP] included.
    public var tokenCount: Int
    /// Width of each vector (384 for all-MiniLM-L6-v2).
    public var dimension: Int { pooled.count }

    /// Creates an embedding; `tokens.count` must be `tokenCount * pooled.count`.
    public init(pooled: [Float], tokens: [Float], tokenCount: Int) {
        precondition(tokens.count == tokenCount * pooled.count,
                     "tokens has \(tokens.count) values, expected \(tokenCount) x \(pooled.count)")
        self.pooled = pooled
        self.tokens = tokens
        self.tokenCount = tokenCount
    }

    /// The hidden state of token `index` (0 is [CLS]).
    public func token(_ index: Int) -> ArraySlice<Float> {
        precondition(index >= 0 && index < tokenCount, "token \(index) out of 0..<\(tokenCount)")
        return tokens[(index * dimension)..<((index + 1) * dimension)]
    }
}
