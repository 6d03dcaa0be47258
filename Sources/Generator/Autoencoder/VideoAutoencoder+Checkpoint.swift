import Foundation

extension VideoAutoencoder {
    /// The metadata of an autoencoder file: configuration JSON, latent scale, generator version
    /// and `extra` (e.g. the training step).
    func fileMetadata(_ extra: [String: String] = [:]) throws -> [String: String] {
        var meta = extra
        meta[AutoencoderConfig.metadataKey] = try canonicalJSON(config)
        meta[Self.scaleKey] = String(scaleFactor)
        meta["t2v.generator_version"] = GeneratorInfo.version
        return meta
    }

    /// Writes the weights as float32 safetensors, sorted by name, with the configuration JSON under
    /// `AutoencoderConfig.metadataKey` and `scaleFactor` under `VideoAutoencoder.scaleKey`,
    /// atomically (temporary file, then rename).
    ///
    /// - Parameters:
    ///   - url: destination file.
    ///   - metadata: extra string metadata (e.g. training step).
    /// - Throws: `AutoencoderError.badWeights` when the file cannot be written.
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        let entries = namedParameters().sorted { $0.0 < $1.0 }.map { name, p in
            SafeTensors.Entry(name: name, shape: p.shape, floats: p.value.toArray())
        }
        do {
            try SafeTensors.write(entries, metadata: try fileMetadata(metadata), to: url)
        } catch {
            throw AutoencoderError.badWeights(path: url.path, message: "writing failed: \(error.localizedDescription)")
        }
    }

    /// Reads a file written by `save(to:)`: builds the model from the stored configuration, sets
    /// the stored scale factor and loads every tensor strictly (a missing, extra or mis-shaped
    /// tensor is an error naming it).
    ///
    /// - Returns: the model and the file's metadata.
    /// - Throws: `AutoencoderError.badWeights` naming the file and what is wrong with it (not a
    ///   safetensors file, truncated, a denoiser checkpoint, no or bad configuration or scale,
    ///   tensors that do not fit).
    public static func load(from url: URL) throws -> (model: VideoAutoencoder, metadata: [String: String]) {
        func fail(_ message: String) -> AutoencoderError { .badWeights(path: url.path, message: message) }
        let file: SafeTensors
        do {
            file = try SafeTensors(contentsOf: url)
        } catch {
            throw fail("\(error.localizedDescription); pass a .safetensors file written by `t2v-render train-autoencoder`")
        }
        let meta = file.metadata
        if meta[AutoencoderTrainer.configKey] != nil {
            throw fail("it is an autoencoder training checkpoint, not the trained autoencoder; pass the -o file of "
                       + "`t2v-render train-autoencoder` (run it again with --resume to export one)")
        }
        if meta[DenoiserConfig.metadataKey] != nil, meta[AutoencoderConfig.metadataKey] != nil {
            throw fail("it is a latent denoiser that carries its autoencoder (tensors under '\(LatentBundle.prefix)'), not an autoencoder file; "
                       + "pass the file `t2v-render train-autoencoder -o` wrote")
        }
        guard let json = meta[AutoencoderConfig.metadataKey] else {
            if meta[DenoiserConfig.metadataKey] != nil {
                throw fail("it is a denoiser checkpoint ('\(DenoiserConfig.metadataKey)' metadata), not an autoencoder; "
                           + "pass the file `t2v-render train-autoencoder -o` wrote")
            }
            throw fail("it has no '\(AutoencoderConfig.metadataKey)' metadata, so it is not a t2v-render autoencoder; "
                       + "pass the file `t2v-render train-autoencoder -o` wrote")
        }
        let config: AutoencoderConfig
        do {
            config = try JSONDecoder().decode(AutoencoderConfig.self, from: Data(json.utf8))
            try config.validate()
        } catch {
            throw fail("its stored configuration is unusable: \(error.localizedDescription)")
        }
        guard let scaleText = meta[scaleKey] else {
            throw fail("it has no '\(scaleKey)' metadata (the latent scale factor); was it written by `t2v-render train-autoencoder`?")
        }
        guard let scale = Float(scaleText), scale.isFinite, scale > 0 else {
            throw fail("its latent scale '\(scaleText)' ('\(scaleKey)') is not a positive number")
        }
        var rng = Philox(seed: 0)
        let model = try VideoAutoencoder(config: config, rng: &rng)
        model.scaleFactor = scale
        var tensors = [String: Tensor]()
        do {
            for info in file.tensors { tensors[info.name] = Tensor(shape: info.shape, data: try file.floats(info.name)) }
            try model.load(tensors, strict: true)
        } catch {
            throw fail("\(error.localizedDescription)")
        }
        return (model, meta)
    }
}
