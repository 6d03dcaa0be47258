/// DDIM sampling (Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models"), eq. 12:
///   x_s = sqrt(abar_s) x0_hat + sqrt(1 - abar_s - sigma_t^2) eps_hat + sigma_t z,
/// with sigma_t = eta sqrt((1 - abar_s) / (1 - abar_t)) sqrt(1 - abar_t / abar_s) (eq. 16),
/// s the next grid point and z ~ N(0, I). eta = 0 is the deterministic DDIM sampler (the
/// probability-flow ODE's first-order solver); eta = 1 matches DDPM's posterior variance.
///
/// Matches diffusers' `DDIMScheduler` (no thresholding) with `set_alpha_to_one` giving the final
/// abar (1, or abar_0 when false). Difference: the next grid point is read from the grid, where
/// diffusers uses t - T // N; the two agree for leading and trailing grids when N divides T, and
/// this one stays on the grid otherwise (e.g. with `.linspace`).
public struct DDIMScheduler: Scheduler, Sendable {
    /// The training noise schedule.
    public let schedule: NoiseSchedule
    /// What the model predicts.
    public let predictionType: PredictionType
    /// The inference grid, descending.
    public let timesteps: [Int]
    /// Stochasticity: 0 deterministic, 1 DDPM-like.
    public let eta: Double
    /// When set, the predicted x_0 is clamped to [-clipSample, clipSample] (diffusers' `clip_sample`).
    public let clipSample: Float?
    /// Whether eps_hat is re-derived from the clipped x_0 (diffusers' `use_clipped_model_output`).
    public let useClippedModelOutput: Bool
    /// abar after the last step: 1 (`set_alpha_to_one`, lands on clean data) or abar_0.
    public let finalAlphaCumprod: Double

    /// Creates a DDIM sampler.
    ///
    /// - Parameters:
    ///   - schedule: the training schedule.
    ///   - inferenceSteps: model evaluations per sample, `1...schedule.trainSteps`.
    ///   - spacing: how the grid is picked (diffusers' default is `.leading`).
    ///   - stepsOffset: diffusers' `steps_offset`, added to a leading grid.
    ///   - predictionType: what the model predicts.
    ///   - eta: stochasticity in [0, 1] (larger is allowed).
    ///   - clipSample: optional clamp of predicted x_0.
    ///   - useClippedModelOutput: re-derive eps from the clipped x_0.
    ///   - setAlphaToOne: the last step lands on abar = 1 (true) or abar_0 (false).
    public init(schedule: NoiseSchedule = .default, inferenceSteps: Int = 50,
                spacing: TimestepSpacing = .leading, stepsOffset: Int = 0,
                predictionType: PredictionType = .epsilon, eta: Double = 0,
                clipSample: Float? = nil, useClippedModelOutput: Bool = false, setAlphaToOne: Bool = true) {
        precondition(eta >= 0, "DDIM eta must be >= 0 (got \(eta))")
        self.schedule = schedule
        self.predictionType = predictionType
        self.eta = eta
        self.clipSample = clipSample
        self.useClippedModelOutput = useClippedModelOutput
        self.finalAlphaCumprod = setAlphaToOne ? 1 : schedule.alphasCumprod[0]
        self.timesteps = spacing.timesteps(count: inferenceSteps, trainSteps: schedule.trainSteps, offset: stepsOffset)
        precondition(timesteps.allSatisfy { $0 >= 0 && $0 < schedule.trainSteps },
                     "steps offset \(stepsOffset) pushes the grid outside 0..<\(schedule.trainSteps)")
    }

    /// Creates a DDIM sampler on an explicit grid, e.g. a distilled student's
    /// (`ProgressiveDistillation.studentTimesteps`); other parameters as in the main initialiser.
    ///
    /// - Precondition: `timesteps` is non-empty, strictly descending and inside the schedule.
    public init(schedule: NoiseSchedule, timesteps: [Int], predictionType: PredictionType, eta: Double = 0,
                clipSample: Float? = nil, useClippedModelOutput: Bool = false, setAlphaToOne: Bool = true) {
        precondition(!timesteps.isEmpty && zip(timesteps, timesteps.dropFirst()).allSatisfy { $0 > $1 },
                     "a DDIM grid must be non-empty and strictly descending: \(timesteps)")
        precondition(timesteps.allSatisfy { $0 >= 0 && $0 < schedule.trainSteps }, "grid outside 0..<\(schedule.trainSteps)")
        precondition(eta >= 0, "DDIM eta must be >= 0 (got \(eta))")
        self.schedule = schedule
        self.predictionType = predictionType
        self.eta = eta
        self.clipSample = clipSample
        self.useClippedModelOutput = useClippedModelOutput
        self.finalAlphaCumprod = setAlphaToOne ? 1 : schedule.alphasCumprod[0]
        self.timesteps = timesteps
    }

    /// Noise is needed whenever eta > 0.
    public func needsNoise(at timestep: Int) -> Bool { eta > 0 }

    /// abar at the grid point after `timestep`.
    func nextAlphaCumprod(after timestep: Int) -> Double {
        let s = previousTimestep(before: timestep)
        return s >= 0 ? schedule.alphaCumprod(s) : finalAlphaCumprod
    }

    /// sigma_t of eq. 16 for the step from `timestep` (before multiplying by eta).
    public func variance(at timestep: Int) -> Double {
        let abarT = schedule.alphaCumprod(timestep)
        let abarS = nextAlphaCumprod(after: timestep)
        return (1 - abarS) / (1 - abarT) * (1 - abarT / abarS)
    }

    /// One DDIM step (eq. 12); see the type's documentation.
    public mutating func step(modelOutput: [Float], timestep: Int, sample: [Float], noise: [Float]?) -> [Float] {
        checkStepInputs(modelOutput, timestep, sample, noise)
        let abarT = schedule.alphaCumprod(timestep)
        let abarS = nextAlphaCumprod(after: timestep)
        let alphaT = abarT.squareRoot(), sigmaT = (1 - abarT).squareRoot()

        // Predicted x_0 and eps.
        var x0 = predictionType.originalSample(from: modelOutput, sample: sample, alpha: alphaT, sigma: sigmaT)
        var eps = predictionType.noise(from: modelOutput, sample: sample, alpha: alphaT, sigma: sigmaT)
        if let limit = clipSample {
            x0 = VectorMath.clamp(x0, limit)
            if useClippedModelOutput {
                eps = PredictionType.x0.noise(from: x0, sample: sample, alpha: alphaT, sigma: sigmaT)
            }
        }

        // x_s = sqrt(abar_s) x_0 + sqrt(1 - abar_s - std^2) eps + std z.
        let std = eta * variance(at: timestep).squareRoot()
        let direction = max(1 - abarS - std * std, 0).squareRoot()
        guard eta > 0, let noise else {
            return VectorMath.combine(Float(abarS.squareRoot()), x0, Float(direction), eps)
        }
        return VectorMath.combine(Float(abarS.squareRoot()), x0, Float(direction), eps, Float(std), noise)
    }
}
