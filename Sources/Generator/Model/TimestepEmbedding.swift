import Foundation

/// Sinusoidal timestep features followed by a two-layer MLP (Ho et al. 2020, after the
/// Transformer's position encoding): t -> [cos(t f_i), sin(t f_i)] with f_i = 10000^(-i/half),
/// then Linear -> SiLU -> Linear.
final class TimestepEmbedding: Module {
    /// First projection `[embeddingDim, features]`; checkpoint key `linear1`.
    let linear1: Linear
    /// Second projection `[embeddingDim, embeddingDim]`; checkpoint key `linear2`.
    let linear2: Linear
    /// Width of the sinusoidal features (even).
    let features: Int

    init(features: Int, embeddingDim: Int, rng: inout some RandomNumberGenerator) {
        precondition(features % 2 == 0, "timestep features must be even (got \(features))")
        self.features = features
        linear1 = Linear(features, embeddingDim, rng: &rng)
        linear2 = Linear(embeddingDim, embeddingDim, rng: &rng)
    }

    /// The sinusoidal features of `timesteps`, `[B, features]` (a constant, no gradient).
    static func sinusoidal(_ timesteps: [Int], features: Int) -> Tensor {
        let half = features / 2
        var data = [Float](repeating: 0, count: timesteps.count * features)
        for (b, t) in timesteps.enumerated() {
            for i in 0..<half {
                let angle = Double(t) * Foundation.exp(-Foundation.log(10000.0) * Double(i) / Double(half))
                data[b * features + i] = Float(Foundation.cos(angle))
                data[b * features + half + i] = Float(Foundation.sin(angle))
            }
        }
        return Tensor(shape: [timesteps.count, features], data: data)
    }

    /// `[B, embeddingDim]` for the batch's timesteps.
    func callAsFunction(_ timesteps: [Int]) -> Tensor {
        var h = Self.sinusoidal(timesteps, features: features)
        h = linear1(h).silu()
        return linear2(h)
    }
}
