import Foundation

/// Exponential moving average of parameter values (shadow ← d·shadow + (1 − d)·value),
/// for sampling from smoothed weights. With `warmup`, the decay used at update n is
/// min(decay, (1 + n)/(10 + n)) so early averages are not dominated by the initial weights.
public final class EMA {
    /// The tracked parameters.
    public let parameters: [Parameter]
    /// Target decay per update.
    public var decay: Float
    /// Whether to ramp the decay up over the first updates.
    public var warmup: Bool
    /// Number of updates so far.
    public private(set) var updates = 0
    /// Averaged values, one per parameter (same shapes).
    public let shadow: [Tensor]

    /// Starts the average at the parameters' current values.
    public init(parameters: [Parameter], decay: Float = 0.999, warmup: Bool = true) {
        self.parameters = parameters
        self.decay = decay
        self.warmup = warmup
        shadow = parameters.map { $0.value.copy() }
    }

    /// Folds the current parameter values into the average.
    public func update() {
        let d = warmup ? min(decay, Float(1 + updates) / Float(10 + updates)) : decay
        updates += 1
        // A fixed parameter keeps its value (d·x + (1 − d)·x need not round back to x).
        for (p, s) in zip(parameters, shadow) where p.trainable {
            let ps = s.ptr, pv = p.value.ptr
            Parallel.forRange(s.count, grain: elementwiseGrain) { r in
                for i in r { ps[i] = d * ps[i] + (1 - d) * pv[i] }
            }
        }
    }

    /// Copies the averaged values into the parameters (e.g. before saving a sampling checkpoint).
    public func copyToParameters() {
        for (p, s) in zip(parameters, shadow) { p.value.assign(s) }
    }
}
