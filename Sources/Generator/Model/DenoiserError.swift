import Foundation

/// Failures building, loading or saving a `VideoDenoiser`.
public enum DenoiserError: Error, LocalizedError, Equatable {
    /// The configuration is inconsistent.
    case invalidConfig(String)
    /// A weights file could not be used: which file, what was wrong, what to do.
    case badWeights(path: String, message: String)
    /// The input tensors do not fit the model.
    case badInput(String)

    /// A message saying what failed and what to do.
    public var errorDescription: String? {
        switch self {
        case let .invalidConfig(m): return "invalid denoiser configuration: \(m)"
        case let .badWeights(path, m): return "cannot load denoiser weights from \(path): \(m)"
        case let .badInput(m): return "denoiser input: \(m)"
        }
    }
}
