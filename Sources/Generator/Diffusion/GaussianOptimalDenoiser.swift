/// The exact minimum-mean-squared-error denoiser for data whose every element is independent
/// Gaussian, x_0[i] ~ N(mean[i], std[i]^2): what an infinitely trained network would output.
/// It lets the samplers be tested, and their error measured, without any network.
///
/// Derivation (per element, dropping i). With x_t = a x_0 + s eps, a = sqrt(abar_t),
/// s = sqrt(1 - abar_t), eps ~ N(0, 1) independent of x_0, the pair (x_0, x_t) is jointly
/// Gaussian with Var(x_t) = a^2 std^2 + s^2, Cov(eps, x_t) = s, Cov(x_0, x_t) = a std^2 and
/// E[x_t] = a mean. The conditional means (the MMSE predictors) are therefore
///   eps*(x_t) = s (x_t - a mean) / (a^2 std^2 + s^2)
///             = sqrt(1 - abar) (x_t - sqrt(abar) mean) / (abar std^2 + 1 - abar),
///   x0*(x_t)  = mean + a std^2 (x_t - a mean) / (a^2 std^2 + s^2),
///   v*(x_t)   = a eps* - s x0*,
/// which satisfy x_t = a x0* + s eps* exactly. A perfect sampler driven by them reproduces
/// N(mean, std^2) (the reverse process of a Gaussian is Gaussian).
public struct GaussianOptimalDenoiser: Sendable {
    /// Per-element data mean.
    public let mean: [Float]
    /// Per-element data standard deviation.
    public let std: [Float]
    /// The noise schedule defining x_t.
    public let schedule: NoiseSchedule
    /// The parameterisation `callAsFunction` returns.
    public let prediction: PredictionType

    /// Creates the denoiser.
    ///
    /// - Precondition: `mean.count == std.count`, every std > 0.
    public init(mean: [Float], std: [Float], schedule: NoiseSchedule, prediction: PredictionType) {
        precondition(mean.count == std.count, "mean has \(mean.count) elements but std has \(std.count)")
        precondition(std.allSatisfy { $0 > 0 }, "every standard deviation must be positive")
        self.mean = mean
        self.std = std
        self.schedule = schedule
        self.prediction = prediction
    }

    /// The optimal output in `prediction` for sample `x` at timestep `t`.
    ///
    /// - Precondition: `x.count == mean.count`.
    public func callAsFunction(_ x: [Float], _ t: Int) -> [Float] {
        precondition(x.count == mean.count, "sample has \(x.count) elements but the data has \(mean.count)")
        let abar = schedule.alphaCumprod(t)
        let a = abar.squareRoot(), s = (1 - abar).squareRoot()
        var out = [Float](repeating: 0, count: x.count)
        for i in 0..<x.count {
            let m = Double(mean[i]), variance = Double(std[i]) * Double(std[i])
            let centred = Double(x[i]) - a * m
            let denominator = abar * variance + 1 - abar
            let eps = s * centred / denominator
            let x0 = m + a * variance * centred / denominator
            switch prediction {
            case .epsilon: out[i] = Float(eps)
            case .x0: out[i] = Float(x0)
            case .v: out[i] = Float(a * eps - s * x0)
            }
        }
        return out
    }
}
