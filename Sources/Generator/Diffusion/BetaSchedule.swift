import Foundation

/// How the per-step noise variances beta_1...beta_T of a DDPM forward process are laid out.
///
/// The names and formulas follow diffusers' `beta_schedule` values so that a configuration can
/// be carried over: `linear` (Ho et al. 2020, betas evenly spaced from `start` to `end`),
/// `scaledLinear` (latent diffusion: square roots evenly spaced, then squared) and `cosine`
/// (Nichol & Dhariwal 2021, diffusers' "squaredcos_cap_v2": abar(t) = cos^2((t/T + 0.008) / 1.008
/// * pi/2), betas capped at `maxBeta`). `shiftedCosine` is that schedule with its log-SNR moved
/// by a constant (Hoogeboom et al. 2023, "simple diffusion"): a negative shift adds noise at every
/// step, for data more redundant than the schedule was designed for (many near-identical frames,
/// higher resolutions). `custom` takes explicit betas, e.g. to reproduce a schedule computed
/// elsewhere bit for bit.
public enum BetaSchedule: Sendable, Codable, Equatable {
    /// Betas evenly spaced from `start` to `end` (the design's default: 1e-4 to 0.02).
    case linear(start: Double, end: Double)
    /// sqrt(beta) evenly spaced from sqrt(start) to sqrt(end), then squared (Stable Diffusion uses
    /// 0.00085 to 0.012).
    case scaledLinear(start: Double, end: Double)
    /// The cosine schedule of Nichol & Dhariwal 2021 with offset s = 0.008, betas capped at `maxBeta`.
    case cosine(maxBeta: Double)
    /// The cosine schedule with log SNR(t) moved by `logSNRShift` (abar(t) = sigmoid(logit(abar_cos(t))
    /// + shift)), betas capped at `maxBeta`; a shift of 0 is `cosine` exactly.
    case shiftedCosine(maxBeta: Double, logSNRShift: Double)
    /// Explicit betas, one per training step, each in (0, 1).
    case custom(betas: [Double])

    /// The design's default: linear betas from 1e-4 to 0.02.
    public static let `default` = BetaSchedule.linear(start: 1e-4, end: 0.02)
    /// diffusers' "squaredcos_cap_v2" (cosine with betas capped at 0.999).
    public static let squaredCosCapV2 = BetaSchedule.cosine(maxBeta: 0.999)

    /// The betas for `steps` training steps, computed in Double.
    ///
    /// - Precondition: `steps > 0`; for `.custom`, `steps` equals the number of betas.
    public func betas(steps: Int) -> [Double] {
        precondition(steps > 0, "a noise schedule needs at least one training step (got \(steps))")
        switch self {
        case let .linear(start, end):
            return Self.linspace(start, end, steps)
        case let .scaledLinear(start, end):
            return Self.linspace(start.squareRoot(), end.squareRoot(), steps).map { $0 * $0 }
        case let .cosine(maxBeta):
            func alphaBar(_ t: Double) -> Double {
                let c = cos((t + 0.008) / 1.008 * Double.pi / 2)
                return c * c
            }
            return (0..<steps).map { i in
                let t1 = Double(i) / Double(steps), t2 = Double(i + 1) / Double(steps)
                return min(1 - alphaBar(t2) / alphaBar(t1), maxBeta)
            }
        case let .shiftedCosine(maxBeta, shift):
            guard shift != 0 else { return BetaSchedule.cosine(maxBeta: maxBeta).betas(steps: steps) }
            func alphaBar(_ t: Double) -> Double {
                let c = cos((t + 0.008) / 1.008 * Double.pi / 2)
                let a = c * c / (cos(0.008 / 1.008 * Double.pi / 2) * cos(0.008 / 1.008 * Double.pi / 2))
                guard a > 0 else { return 0 }
                guard a < 1 else { return 1 }
                return 1 / (1 + exp(-(log(a / (1 - a)) + shift)))
            }
            return (0..<steps).map { i in
                let t1 = Double(i) / Double(steps), t2 = Double(i + 1) / Double(steps)
                let a1 = alphaBar(t1)
                return a1 > 0 ? min(1 - alphaBar(t2) / a1, maxBeta) : maxBeta
            }
        case let .custom(betas):
            precondition(betas.count == steps,
                         "custom beta schedule has \(betas.count) betas but \(steps) training steps were asked for")
            return betas
        }
    }

    /// `count` evenly spaced values from `a` to `b` inclusive.
    static func linspace(_ a: Double, _ b: Double, _ count: Int) -> [Double] {
        if count == 1 { return [a] }
        let step = (b - a) / Double(count - 1)
        return (0..<count).map { i in i == count - 1 ? b : a + step * Double(i) }
    }
}
