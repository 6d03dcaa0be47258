/// The autoencoder's residual block (the unconditioned form of `ResBlock`, as in the LDM
/// autoencoder): h = conv1(SiLU(GN(x))); out = skip(x) + conv2(SiLU(GN(h))), with a 1x1 `skip`
/// when the channel count changes. Norm and activation go through the fused `groupNormSiLU`.
final class AutoencoderResBlock: Module {
    /// Input normalisation; checkpoint key `norm1`.
    let norm1: GroupNorm
    /// First 3x3 convolution; checkpoint key `conv1`.
    let conv1: Conv2d
    /// Second normalisation; checkpoint key `norm2`.
    let norm2: GroupNorm
    /// Second 3x3 convolution; checkpoint key `conv2`.
    let conv2: Conv2d
    /// 1x1 projection of the input when the channel count changes; checkpoint key `skip`.
    let skip: Conv2d?

    init(_ inChannels: Int, _ outChannels: Int, groups: Int, rng: inout some RandomNumberGenerator) {
        norm1 = GroupNorm(groups: groups, channels: inChannels)
        conv1 = Conv2d(inChannels, outChannels, kernelSize: 3, padding: 1, rng: &rng)
        norm2 = GroupNorm(groups: groups, channels: outChannels)
        conv2 = Conv2d(outChannels, outChannels, kernelSize: 3, padding: 1, rng: &rng)
        skip = inChannels == outChannels ? nil : Conv2d(inChannels, outChannels, kernelSize: 1, rng: &rng)
    }

    /// `x`: `[N, C_in, H, W]`. Returns `[N, C_out, H, W]`.
    func callAsFunction(_ x: Tensor) -> Tensor {
        // Two norm-activation-convolution steps.
        var h = conv1(norm1.silu(x))
        h = conv2(norm2.silu(h))
        // Residual.
        return (skip?(x) ?? x) + h
    }
}
