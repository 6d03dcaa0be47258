import Foundation

/// Lookup table of learned vectors (PyTorch `nn.Embedding`; initialised N(0, 1)).
public final class Embedding: Module {
    /// `[count, dim]`; checkpoint key `weight`.
    public let weight: Parameter

    /// Creates `count` vectors of size `dim` drawn from `rng`.
    public init(count: Int, dim: Int, rng: inout some RandomNumberGenerator) {
        weight = Parameter(Tensor.randn([count, dim], using: &rng))
    }

    /// Rows for `indices`, shaped `indexShape + [dim]` (default `[indices.count, dim]`).
    public func callAsFunction(_ indices: [Int], shape: [Int]? = nil) -> Tensor {
        embedding(weight.value, indices: indices, indexShape: shape)
    }
}
