/// Drives a `Scheduler` with any denoiser to draw one sample; independent of the network.
///
/// The denoiser is a closure so that anything can sit behind it: the video UNet, an analytic
/// model in tests, or a cached pipeline. Randomness comes only from `noise(count)`, which must
/// return `count` N(0, I) values (pass the project's seeded generator for reproducibility); it is
/// called once for x_T and once per stochastic step, in step order.
public enum DiffusionSampler {
    /// Samples without guidance: x_T = initNoiseSigma * noise(count), then one scheduler step per
    /// timestep with `model(x, t)`.
    ///
    /// - Parameters:
    ///   - count: elements in one sample (e.g. frames * channels * height * width).
    ///   - scheduler: the configured sampler; copied and reset, so the caller's value is untouched.
    ///   - initialSample: x_T to start from instead of drawing it (its size must be `count`).
    ///   - noise: returns `n` standard normal values.
    ///   - model: the denoiser's output at (x, t), in the scheduler's prediction type.
    ///   - progress: called after each step; return false to cancel.
    /// - Returns: the final sample (clean data).
    /// - Throws: `DiffusionError.cancelled` when `progress` returns false,
    ///   `DiffusionError.modelOutputSize`/`.noiseSize` on wrongly sized arrays, or what the
    ///   closures throw.
    public static func sample<S: Scheduler>(
        count: Int, scheduler: S, initialSample: [Float]? = nil,
        noise: (_ count: Int) throws -> [Float],
        model: (_ x: [Float], _ t: Int) throws -> [Float],
        progress: ((SamplingProgress) -> Bool)? = nil
    ) throws -> [Float] {
        try sample(count: count, scheduler: scheduler, initialSample: initialSample, noise: noise,
                   guidance: .none, model: { x, t, _ in try model(x, t) }, progress: progress)
    }

    /// Samples with classifier-free guidance: at each step the model is evaluated on the
    /// `.conditional` branch and, where `guidance.applies(at: t)`, on the `.unconditional`
    /// branch (null or negative-prompt embedding), and the outputs are combined by `guidance`.
    /// With scale 1, or outside the guidance interval, the unconditional branch is not evaluated.
    ///
    /// Parameters, result and errors as in `sample(count:scheduler:initialSample:noise:model:progress:)`.
    public static func sample<S: Scheduler>(
        count: Int, scheduler: S, initialSample: [Float]? = nil,
        noise: (_ count: Int) throws -> [Float],
        guidance: ClassifierFreeGuidance,
        model: (_ x: [Float], _ t: Int, _ branch: GuidanceBranch) throws -> [Float],
        progress: ((SamplingProgress) -> Bool)? = nil
    ) throws -> [Float] {
        precondition(count > 0, "a sample needs at least one element (got \(count))")
        var scheduler = scheduler
        scheduler.reset()

        func drawNoise() throws -> [Float] {
            let z = try noise(count)
            guard z.count == count else { throw DiffusionError.noiseSize(expected: count, got: z.count) }
            return z
        }
        func evaluate(_ x: [Float], _ t: Int, _ branch: GuidanceBranch) throws -> [Float] {
            let out = try model(x, t, branch)
            guard out.count == count else { throw DiffusionError.modelOutputSize(expected: count, got: out.count, timestep: t) }
            return out
        }

        // x_T.
        var x: [Float]
        if let initialSample {
            precondition(initialSample.count == count, "initial sample has \(initialSample.count) elements, expected \(count)")
            x = initialSample
        } else {
            x = try drawNoise()
            if scheduler.initNoiseSigma != 1 { x = x.map { $0 * scheduler.initNoiseSigma } }
        }

        // Reverse steps.
        let timesteps = scheduler.timesteps
        for (i, t) in timesteps.enumerated() {
            var output = try evaluate(x, t, .conditional)
            if guidance.applies(at: t) {
                let unconditional = try evaluate(x, t, .unconditional)
                output = guidance.combine(conditional: output, unconditional: unconditional)
            }
            let z = scheduler.needsNoise(at: t) ? try drawNoise() : nil
            x = scheduler.step(modelOutput: output, timestep: t, sample: x, noise: z)
            if let progress, !progress(SamplingProgress(step: i + 1, stepCount: timesteps.count, timestep: t, sample: x)) {
                throw DiffusionError.cancelled(afterStep: i + 1)
            }
        }
        return x
    }
}
