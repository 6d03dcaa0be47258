import Foundation

/// Group normalisation layer (PyTorch `nn.GroupNorm`; weight ones, bias zeros).
public final class GroupNorm: Module {
    /// `[channels]`; checkpoint key `weight`.
    public let weight: Parameter?
    /// `[channels]`; checkpoint key `bias`.
    public let bias: Parameter?
    /// Number of channel groups.
    public let groups: Int
    /// Added to the variance.
    public let eps: Float

    /// Creates the layer; `channels` must be divisible by `groups`.
    public init(groups: Int, channels: Int, eps: Float = 1e-5, affine: Bool = true) {
        precondition(channels % groups == 0, "GroupNorm: \(channels) channels not divisible into \(groups) groups")
        self.groups = groups
        self.eps = eps
        weight = affine ? Parameter(Tensor.ones([channels])) : nil
        bias = affine ? Parameter(Tensor.zeros([channels])) : nil
    }

    /// Normalises `[N, C, ...]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        groupNorm(x, groups: groups, weight: weight?.value, bias: bias?.value, eps: eps)
    }

    /// SiLU(norm(x) · (1 + scale) + shift) in one fused op (`groupNormSiLU`); scale and shift
    /// `[N, C]`, both or neither.
    public func silu(_ x: Tensor, scale: Tensor? = nil, shift: Tensor? = nil) -> Tensor {
        groupNormSiLU(x, groups: groups, weight: weight?.value, bias: bias?.value, scale: scale, shift: shift, eps: eps)
    }
}
