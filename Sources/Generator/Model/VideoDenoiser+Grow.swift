import Foundation

extension VideoDenoiser {
    /// A model of `config` that starts from `base`'s weights, with the zero-started modules that
    /// `config` adds and `base` lacks: cross-attention to the prompt's tokens, the temporal
    /// convolution, the temporal blocks' text conditioning and their frame positions. Each starts with zero output
    /// weights, so the new model computes what `base` computes until training moves them; a
    /// fine-tune can add any of them to a trained model.
    ///
    /// Every other architectural field must equal `base`'s; the frame count, resolution and
    /// `maxFrameDistance` follow `config` (no weight's shape depends on them).
    ///
    /// - Throws: `DenoiserError.invalidConfig` naming the field that differs, or the module
    ///   `config` would drop.
    public static func extending(_ base: VideoDenoiser, to config: DenoiserConfig,
                                 rng: inout some RandomNumberGenerator) throws -> VideoDenoiser {
        let old = base.config
        if old.crossAttention && !config.crossAttention {
            throw DenoiserError.invalidConfig("the starting model has cross-attention; a config without it would drop trained weights")
        }
        if old.temporalConvolution && !config.temporalConvolution {
            throw DenoiserError.invalidConfig("the starting model has the temporal convolution; a config without it would drop trained weights")
        }
        if old.temporalConditioning && !config.temporalConditioning {
            throw DenoiserError.invalidConfig("the starting model's temporal blocks are text-conditioned; a config without it would drop trained weights")
        }
        if old.temporalPositions && !config.temporalPositions {
            throw DenoiserError.invalidConfig("the starting model's temporal blocks read frame positions; a config without them would drop trained weights")
        }
        var comparable = config
        comparable.crossAttention = old.crossAttention
        comparable.temporalConvolution = old.temporalConvolution
        comparable.temporalConditioning = old.temporalConditioning
        comparable.temporalPositions = old.temporalPositions
        comparable.frames = old.frames
        comparable.resolution = old.resolution
        comparable.maxFrameDistance = old.maxFrameDistance
        if comparable != old {
            let differing = DenoiserConfig.differingFields(old, comparable)
            throw DenoiserError.invalidConfig(
                "the config differs from the starting model's in \(differing.joined(separator: ", ")); only crossAttention, temporalConvolution, temporalConditioning and temporalPositions may be added")
        }
        let model = try VideoDenoiser(config: config, rng: &rng)
        // The added blocks keep their fresh (zero-started) weights; every trained one is copied.
        let slots = Dictionary(uniqueKeysWithValues: model.namedParameters())
        for (name, p) in base.namedParameters() {
            guard let slot = slots[name], slot.shape == p.shape else {
                throw DenoiserError.invalidConfig("the starting model's tensor \(name) has no place in the new model")
            }
            slot.assign(p.value)
        }
        return model
    }
}

extension DenoiserConfig {
    /// The names of the JSON fields in which `a` and `b` differ.
    static func differingFields(_ a: DenoiserConfig, _ b: DenoiserConfig) -> [String] {
        let encoder = JSONEncoder()
        guard let da = try? encoder.encode(a), let db = try? encoder.encode(b),
              let ja = (try? JSONSerialization.jsonObject(with: da)) as? [String: Any],
              let jb = (try? JSONSerialization.jsonObject(with: db)) as? [String: Any] else { return ["the configuration"] }
        return Set(ja.keys).union(jb.keys).sorted().filter { key in
            guard let x = ja[key], let y = jb[key] else { return true }
            func text(_ v: Any) -> Data? { try? JSONSerialization.data(withJSONObject: [v], options: [.sortedKeys]) }
            return text(x) != text(y)
        }
    }
}
