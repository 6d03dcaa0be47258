/// Self-attention over the pixels of each frame (used at the lowest resolution):
/// out = x + MHA(GN(x)) with the H*W positions as tokens.
final class SpatialAttention: Module {
    /// Normalisation; checkpoint key `norm`.
    let norm: GroupNorm
    /// Attention; checkpoint key `attention`.
    let attention: MultiHeadAttention

    init(channels: Int, heads: Int, groups: Int, rng: inout some RandomNumberGenerator) {
        norm = GroupNorm(groups: groups, channels: channels)
        attention = MultiHeadAttention(dim: channels, heads: heads, rng: &rng)
    }

    /// `x`: `[N, C, H, W]`.
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        // [N, C, H, W] -> tokens [N, HW, C].
        let tokens = norm(x).reshaped([n, c, h * w]).permuted([0, 2, 1])
        // Attend and return to the image layout.
        let y = attention(tokens).permuted([0, 2, 1]).reshaped([n, c, h, w])
        return x + y
    }
}
