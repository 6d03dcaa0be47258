import Foundation

/// DPM-Solver++(2M): the second-order multistep solver of the diffusion ODE in data-prediction
/// form (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
/// Models", Algorithm 2). With lambda = log(alpha / sigma), h = lambda_s - lambda_t and
/// r = h_prev / h, one step from t to the next grid point s is
///   x_s = (sigma_s / sigma_t) x_t - alpha_s (e^{-h} - 1) D,
///   D = (1 + 1/(2r)) x0_t - 1/(2r) x0_prev   (x0_prev: the data prediction one step earlier),
/// and the first step (no history) uses the first-order update D = x0_t, which equals DDIM.
///
/// Matches diffusers' `DPMSolverMultistepScheduler` with `algorithm_type="dpmsolver++"`,
/// `solver_order=2`, `solver_type="midpoint"`, no thresholding, default timestep grids
/// (`TimestepSpacing.solverTimesteps`): with `finalSigma == .zero` (diffusers' default) the last
/// step is first order and lands on x_0 itself; with `.sigmaMin` it stops at abar_0's noise
/// level and `lowerOrderFinal` makes the last step first order when there are fewer than 15 steps.
/// Deterministic: it never needs noise. Limits: orders 1 and 2 only, no SDE variants, no
/// Karras sigmas.
public struct DPMSolverMultistepScheduler: Scheduler, Sendable {
    /// Where the last step lands.
    public enum FinalSigma: String, Sendable, Codable, CaseIterable {
        /// On clean data (sigma = 0): the last step returns the data prediction.
        case zero
        /// On the noise level of training step 0.
        case sigmaMin = "sigma_min"
    }

    /// The training noise schedule.
    public let schedule: NoiseSchedule
    /// What the model predicts.
    public let predictionType: PredictionType
    /// The inference grid, descending.
    public let timesteps: [Int]
    /// Solver order: 1 (DPM-Solver++(1) = DDIM) or 2.
    public let order: Int
    /// Use a first-order last step when there are fewer than 15 steps (diffusers' default true).
    public let lowerOrderFinal: Bool
    /// Where the last step lands.
    public let finalSigma: FinalSigma

    /// Data prediction and grid index of the previous step, for the second-order update.
    private var history: (x0: [Float], index: Int)?

    /// Creates a DPM-Solver++ sampler.
    ///
    /// - Parameters:
    ///   - schedule: the training schedule.
    ///   - inferenceSteps: model evaluations per sample (10-25 is typical).
    ///   - spacing: how the grid is picked (diffusers' default is `.linspace`).
    ///   - stepsOffset: diffusers' `steps_offset` (leading grids only).
    ///   - predictionType: what the model predicts.
    ///   - order: 1 or 2.
    ///   - lowerOrderFinal: see the property.
    ///   - finalSigma: see the property.
    public init(schedule: NoiseSchedule = .default, inferenceSteps: Int = 20,
                spacing: TimestepSpacing = .linspace, stepsOffset: Int = 0,
                predictionType: PredictionType = .epsilon, order: Int = 2,
                lowerOrderFinal: Bool = true, finalSigma: FinalSigma = .zero) {
        precondition(order == 1 || order == 2, "DPM-Solver++ order must be 1 or 2 (got \(order))")
        self.schedule = schedule
        self.predictionType = predictionType
        self.order = order
        self.lowerOrderFinal = lowerOrderFinal
        self.finalSigma = finalSigma
        self.timesteps = spacing.solverTimesteps(count: inferenceSteps, trainSteps: schedule.trainSteps, offset: stepsOffset)
        precondition(timesteps.allSatisfy { $0 >= 0 && $0 < schedule.trainSteps },
                     "steps offset \(stepsOffset) pushes the grid outside 0..<\(schedule.trainSteps)")
    }

    /// Never: the solver is deterministic.
    public func needsNoise(at timestep: Int) -> Bool { false }

    /// Forgets the previous data prediction.
    public mutating func reset() { history = nil }

    /// (alpha, sigma) at grid index `i`; index `timesteps.count` is the final point.
    func alphaSigma(index i: Int) -> (Double, Double) {
        if i < timesteps.count { return (schedule.alpha(timesteps[i]), schedule.sigma(timesteps[i])) }
        switch finalSigma {
        case .zero: return (1, 0)
        case .sigmaMin: return (schedule.alpha(0), schedule.sigma(0))
        }
    }

    /// One DPM-Solver++ step (Algorithm 2); see the type's documentation.
    public mutating func step(modelOutput: [Float], timestep: Int, sample: [Float], noise: [Float]?) -> [Float] {
        checkStepInputs(modelOutput, timestep, sample, noise)
        let i = stepIndex(of: timestep)
        let (alphaT, sigmaT) = alphaSigma(index: i)
        let (alphaS, sigmaS) = alphaSigma(index: i + 1)

        // Data prediction x0_t.
        let x0 = predictionType.originalSample(from: modelOutput, sample: sample, alpha: alphaT, sigma: sigmaT)
        let previous = history
        history = (x0, i)

        // Landing on sigma = 0: h is infinite and the update reduces to x_s = x0_t.
        if sigmaS == 0 { return x0 }

        let lambdaT = log(alphaT) - log(sigmaT)
        let lambdaS = log(alphaS) - log(sigmaS)
        let h = lambdaS - lambdaT
        let phi = -alphaS * expm1(-h)          // -alpha_s (e^{-h} - 1)
        let ratio = sigmaS / sigmaT

        let isLast = i == timesteps.count - 1
        let forceFirstOrder = isLast && (finalSigma == .zero || (lowerOrderFinal && timesteps.count < 15))
        guard order == 2, !forceFirstOrder, let previous, previous.index == i - 1 else {
            // First order: x_s = (sigma_s / sigma_t) x_t + phi x0_t.
            return VectorMath.combine(Float(ratio), sample, Float(phi), x0)
        }

        // Second order (midpoint): D = (1 + 1/(2r)) x0_t - 1/(2r) x0_prev.
        let (alphaP, sigmaP) = alphaSigma(index: i - 1)
        let lambdaP = log(alphaP) - log(sigmaP)
        let r = (lambdaT - lambdaP) / h
        let half = 0.5 / r
        return VectorMath.combine(Float(ratio), sample, Float(phi * (1 + half)), x0, Float(-phi * half), previous.x0)
    }
}
