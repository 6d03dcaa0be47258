import Foundation

/// Failures of `Trainer` and `Distiller`.
public enum TrainingError: Error, LocalizedError, Equatable {
    /// A hyper-parameter is out of range.
    case invalidConfig(String)
    /// A training example does not fit the model.
    case badClip(index: Int, message: String)
    /// A training checkpoint could not be read or written.
    case badCheckpoint(path: String, message: String)

    /// A message saying what failed and what to do.
    public var errorDescription: String? {
        switch self {
        case let .invalidConfig(m): return "invalid training configuration: \(m)"
        case let .badClip(i, m): return "training clip \(i): \(m)"
        case let .badCheckpoint(path, m): return "training checkpoint \(path): \(m)"
        }
    }
}
