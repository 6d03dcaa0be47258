import Foundation

/// Layer normalisation over the last dimension (PyTorch `nn.LayerNorm(dim)`).
public final class LayerNorm: Module {
    /// `[dim]`; checkpoint key `weight`.
    public let weight: Parameter?
    /// `[dim]`; checkpoint key `bias`.
    public let bias: Parameter?
    /// Added to the variance.
    public let eps: Float

    /// Creates the layer (weight ones, bias zeros).
    public init(_ dim: Int, eps: Float = 1e-5, affine: Bool = true) {
        self.eps = eps
        weight = affine ? Parameter(Tensor.ones([dim])) : nil
        bias = affine ? Parameter(Tensor.zeros([dim])) : nil
    }

    /// Normalises `[..., dim]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        layerNorm(x, weight: weight?.value, bias: bias?.value, eps: eps)
    }
}
