import Foundation

/// A latent diffusion model in one file: the denoiser's tensors under their own names and the
/// autoencoder's (whose decoder turns the sampled latents into frames) under `autoencoder.`, with
/// the autoencoder's configuration, latent scale and the SHA-256 of the file it came from in the
/// metadata. `VideoDenoiser.load` reads the denoiser and ignores the `autoencoder.` tensors;
/// `LatentBundle.autoencoder(in:)` reads those.
public enum LatentBundle {
    /// Name prefix of the autoencoder's tensors.
    public static let prefix = "autoencoder."
    /// Metadata key of the SHA-256 (hex) of the autoencoder file the bundle was made with; also in
    /// every latent dataset shard (`LatentDatasetWriter.sha256Key`).
    public static let sha256Key = LatentDatasetWriter.sha256Key

    /// The entries and metadata that put `autoencoder` (from a file with digest `sha256`) into a
    /// model file.
    public static func contents(of autoencoder: VideoAutoencoder, sha256: String) throws -> (entries: [SafeTensors.Entry], metadata: [String: String]) {
        let entries = autoencoder.namedParameters().sorted { $0.0 < $1.0 }.map { name, p in
            SafeTensors.Entry(name: prefix + name, shape: p.shape, floats: p.value.toArray())
        }
        let metadata = [AutoencoderConfig.metadataKey: try canonicalJSON(autoencoder.config),
                        VideoAutoencoder.scaleKey: String(autoencoder.scaleFactor), sha256Key: sha256]
        return (entries, metadata)
    }

    /// The autoencoder bundled into the model file at `url`, or nil when the file holds a pixel
    /// model (no `autoencoder.` tensors and no autoencoder configuration).
    ///
    /// - Throws: `AutoencoderError.badWeights` naming the file when the bundled autoencoder is
    ///   incomplete or does not fit its configuration.
    public static func autoencoder(in url: URL) throws -> (model: VideoAutoencoder, sha256: String)? {
        func fail(_ message: String) -> AutoencoderError { .badWeights(path: url.path, message: message) }
        let file: SafeTensors
        do { file = try SafeTensors(contentsOf: url) } catch { throw fail(error.localizedDescription) }
        let names = file.tensors.map(\.name).filter { $0.hasPrefix(prefix) }
        guard let json = file.metadata[AutoencoderConfig.metadataKey] else {
            if !names.isEmpty { throw fail("it holds \(prefix)* tensors but no '\(AutoencoderConfig.metadataKey)' metadata") }
            return nil
        }
        let config: AutoencoderConfig
        do {
            config = try JSONDecoder().decode(AutoencoderConfig.self, from: Data(json.utf8))
            try config.validate()
        } catch { throw fail("its bundled autoencoder configuration is unusable: \(error.localizedDescription)") }
        guard let scaleText = file.metadata[VideoAutoencoder.scaleKey], let scale = Float(scaleText), scale.isFinite, scale > 0 else {
            throw fail("its bundled autoencoder has no usable '\(VideoAutoencoder.scaleKey)'")
        }
        var rng = Philox(seed: 0)
        let model = try VideoAutoencoder(config: config, rng: &rng)
        model.scaleFactor = scale
        var tensors = [String: Tensor]()
        do {
            for name in names {
                let info = file.tensors.first { $0.name == name }!
                tensors[String(name.dropFirst(prefix.count))] = Tensor(shape: info.shape, data: try file.floats(name))
            }
            try model.load(tensors, strict: true)
        } catch { throw fail("its bundled autoencoder does not load: \(error.localizedDescription)") }
        return (model, file.metadata[sha256Key] ?? "")
    }
}
