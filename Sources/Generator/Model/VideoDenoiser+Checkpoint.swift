import Foundation

extension VideoDenoiser {
    /// Writes the weights as float32 safetensors with the configuration as JSON under
    /// `DenoiserConfig.metadataKey`, atomically (temporary file, then rename).
    ///
    /// - Parameters:
    ///   - url: destination file.
    ///   - metadata: extra string metadata (e.g. training step).
    /// - Throws: `DenoiserError.badWeights` when the file cannot be written.
    public func save(to url: URL, metadata: [String: String] = [:]) throws {
        try save(to: url, metadata: metadata, extraEntries: [])
    }

    /// `save(to:metadata:)` with more tensors in the same file (a latent model's autoencoder,
    /// `LatentBundle`); their names must not clash with the denoiser's.
    public func save(to url: URL, metadata: [String: String], extraEntries: [SafeTensors.Entry]) throws {
        let entries = (namedParameters().map { name, p in
            SafeTensors.Entry(name: name, shape: p.shape, floats: p.value.toArray())
        } + extraEntries).sorted { $0.name < $1.name }
        let json = try canonicalJSON(config)
        var meta = metadata
        meta[DenoiserConfig.metadataKey] = json
        meta["t2v.generator_version"] = GeneratorInfo.version
        do {
            try SafeTensors.write(entries, metadata: meta, to: url)
        } catch {
            throw DenoiserError.badWeights(path: url.path, message: "writing failed: \(error.localizedDescription)")
        }
    }

    /// Reads a checkpoint written by `save(to:)`: builds the model from the stored configuration
    /// and loads every tensor (strictly: missing, extra or mis-shaped tensors are errors).
    ///
    /// - Returns: the model and the file's metadata.
    /// - Throws: `DenoiserError.badWeights` naming the file and what is wrong with it.
    public static func load(from url: URL) throws -> (model: VideoDenoiser, metadata: [String: String]) {
        func fail(_ message: String) -> DenoiserError { .badWeights(path: url.path, message: message) }
        let file: SafeTensors
        do {
            file = try SafeTensors(contentsOf: url)
        } catch {
            throw fail("\(error.localizedDescription); pass a .safetensors file written by `t2v-render train`")
        }
        guard let json = file.metadata[DenoiserConfig.metadataKey] else {
            throw fail("it has no '\(DenoiserConfig.metadataKey)' metadata, so it is not a t2v-render denoiser checkpoint")
        }
        let config: DenoiserConfig
        do {
            config = try JSONDecoder().decode(DenoiserConfig.self, from: Data(json.utf8))
            try config.validate()
        } catch {
            throw fail("its stored configuration is unusable: \(error.localizedDescription)")
        }
        var rng = Philox(seed: 0)
        let model = try VideoDenoiser(config: config, rng: &rng)
        var tensors = [String: Tensor]()
        do {
            // A latent model's autoencoder (LatentBundle) and the training captions (CaptionIndex)
            // ride along under their prefixes.
            for info in file.tensors where !info.name.hasPrefix(LatentBundle.prefix) && !info.name.hasPrefix(CaptionIndex.prefix) {
                tensors[info.name] = Tensor(shape: info.shape, data: try file.floats(info.name))
            }
            try model.load(tensors, strict: true)
        } catch {
            throw fail("\(error.localizedDescription)")
        }
        return (model, file.metadata)
    }
}
