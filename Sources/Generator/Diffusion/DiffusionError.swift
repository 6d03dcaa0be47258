import Foundation

/// Failures of the sampling driver.
public enum DiffusionError: Error, LocalizedError, Equatable {
    /// The progress callback returned false after `step` completed steps.
    case cancelled(afterStep: Int)
    /// The model returned an array of the wrong size.
    case modelOutputSize(expected: Int, got: Int, timestep: Int)
    /// The noise source returned an array of the wrong size.
    case noiseSize(expected: Int, got: Int)

    /// A message saying what failed and what to do.
    public var errorDescription: String? {
        switch self {
        case let .cancelled(step):
            return "sampling was cancelled after step \(step)"
        case let .modelOutputSize(expected, got, t):
            return "the denoiser returned \(got) values at timestep \(t) but the sample has \(expected); check that the model's frame count, channels and resolution match the requested video"
        case let .noiseSize(expected, got):
            return "the noise source returned \(got) values but \(expected) were needed"
        }
    }
}
