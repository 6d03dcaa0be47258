import Foundation
import XCTest
@testable import Generator

/// The PyTorch twin (python/t2v_twin/autoencoder.py) against the Swift `VideoAutoencoder`: Swift
/// builds a model, perturbs every weight (so norm scales and shifts matter), sets a latent scale,
/// saves it, computes the posterior, a reparameterised draw, the scaled latents and a decode, and
/// hands file, inputs and outputs to python/t2v_twin/autoencoder_parity.py, which loads the same
/// file in PyTorch, compares every output (rtol 1e-4, atol 1e-5 * max|y|, printing the max abs
/// difference of each) and checks that the twin writes the file back byte for byte. Skipped, with a
/// message, where PyTorch is not installed.
final class AutoencoderParityTests: XCTestCase {
    private static let root = PythonOracle.root

    private static func python(_ args: [String]) throws -> (status: Int32, output: String) { try PythonOracle.run(args) }

    private func requireTorch() throws { try PythonOracle.requireTorch(for: "the Swift/PyTorch autoencoder parity check") }

    /// Runs the check for `config` on `frameShape` (`[N, 3, H, W]` or `[B, T, 3, H, W]`).
    private func check(_ config: AutoencoderConfig, frameShape: [Int], scale: Float, seed: UInt64) throws {
        try requireTorch()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ae-twin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        var rng = Philox(seed: seed)
        let model = try VideoAutoencoder(config: config, rng: &rng)
        var noise = Philox(seed: seed, stream: 7)
        for (_, p) in model.namedParameters() {
            let delta = Tensor.uniform(p.shape, low: -0.3, high: 0.3, using: &noise)
            p.assign(withoutGradients { p.value + delta })
        }
        model.scaleFactor = scale
        let modelURL = dir.appendingPathComponent("ae.safetensors")
        try model.save(to: modelURL, metadata: ["t2v.step": "0"])

        let frames = Tensor.uniform(frameShape, low: -1, high: 1, using: &rng)
        let (mean, logvar) = withoutGradients { model.encode(frames) }
        var draw = Philox(seed: seed, stream: 3)
        let eps = draw.normal(count: mean.count)
        draw = Philox(seed: seed, stream: 3)
        let sample = withoutGradients { model.sample(mean: mean, logvar: logvar, rng: &draw) }
        let latents = withoutGradients { model.latents(frames) }
        let z = Tensor.randn(mean.shape, using: &rng)
        let decoded = withoutGradients { model.decode(z) }
        try SafeTensors.write([
            .init(name: "frames", shape: frames.shape, floats: frames.toArray()),
            .init(name: "eps", shape: mean.shape, floats: eps),
            .init(name: "z", shape: z.shape, floats: z.toArray()),
        ], to: dir.appendingPathComponent("inputs.safetensors"))
        try SafeTensors.write([
            .init(name: "mean", shape: mean.shape, floats: mean.toArray()),
            .init(name: "logvar", shape: logvar.shape, floats: logvar.toArray()),
            .init(name: "sample", shape: sample.shape, floats: sample.toArray()),
            .init(name: "latents", shape: latents.shape, floats: latents.toArray()),
            .init(name: "decoded", shape: decoded.shape, floats: decoded.toArray()),
        ], to: dir.appendingPathComponent("swift.safetensors"))

        let script = Self.root.appendingPathComponent("python/t2v_twin/autoencoder_parity.py").path
        let result = try Self.python([script, "--model", modelURL.path,
                                      "--inputs", dir.appendingPathComponent("inputs.safetensors").path,
                                      "--swift-output", dir.appendingPathComponent("swift.safetensors").path,
                                      "--rtol", "1e-4", "--atol-scale", "1e-5"])
        XCTAssertEqual(result.status, 0, "autoencoder_parity.py failed:\n\(result.output)")
        XCTAssertTrue(result.output.contains("PASS"), result.output)
    }

    /// Tiny config (8/16/16, skips in both directions), two frames of 16x24.
    func testTinyMatchesPyTorch() throws {
        try check(.tiny, frameShape: [2, 3, 16, 24], scale: 0.37, seed: 21)
    }

    /// Default config (32/64/128), 8 latent channels, a clip [1, 2, 3, 32, 32] and two residual
    /// blocks per level.
    func testDefaultWithEightLatentChannelsMatchesPyTorch() throws {
        var config = AutoencoderConfig()
        config.latentChannels = 8
        config.resBlocks = 2
        try check(config, frameShape: [1, 2, 3, 32, 32], scale: 1.7, seed: 22)
    }
}
