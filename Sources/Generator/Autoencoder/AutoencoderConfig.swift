import Foundation

/// Configuration of `VideoAutoencoder`, the per-frame convolutional VAE of latent diffusion
/// (Rombach et al. 2022, "High-Resolution Image Synthesis with Latent Diffusion Models"). Stored
/// as JSON in the metadata of every autoencoder file (key `AutoencoderConfig.metadataKey`), so a
/// weights file rebuilds its own model.
///
/// Decoding fills the fields the JSON leaves out with the defaults below.
public struct AutoencoderConfig: Sendable, Codable, Equatable {
    /// Channels of the frames (3: RGB in [-1, 1]).
    public var imageChannels: Int = 3
    /// Channels of each resolution level, top first; each level after the first halves the
    /// resolution, so the downsampling factor is 2^(levels − 1).
    public var channels: [Int] = [32, 64, 128]
    /// Channels of the latent (the posterior has a mean and a log-variance for each).
    public var latentChannels: Int = 4
    /// Residual blocks per level, in the encoder and in the decoder.
    public var resBlocks: Int = 1
    /// GroupNorm groups (must divide every level's channel count).
    public var groups: Int = 8

    /// The design's autoencoder: 32/64/128 channels, 4 latent channels, f = 4.
    public init() {}

    /// Metadata key of the JSON configuration in autoencoder files.
    public static let metadataKey = "t2v.autoencoder_config"

    /// A small configuration for tests: 8/16/16 channels, 4 latent channels, f = 4.
    public static var tiny: AutoencoderConfig {
        var c = AutoencoderConfig()
        c.channels = [8, 16, 16]
        c.groups = 4
        return c
    }

    /// How much smaller the latent is than the frame in each spatial dimension: 2^(levels − 1).
    public var downsamplingFactor: Int { 1 << max(channels.count - 1, 0) }

    private enum CodingKeys: String, CodingKey { case imageChannels, channels, latentChannels, resBlocks, groups }

    /// Reads the JSON form; fields it leaves out keep their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = AutoencoderConfig()
        imageChannels = try c.decodeIfPresent(Int.self, forKey: .imageChannels) ?? defaults.imageChannels
        channels = try c.decodeIfPresent([Int].self, forKey: .channels) ?? defaults.channels
        latentChannels = try c.decodeIfPresent(Int.self, forKey: .latentChannels) ?? defaults.latentChannels
        resBlocks = try c.decodeIfPresent(Int.self, forKey: .resBlocks) ?? defaults.resBlocks
        groups = try c.decodeIfPresent(Int.self, forKey: .groups) ?? defaults.groups
    }

    /// Checks the fields fit together.
    ///
    /// - Throws: `AutoencoderError.invalidConfig` naming the offending field.
    public func validate() throws {
        func fail(_ message: String) -> AutoencoderError { .invalidConfig(message) }
        guard imageChannels == 3 else { throw fail("imageChannels is \(imageChannels); the autoencoder codes RGB frames (3)") }
        guard [4, 8].contains(latentChannels) else { throw fail("latentChannels is \(latentChannels); use 4 or 8") }
        guard (1...6).contains(channels.count) else {
            throw fail("channels lists \(channels.count) levels; give 1 to 6 (3 levels downsample by 4)")
        }
        guard channels.allSatisfy({ (1...4096).contains($0) }) else { throw fail("channels \(channels) must be in 1...4096") }
        guard groups > 0 else { throw fail("groups must be positive") }
        for (l, c) in channels.enumerated() where c % groups != 0 {
            throw fail("level \(l) has \(c) channels, not divisible by \(groups) groups")
        }
        guard (1...8).contains(resBlocks) else { throw fail("resBlocks is \(resBlocks); use 1 to 8") }
    }
}
