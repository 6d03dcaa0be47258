import Foundation

/// The variance-preserving forward process of a discrete-time diffusion model (Ho et al. 2020):
/// q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) with abar_t = prod_{s<=t} (1 - beta_s).
///
/// Timesteps are 0-based as in diffusers: `0..<trainSteps`, where step 0 is the least noisy.
/// The index `-1` stands for clean data (abar = 1, alpha = 1, sigma = 0); samplers step to it last.
/// Everything is computed in Double; arrays are Float. `alpha` is sqrt(abar) and `sigma` is
/// sqrt(1 - abar) throughout, so x_t = alpha x_0 + sigma eps.
public struct NoiseSchedule: Sendable, Codable, Equatable {
    /// How the betas are laid out.
    public let betaSchedule: BetaSchedule
    /// Number of discrete training timesteps T (the design uses 1000).
    public let trainSteps: Int
    /// beta_t for t in 0..<T.
    public let betas: [Double]
    /// abar_t = prod_{s<=t} (1 - beta_s) for t in 0..<T (diffusers' `alphas_cumprod`).
    public let alphasCumprod: [Double]

    /// The design's default: 1000 steps, linear betas from 1e-4 to 0.02.
    public static let `default` = NoiseSchedule(.default, trainSteps: 1000)

    /// Builds the schedule for `trainSteps` steps.
    ///
    /// - Precondition: `trainSteps > 0` and every beta lies in (0, 1).
    public init(_ betaSchedule: BetaSchedule, trainSteps: Int = 1000) {
        let betas = betaSchedule.betas(steps: trainSteps)
        precondition(betas.allSatisfy { $0 > 0 && $0 < 1 }, "every beta must lie in (0, 1)")
        self.betaSchedule = betaSchedule
        self.trainSteps = trainSteps
        self.betas = betas
        var product = 1.0
        alphasCumprod = betas.map { beta in
            product *= 1 - beta
            return product
        }
    }

    private enum CodingKeys: String, CodingKey { case betaSchedule, trainSteps }

    /// Decodes the beta layout and step count and recomputes the arrays.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(try c.decode(BetaSchedule.self, forKey: .betaSchedule),
                  trainSteps: try c.decode(Int.self, forKey: .trainSteps))
    }

    /// Encodes the beta layout and step count only (the arrays follow from them).
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(betaSchedule, forKey: .betaSchedule)
        try c.encode(trainSteps, forKey: .trainSteps)
    }

    /// abar_t; 1 for `t == -1` (clean data).
    ///
    /// - Precondition: `-1 <= t < trainSteps`.
    public func alphaCumprod(_ t: Int) -> Double {
        precondition(t >= -1 && t < trainSteps, "timestep \(t) is outside -1..<\(trainSteps)")
        return t < 0 ? 1 : alphasCumprod[t]
    }

    /// alpha_t = sqrt(abar_t), the signal scale of x_t.
    public func alpha(_ t: Int) -> Double { alphaCumprod(t).squareRoot() }

    /// sigma_t = sqrt(1 - abar_t), the noise scale of x_t.
    public func sigma(_ t: Int) -> Double { (1 - alphaCumprod(t)).squareRoot() }

    /// Signal-to-noise ratio SNR(t) = alpha_t^2 / sigma_t^2 = abar_t / (1 - abar_t); infinite at t = -1.
    public func snr(_ t: Int) -> Double {
        let a = alphaCumprod(t)
        return a / (1 - a)
    }

    /// log SNR(t) = 2 log(alpha_t / sigma_t), DPM-Solver's 2 lambda_t.
    public func logSNR(_ t: Int) -> Double { log(snr(t)) }

    /// Samples q(x_t | x_0): returns sqrt(abar_t) x0 + sqrt(1 - abar_t) noise, with `noise` ~ N(0, I)
    /// supplied by the caller.
    ///
    /// - Precondition: `x0.count == noise.count`.
    public func addNoise(x0: [Float], noise: [Float], timestep t: Int) -> [Float] {
        VectorMath.combine(Float(alpha(t)), x0, Float(sigma(t)), noise)
    }

    /// Noises a batch: `x0` and `noise` hold `timesteps.count` equal-sized samples back to back;
    /// sample i is noised to `timesteps[i]`.
    ///
    /// - Precondition: both counts equal and divisible by `timesteps.count`.
    public func addNoise(x0: [Float], noise: [Float], timesteps: [Int]) -> [Float] {
        perSample(x0, noise, timesteps) { t in (Float(alpha(t)), Float(sigma(t))) }
    }

    /// The velocity v = alpha_t eps - sigma_t x0 (Salimans & Ho 2022), the v-prediction target.
    public func velocity(x0: [Float], noise: [Float], timestep t: Int) -> [Float] {
        VectorMath.combine(-Float(sigma(t)), x0, Float(alpha(t)), noise)
    }

    /// Batched `velocity(x0:noise:timestep:)`, one timestep per sample as in `addNoise(x0:noise:timesteps:)`.
    public func velocity(x0: [Float], noise: [Float], timesteps: [Int]) -> [Float] {
        perSample(x0, noise, timesteps) { t in (-Float(sigma(t)), Float(alpha(t))) }
    }

    /// Applies `a_i * x + b_i * y` to each of the `timesteps.count` chunks.
    private func perSample(_ x: [Float], _ y: [Float], _ timesteps: [Int],
                           _ coefficients: (Int) -> (Float, Float)) -> [Float] {
        precondition(x.count == y.count, "x0 has \(x.count) elements but noise has \(y.count)")
        precondition(!timesteps.isEmpty && x.count % timesteps.count == 0,
                     "\(x.count) elements cannot be split into \(timesteps.count) samples")
        let n = x.count / timesteps.count
        return [Float](unsafeUninitializedCapacity: x.count) { out, initialized in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeBufferPointer { yp in
                    for (s, t) in timesteps.enumerated() {
                        let (a, b) = coefficients(t)
                        for i in s * n..<(s + 1) * n { out[i] = a * xp[i] + b * yp[i] }
                    }
                }
            }
            initialized = x.count
        }
    }
}
