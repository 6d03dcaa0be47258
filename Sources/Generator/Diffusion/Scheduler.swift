/// A reverse-process sampler over a fixed grid of inference timesteps: given the network's
/// output at x_t, it returns the sample at the next (less noisy) grid point.
///
/// Conforming types are value types configured at `init` with the noise schedule, prediction
/// type and number of inference steps. Steps consume no hidden randomness: when
/// `needsNoise(at:)` is true the caller passes a fresh N(0, I) array (from the project's seeded
/// generator), so a seed reproduces a sample bit for bit. Multistep solvers keep a history of
/// earlier model outputs, hence `mutating`; `reset()` forgets it before a new sample.
///
/// Usage (see `DiffusionSampler` for a driver):
/// ```
/// var x = initialNoise
/// for t in scheduler.timesteps {
///     let out = try model(x, t)
///     x = scheduler.step(modelOutput: out, timestep: t, sample: x,
///                        noise: scheduler.needsNoise(at: t) ? rng.normal(count: x.count) : nil)
/// }
/// ```
public protocol Scheduler {
    /// The training noise schedule the model was trained with.
    var schedule: NoiseSchedule { get }
    /// What the model predicts (epsilon, v or x0).
    var predictionType: PredictionType { get }
    /// The inference timesteps, descending; the model is evaluated once per entry.
    var timesteps: [Int] { get }

    /// Whether `step` at `timestep` needs a noise array (stochastic samplers).
    func needsNoise(at timestep: Int) -> Bool

    /// Takes one reverse step from `sample` (x_t at `timestep`, which must be in `timesteps`)
    /// given the model output there; returns the sample at the next grid point (clean data
    /// after the last one). `noise` must be a fresh N(0, I) array of the sample's size when
    /// `needsNoise(at: timestep)` is true and is ignored otherwise.
    ///
    /// - Precondition: `timestep` is in `timesteps`; counts agree; noise present when needed.
    mutating func step(modelOutput: [Float], timestep: Int, sample: [Float], noise: [Float]?) -> [Float]

    /// Forgets any history kept between steps (multistep solvers); call before a new sample.
    mutating func reset()
}

extension Scheduler {
    /// Standard deviation of the initial noise x_T (1 for variance-preserving schedules).
    public var initNoiseSigma: Float { 1 }

    /// Number of model evaluations one sample takes.
    public var stepCount: Int { timesteps.count }

    /// Default: nothing to forget.
    public mutating func reset() {}

    /// Position of `timestep` in `timesteps`.
    ///
    /// - Precondition: `timestep` is in the grid.
    public func stepIndex(of timestep: Int) -> Int {
        guard let index = timesteps.firstIndex(of: timestep) else {
            preconditionFailure("timestep \(timestep) is not in this scheduler's grid \(timesteps)")
        }
        return index
    }

    /// The grid point after `timestep`: the next entry of `timesteps`, or -1 (clean data) after
    /// the last one.
    public func previousTimestep(before timestep: Int) -> Int {
        let index = stepIndex(of: timestep)
        return index + 1 < timesteps.count ? timesteps[index + 1] : -1
    }

    /// The clean sample x_0 the model output implies at `timestep`.
    public func predictedOriginal(modelOutput: [Float], timestep: Int, sample: [Float]) -> [Float] {
        predictionType.originalSample(from: modelOutput, sample: sample,
                                      alpha: schedule.alpha(timestep), sigma: schedule.sigma(timestep))
    }

    /// Checks the arrays a step receives; shared by the conforming types.
    func checkStepInputs(_ modelOutput: [Float], _ timestep: Int, _ sample: [Float], _ noise: [Float]?) {
        precondition(modelOutput.count == sample.count,
                     "model output has \(modelOutput.count) elements but the sample has \(sample.count)")
        if needsNoise(at: timestep) {
            precondition(noise?.count == sample.count,
                         "step at timestep \(timestep) needs a noise array of \(sample.count) elements (got \(noise.map { String($0.count) } ?? "none"))")
        }
    }
}
