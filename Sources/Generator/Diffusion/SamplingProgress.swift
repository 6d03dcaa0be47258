/// Reported by `DiffusionSampler` after each completed step.
public struct SamplingProgress: Sendable {
    /// Steps completed so far, 1...stepCount.
    public let step: Int
    /// Total steps (model evaluations without guidance) of this sample.
    public let stepCount: Int
    /// The timestep just processed.
    public let timestep: Int
    /// The sample after this step (x at the next grid point; clean after the last step).
    public let sample: [Float]
}
