/// Ancestral DDPM sampling (Ho et al. 2020, "Denoising Diffusion Probabilistic Models").
///
/// Each step predicts x_0 from the model output (eq. 15 for epsilon), optionally clips it, and
/// samples the Gaussian posterior q(x_s | x_t, x_0) of eqs. 6-7:
///   mean = sqrt(abar_s) b / (1 - abar_t) x_0 + sqrt(a) (1 - abar_s) / (1 - abar_t) x_t,
///   variance = (1 - abar_s) / (1 - abar_t) b   ("fixed_small", the posterior variance tilde-beta)
///   or b ("fixed_large"),
/// where s is the next grid point, a = abar_t / abar_s and b = 1 - a (so on the full 1000-step
/// grid b = beta_t; on a strided grid this is the respacing of Nichol & Dhariwal 2021, sec. 4).
///
/// Matches diffusers' `DDPMScheduler` (variance types fixed_small / fixed_large, no
/// thresholding): noise is added only for t > 0, the variance is clamped at 1e-20, and the step
/// after the last grid point goes to clean data (abar = 1). Limits: learned variances are not
/// supported; schedule coefficients are Double where diffusers uses float32 (differences are
/// ~1e-6 relative).
public struct DDPMScheduler: Scheduler, Sendable {
    /// Which posterior variance the ancestral step uses.
    public enum VarianceType: String, Sendable, Codable, CaseIterable {
        /// tilde-beta_t = (1 - abar_s) / (1 - abar_t) b: the true posterior variance (lower bound).
        case fixedSmall = "fixed_small"
        /// b = 1 - abar_t / abar_s (upper bound; Ho et al. found both work).
        case fixedLarge = "fixed_large"
    }

    /// The training noise schedule.
    public let schedule: NoiseSchedule
    /// What the model predicts.
    public let predictionType: PredictionType
    /// The inference grid, descending.
    public let timesteps: [Int]
    /// The posterior variance used when adding noise.
    public let varianceType: VarianceType
    /// When set, the predicted x_0 is clamped to [-clipSample, clipSample] before the posterior
    /// mean is formed (diffusers' `clip_sample` / `clip_sample_range`); nil disables clipping.
    public let clipSample: Float?

    /// Creates a DDPM sampler taking `inferenceSteps` steps (1000 = every training step).
    ///
    /// - Parameters:
    ///   - schedule: the training schedule.
    ///   - inferenceSteps: model evaluations per sample, `1...schedule.trainSteps`.
    ///   - spacing: how the grid is picked (diffusers' default is `.leading`).
    ///   - stepsOffset: diffusers' `steps_offset`, added to a leading grid.
    ///   - predictionType: what the model predicts.
    ///   - varianceType: posterior variance.
    ///   - clipSample: optional clamp of predicted x_0.
    public init(schedule: NoiseSchedule = .default, inferenceSteps: Int = 1000,
                spacing: TimestepSpacing = .leading, stepsOffset: Int = 0,
                predictionType: PredictionType = .epsilon, varianceType: VarianceType = .fixedSmall,
                clipSample: Float? = nil) {
        self.schedule = schedule
        self.predictionType = predictionType
        self.varianceType = varianceType
        self.clipSample = clipSample
        self.timesteps = spacing.timesteps(count: inferenceSteps, trainSteps: schedule.trainSteps, offset: stepsOffset)
        precondition(timesteps.allSatisfy { $0 >= 0 && $0 < schedule.trainSteps },
                     "steps offset \(stepsOffset) pushes the grid outside 0..<\(schedule.trainSteps)")
    }

    /// Noise is added at every step with t > 0.
    public func needsNoise(at timestep: Int) -> Bool { timestep > 0 }

    /// The variance of the step from `timestep` to the next grid point.
    public func variance(at timestep: Int) -> Double {
        let abarT = schedule.alphaCumprod(timestep)
        let abarS = schedule.alphaCumprod(previousTimestep(before: timestep))
        let currentBeta = 1 - abarT / abarS
        switch varianceType {
        case .fixedSmall: return max((1 - abarS) / (1 - abarT) * currentBeta, 1e-20)
        case .fixedLarge: return currentBeta
        }
    }

    /// One ancestral step (eqs. 6-7); see the type's documentation.
    public mutating func step(modelOutput: [Float], timestep: Int, sample: [Float], noise: [Float]?) -> [Float] {
        checkStepInputs(modelOutput, timestep, sample, noise)
        let abarT = schedule.alphaCumprod(timestep)
        let abarS = schedule.alphaCumprod(previousTimestep(before: timestep))
        let currentAlpha = abarT / abarS
        let currentBeta = 1 - currentAlpha

        // Predicted x_0, optionally clipped.
        var x0 = predictedOriginal(modelOutput: modelOutput, timestep: timestep, sample: sample)
        if let limit = clipSample { x0 = VectorMath.clamp(x0, limit) }

        // Posterior mean (eq. 7).
        let x0Coefficient = abarS.squareRoot() * currentBeta / (1 - abarT)
        let sampleCoefficient = currentAlpha.squareRoot() * (1 - abarS) / (1 - abarT)
        guard needsNoise(at: timestep), let noise else {
            return VectorMath.combine(Float(x0Coefficient), x0, Float(sampleCoefficient), sample)
        }

        // Plus sqrt(variance) z.
        let std = variance(at: timestep).squareRoot()
        return VectorMath.combine(Float(x0Coefficient), x0, Float(sampleCoefficient), sample, Float(std), noise)
    }
}
