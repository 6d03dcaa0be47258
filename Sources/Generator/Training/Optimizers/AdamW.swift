import Foundation

/// AdamW (Loshchilov & Hutter 2019) as PyTorch's `torch.optim.AdamW` computes it: bias-corrected
/// first and second moments and weight decay decoupled from the gradient
/// (p ← p·(1 − lr·wd) − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)).
public final class AdamW {
    /// Hyper-parameters.
    public struct Configuration: Sendable, Codable {
        /// Step size (the schedule may change it between steps via `learningRate`).
        public var learningRate: Float = 1e-3
        /// Decay of the first-moment average.
        public var beta1: Float = 0.9
        /// Decay of the second-moment average.
        public var beta2: Float = 0.999
        /// Added to the denominator.
        public var eps: Float = 1e-8
        /// Decoupled weight decay coefficient.
        public var weightDecay: Float = 1e-2
        /// Creates a configuration with PyTorch's defaults.
        public init(learningRate: Float = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8, weightDecay: Float = 1e-2) {
            self.learningRate = learningRate; self.beta1 = beta1; self.beta2 = beta2; self.eps = eps; self.weightDecay = weightDecay
        }
    }

    /// The optimised parameters, in order.
    public let parameters: [Parameter]
    /// Whether each parameter gets weight decay.
    public let decays: [Bool]
    /// Hyper-parameters.
    public var configuration: Configuration
    /// Current step size (shortcut for `configuration.learningRate`).
    public var learningRate: Float {
        get { configuration.learningRate }
        set { configuration.learningRate = newValue }
    }
    /// Number of steps taken.
    public private(set) var stepCount = 0
    private var m: [TensorStorage]
    private var v: [TensorStorage]

    /// Optimises `parameters`, all with weight decay.
    public convenience init(parameters: [Parameter], configuration: Configuration = .init()) {
        self.init(parameters: parameters, decays: [Bool](repeating: true, count: parameters.count), configuration: configuration)
    }

    /// Optimises a module's named parameters; those for which `noDecay(name)` is true (e.g.
    /// biases and norm scales) get no weight decay.
    public convenience init(namedParameters: [(String, Parameter)], configuration: Configuration = .init(),
                            noDecay: (String) -> Bool = { $0.hasSuffix("bias") || $0.contains("norm") }) {
        self.init(parameters: namedParameters.map { $0.1 }, decays: namedParameters.map { !noDecay($0.0) }, configuration: configuration)
    }

    private init(parameters: [Parameter], decays: [Bool], configuration: Configuration) {
        self.parameters = parameters
        self.decays = decays
        self.configuration = configuration
        m = parameters.map { TensorStorage(zeroedCount: $0.value.count) }
        v = parameters.map { TensorStorage(zeroedCount: $0.value.count) }
    }

    /// Applies one update to every parameter that has a gradient (others are skipped, as in
    /// PyTorch). Does not clear gradients.
    public func step() {
        stepCount += 1
        let c = configuration
        let bc1 = 1 - Foundation.pow(c.beta1, Float(stepCount))
        let bc2 = 1 - Foundation.pow(c.beta2, Float(stepCount))
        let stepSize = c.learningRate / bc1
        let invSqrtBc2 = 1 / bc2.squareRoot()
        for (i, p) in parameters.enumerated() {
            guard let g = p.grad else { continue }
            let decay = decays[i] ? 1 - c.learningRate * c.weightDecay : 1
            let pp = p.value.ptr, pg = g.ptr, pm = m[i].base, pv = v[i].base
            let b1 = c.beta1, b2 = c.beta2, eps = c.eps
            Parallel.forRange(p.value.count, grain: elementwiseGrain) { r in
                for j in r {
                    let gj = pg[j]
                    let mj = b1 * pm[j] + (1 - b1) * gj
                    let vj = b2 * pv[j] + (1 - b2) * gj * gj
                    pm[j] = mj
                    pv[j] = vj
                    pp[j] = pp[j] * decay - stepSize * mj / (vj.squareRoot() * invSqrtBc2 + eps)
                }
            }
        }
    }

    /// Drops every parameter's gradient.
    public func zeroGrad() { for p in parameters { p.zeroGrad() } }

    /// The moment buffers and step count, to save with a checkpoint (`m.i`, `v.i`, `step`).
    public func state() -> [String: Tensor] {
        var s: [String: Tensor] = ["step": Tensor(Float(stepCount))]
        for i in 0..<parameters.count {
            s["m.\(i)"] = Tensor(shape: parameters[i].shape, storage: m[i])
            s["v.\(i)"] = Tensor(shape: parameters[i].shape, storage: v[i])
        }
        return s
    }

    /// Restores what `state()` returned (copies the data).
    /// - Throws: `ModuleLoadError` when a buffer is missing or has the wrong shape.
    public func load(state: [String: Tensor]) throws {
        guard let step = state["step"] else { throw ModuleLoadError.missing("step") }
        for i in 0..<parameters.count {
            for (key, buffer) in [("m.\(i)", m[i]), ("v.\(i)", v[i])] {
                guard let t = state[key] else { throw ModuleLoadError.missing(key) }
                guard t.count == buffer.count else { throw ModuleLoadError.shapeMismatch(name: key, expected: parameters[i].shape, got: t.shape) }
                buffer.base.update(from: t.ptr, count: t.count)
            }
        }
        stepCount = Int(step.item)
    }
}
