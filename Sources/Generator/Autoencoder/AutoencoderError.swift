import Foundation

/// Failures of `VideoAutoencoder` and the latent dataset writer.
public enum AutoencoderError: Error, LocalizedError, Equatable {
    /// The configuration is inconsistent.
    case invalidConfig(String)
    /// An autoencoder file could not be read or written: which file, what was wrong, what to do.
    case badWeights(path: String, message: String)
    /// The frames or latents do not fit the model.
    case badInput(String)
    /// A latent dataset could not be written: which file, what was wrong.
    case badLatentDataset(path: String, message: String)

    /// A message saying what failed and what to do.
    public var errorDescription: String? {
        switch self {
        case let .invalidConfig(m): return "invalid autoencoder configuration: \(m)"
        case let .badWeights(path, m): return "autoencoder file \(path): \(m)"
        case let .badInput(m): return "autoencoder input: \(m)"
        case let .badLatentDataset(path, m): return "latent dataset \(path): \(m)"
        }
    }
}
