/// The reverse-process samplers `VideoPipeline` can drive.
public enum SamplerKind: String, Sendable, Codable, CaseIterable {
    /// DDPM ancestral sampling (Ho et al. 2020, eq. 6/7): stochastic, needs many steps.
    case ddpm
    /// DDIM (Song et al. 2021, eq. 12) with eta 0: deterministic, few steps; what distilled
    /// students are trained for.
    case ddim
    /// DPM-Solver++(2M) (Lu et al. 2022): deterministic second-order multistep.
    case dpmpp

    /// Builds the scheduler for `steps` steps on a trailing grid (the grid the distiller uses, and
    /// the better choice for few steps).
    func makeScheduler(schedule: NoiseSchedule, steps: Int, prediction: PredictionType, clipSample: Float? = nil,
                       eta: Double = 0) -> any Scheduler {
        switch self {
        case .ddpm:
            return DDPMScheduler(schedule: schedule, inferenceSteps: steps, spacing: .trailing, predictionType: prediction,
                                 clipSample: clipSample)
        case .ddim:
            return DDIMScheduler(schedule: schedule, inferenceSteps: steps, spacing: .trailing, predictionType: prediction,
                                 eta: eta, clipSample: clipSample, useClippedModelOutput: clipSample != nil)
        case .dpmpp:
            return DPMSolverMultistepScheduler(schedule: schedule, inferenceSteps: steps, spacing: .trailing, predictionType: prediction)
        }
    }
}
