/// A residual block with FiLM conditioning (the scale-shift norm of Dhariwal & Nichol 2021):
/// h = conv1(SiLU(GN(x))); h = GN(h) * (1 + scale) + shift with (scale, shift) = Linear(SiLU(emb));
/// out = skip(x) + conv2(SiLU(h)). `emb` carries the timestep and the pooled text embedding.
final class ResBlock: Module {
    /// Input normalisation; checkpoint key `norm1`.
    let norm1: GroupNorm
    /// First 3x3 convolution; checkpoint key `conv1`.
    let conv1: Conv2d
    /// Embedding -> (scale, shift) per channel; checkpoint key `film`.
    let film: Linear
    /// Normalisation modulated by FiLM; checkpoint key `norm2`.
    let norm2: GroupNorm
    /// Second 3x3 convolution; checkpoint key `conv2`.
    let conv2: Conv2d
    /// 1x1 projection of the input when the channel count changes; checkpoint key `skip`.
    let skip: Conv2d?
    /// Output channels.
    let outChannels: Int

    init(_ inChannels: Int, _ outChannels: Int, embeddingDim: Int, groups: Int, rng: inout some RandomNumberGenerator) {
        self.outChannels = outChannels
        norm1 = GroupNorm(groups: groups, channels: inChannels)
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, rng: &rng)
        film = Linear(embeddingDim, 2 * outChannels, rng: &rng)
        norm2 = GroupNorm(groups: groups, channels: outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, rng: &rng)
        skip = inChannels == outChannels ? nil : Conv2d(inChannels, outChannels, kernelSize: 1, rng: &rng)
    }

    /// `x`: `[N, C_in, H, W]`; `emb`: `[N, E]`. Returns `[N, C_out, H, W]`.
    func callAsFunction(_ x: Tensor, _ emb: Tensor) -> Tensor {
        let c = outChannels
        // First convolution.
        var h = conv1(norm1.silu(x))
        // FiLM from the embedding, fused with the second norm and activation.
        let scaleShift = film(emb.silu())
        let scale = scaleShift.slice(axis: 1, 0..<c), shift = scaleShift.slice(axis: 1, c..<2 * c)
        // Second convolution and residual.
        h = conv2(norm2.silu(h, scale: scale, shift: shift))
        return (skip?(x) ?? x) + h
    }
}
