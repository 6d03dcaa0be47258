import Foundation

/// Fully connected layer y = x·Wᵀ + b (PyTorch `nn.Linear`, same parameter layout and
/// default initialisation: uniform ±1/√inFeatures).
public final class Linear: Module {
    /// `[outFeatures, inFeatures]`; checkpoint key `weight`.
    public let weight: Parameter
    /// `[outFeatures]` or nil; checkpoint key `bias`.
    public let bias: Parameter?

    /// Creates the layer with weights drawn from `rng`.
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true, rng: inout some RandomNumberGenerator) {
        let bound = 1 / Float(inFeatures).squareRoot()
        weight = Parameter(Tensor.uniform([outFeatures, inFeatures], low: -bound, high: bound, using: &rng))
        self.bias = bias ? Parameter(Tensor.uniform([outFeatures], low: -bound, high: bound, using: &rng)) : nil
    }

    /// Applies the layer to `[..., inFeatures]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        linear(x, weight: weight.value, bias: bias?.value)
    }
}
