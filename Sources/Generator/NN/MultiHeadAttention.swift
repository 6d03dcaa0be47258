import Foundation

/// Multi-head attention with separate query/key/value/output projections (the layout of
/// diffusers' `Attention` and BERT's self-attention): self-attention when `context` is nil,
/// cross-attention otherwise.
public final class MultiHeadAttention: Module {
    /// Query projection `[dim, dim]`; checkpoint key `toQ`.
    public let toQ: Linear
    /// Key projection `[dim, contextDim]`; checkpoint key `toK`.
    public let toK: Linear
    /// Value projection `[dim, contextDim]`; checkpoint key `toV`.
    public let toV: Linear
    /// Output projection `[dim, dim]`; checkpoint key `toOut`.
    public let toOut: Linear
    /// Number of heads; `dim` is split evenly between them.
    public let heads: Int

    /// Creates the projections with weights drawn from `rng`.
    /// - Parameters:
    ///   - dim: model width (divisible by `heads`).
    ///   - contextDim: width of the cross-attention context (default `dim`).
    ///   - qkvBias: whether the q/k/v projections have biases (the output one always has).
    public init(dim: Int, heads: Int, contextDim: Int? = nil, qkvBias: Bool = true, rng: inout some RandomNumberGenerator) {
        precondition(dim % heads == 0, "MultiHeadAttention: dim \(dim) not divisible by \(heads) heads")
        self.heads = heads
        toQ = Linear(dim, dim, bias: qkvBias, rng: &rng)
        toK = Linear(contextDim ?? dim, dim, bias: qkvBias, rng: &rng)
        toV = Linear(contextDim ?? dim, dim, bias: qkvBias, rng: &rng)
        toOut = Linear(dim, dim, rng: &rng)
    }

    /// Attends from `x` (`[B, L, dim]`) to `context` (`[B, Lk, contextDim]`, default `x`).
    /// - Parameters:
    ///   - bias: additive score bias broadcastable to `[B, heads, L, Lk]` (e.g. `[heads, L, Lk]`).
    ///   - mask: additive 0/−∞ mask broadcastable to `[B, heads, L, Lk]` (see `attentionMask(keep:)`).
    /// - Returns: `[B, L, dim]`.
    public func callAsFunction(_ x: Tensor, context: Tensor? = nil, bias: Tensor? = nil, mask: Tensor? = nil) -> Tensor {
        precondition(x.rank == 3, "MultiHeadAttention: expected [B, L, dim], got \(x.shape)")
        let ctx = context ?? x
        let b = x.shape[0], l = x.shape[1], lk = ctx.shape[1], dim = toQ.weight.shape[0], dh = dim / heads
        let qp = toQ(x), kp = toK(ctx), vp = toV(ctx)
        // Short sequences: heads read in place from the projections (forward and backward).
        if let y = interleavedHeadsAttention(query: qp, key: kp, value: vp, heads: heads, bias: bias, mask: mask) {
            return toOut(y)
        }
        // Split heads: [B, L, dim] -> [B, heads, L, dh].
        let q = qp.reshaped([b, l, heads, dh]).permuted([0, 2, 1, 3])
        let k = kp.reshaped([b, lk, heads, dh]).permuted([0, 2, 1, 3])
        let v = vp.reshaped([b, lk, heads, dh]).permuted([0, 2, 1, 3])
        // Attend, merge heads, project out.
        var y = scaledDotProductAttention(query: q, key: k, value: v, bias: bias, mask: mask)
        y = y.permuted([0, 2, 1, 3]).reshaped([b, l, dim])
        return toOut(y)
    }
}
