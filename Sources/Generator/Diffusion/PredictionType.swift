/// What the denoising network predicts from a noisy sample x_t = alpha_t x_0 + sigma_t eps
/// (alpha^2 + sigma^2 = 1). Raw values are diffusers' `prediction_type` strings.
///
/// The three parameterisations carry the same information given x_t:
/// - epsilon: eps; then x_0 = (x_t - sigma eps) / alpha (Ho et al. 2020, eq. 15).
/// - v: v = alpha eps - sigma x_0 (Salimans & Ho 2022, sec. 4); then x_0 = alpha x_t - sigma v and
///   eps = alpha v + sigma x_t.
/// - x0: x_0 itself; then eps = (x_t - alpha x_0) / sigma.
/// Few-step samplers and distillation are better conditioned with v or x0 (epsilon divides by
/// alpha, which vanishes at high noise).
public enum PredictionType: String, Sendable, Codable, CaseIterable {
    /// The network predicts the noise eps.
    case epsilon = "epsilon"
    /// The network predicts the velocity v = alpha eps - sigma x_0.
    case v = "v_prediction"
    /// The network predicts the clean sample x_0.
    case x0 = "sample"

    /// The clean sample x_0 implied by `output` at a point with signal scale `alpha` and noise
    /// scale `sigma` (x0 prediction from epsilon needs `alpha > 0`).
    ///
    /// - Precondition: `output.count == sample.count`.
    public func originalSample(from output: [Float], sample: [Float], alpha: Double, sigma: Double) -> [Float] {
        precondition(output.count == sample.count,
                     "model output has \(output.count) elements but the sample has \(sample.count)")
        switch self {
        case .epsilon: return VectorMath.subtractScaledThenDivide(sample, Float(sigma), output, Float(alpha))
        case .v: return VectorMath.combine(Float(alpha), sample, -Float(sigma), output)
        case .x0: return output
        }
    }

    /// The noise eps implied by `output` (epsilon from an x0 prediction needs `sigma > 0`).
    ///
    /// - Precondition: `output.count == sample.count`.
    public func noise(from output: [Float], sample: [Float], alpha: Double, sigma: Double) -> [Float] {
        precondition(output.count == sample.count,
                     "model output has \(output.count) elements but the sample has \(sample.count)")
        switch self {
        case .epsilon: return output
        case .v: return VectorMath.combine(Float(alpha), output, Float(sigma), sample)
        case .x0: return VectorMath.subtractScaledThenDivide(sample, Float(alpha), output, Float(sigma))
        }
    }

    /// The value this parameterisation assigns to a clean sample `x0` and noise `noise`: the
    /// training target, or a conversion of a prediction into this parameterisation.
    ///
    /// - Precondition: `x0.count == noise.count`.
    public func target(x0: [Float], noise: [Float], alpha: Double, sigma: Double) -> [Float] {
        precondition(x0.count == noise.count, "x0 has \(x0.count) elements but noise has \(noise.count)")
        switch self {
        case .epsilon: return noise
        case .v: return VectorMath.combine(-Float(sigma), x0, Float(alpha), noise)
        case .x0: return x0
        }
    }

    /// Re-expresses a model output in another parameterisation at the same point x_t.
    public func convert(_ output: [Float], to other: PredictionType, sample: [Float],
                        alpha: Double, sigma: Double) -> [Float] {
        if other == self { return output }
        switch (self, other) {
        case (.epsilon, .x0), (.v, .x0):
            return originalSample(from: output, sample: sample, alpha: alpha, sigma: sigma)
        case (.x0, .epsilon), (.v, .epsilon):
            return noise(from: output, sample: sample, alpha: alpha, sigma: sigma)
        default:
            let x0 = originalSample(from: output, sample: sample, alpha: alpha, sigma: sigma)
            let eps = noise(from: output, sample: sample, alpha: alpha, sigma: sigma)
            return other.target(x0: x0, noise: eps, alpha: alpha, sigma: sigma)
        }
    }
}
