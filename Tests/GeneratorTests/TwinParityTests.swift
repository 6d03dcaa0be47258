import Foundation
import XCTest
@testable import Generator

/// The PyTorch twin (python/t2v_twin) against the Swift `VideoDenoiser`: Swift builds a model,
/// perturbs every weight (so norms, gates and the relative bias all matter), saves it, runs a
/// forward pass and hands model, inputs and output to python/t2v_twin/parity.py, which loads the
/// same file in PyTorch and compares (rtol 1e-4, atol 1e-5 * max|y|) and round-trips the file.
/// The image path (`model(images:...)`, joint image-video training's spatial-only pass) is
/// checked the same way against the twin's `forward_images`. A text whitening, which is fitted
/// rather than trained, is fitted after the perturbation, before the model is saved.
/// Skipped, with a message, where PyTorch is not installed (the CI machine); bench/run always
/// runs the same check.
final class TwinParityTests: XCTestCase {
    private static let root = PythonOracle.root

    private static func python(_ args: [String]) throws -> (status: Int32, output: String) { try PythonOracle.run(args) }

    private func requireTorch() throws { try PythonOracle.requireTorch(for: "the Swift/PyTorch twin parity check (bench/run always runs it)") }

    /// `frames: nil` checks `batch` independent images (`model(images:...)`) instead of clips.
    /// `prepare` runs on the model after the perturbation, before it is saved (to fit what is
    /// fitted rather than trained).
    private func check(_ config: DenoiserConfig, batch: Int, frames: Int?, seed: UInt64,
                       prepare: ((VideoDenoiser) throws -> Void)? = nil) throws {
        try requireTorch()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("twin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }

        var rng = Philox(seed: seed)
        let model = try VideoDenoiser(config: config, rng: &rng)
        var noise = Philox(seed: seed, stream: 7)
        for (name, p) in model.namedParameters() {
            // The temporal gates start at 0; move them well away so the temporal stream counts.
            let a: Float = name.hasSuffix("Gate") ? 1 : 0.3
            let delta = Tensor.uniform(p.shape, low: -a, high: a, using: &noise)
            p.assign(withoutGradients { p.value + delta })
        }
        try prepare?(model)
        let modelURL = dir.appendingPathComponent("model.safetensors")
        try model.save(to: modelURL)

        let r = config.resolution
        let x = Tensor.randn(frames.map { [batch, $0, config.inChannels, r, r] } ?? [batch, config.inChannels, r, r], using: &rng)
        let timesteps = (0..<batch).map { 37 + 411 * $0 }
        let text = Tensor.randn([batch, config.textDim], using: &rng)
        // Token states for cross-attention: items of different lengths, the last with none.
        let tokens = config.crossAttention
            ? TokenStates((0..<batch).map { i in Tensor.randn([i == batch - 1 ? 0 : 3 + 2 * i, config.textDim], using: &rng).toArray() },
                          textDim: config.textDim)
            : nil
        let y = withoutGradients {
            frames == nil ? model(images: x, timesteps: timesteps, text: text, tokens: tokens)
                          : model(x, timesteps: timesteps, text: text, tokens: tokens)
        }
        var inputs: [SafeTensors.Entry] = [
            .init(name: "x", shape: x.shape, floats: x.toArray()),
            .init(name: "timesteps", shape: [batch], int64: timesteps.map { Int64($0) }),
            .init(name: "text", shape: text.shape, floats: text.toArray()),
        ]
        if let tokens {
            inputs.append(.init(name: "tokens", shape: tokens.values.shape, floats: tokens.values.toArray()))
            inputs.append(.init(name: "token_counts", shape: [batch], int64: tokens.counts.map { Int64($0) }))
        }
        try SafeTensors.write(inputs, to: dir.appendingPathComponent("inputs.safetensors"))
        try SafeTensors.write([.init(name: "y", shape: y.shape, floats: y.toArray())],
                              to: dir.appendingPathComponent("swift.safetensors"))

        let script = Self.root.appendingPathComponent("python/t2v_twin/parity.py").path
        let result = try Self.python([script, "--model", modelURL.path,
                                      "--inputs", dir.appendingPathComponent("inputs.safetensors").path,
                                      "--swift-output", dir.appendingPathComponent("swift.safetensors").path,
                                      "--rtol", "1e-4", "--atol-scale", "1e-5"])
        XCTAssertEqual(result.status, 0, "parity.py failed:\n\(result.output)")
        XCTAssertTrue(result.output.contains("PASS"), result.output)
    }

    /// Tiny config, 2 clips of 4 frames: every layer kind, both temporal gates non-zero.
    func testTinyForwardMatchesPyTorch() throws {
        try check(.tiny, batch: 2, frames: 4, seed: 11)
    }

    /// Default config (3 levels, 64/128/128 channels), one CFG pair of 16 frames at 32x32.
    func testDefaultForwardMatchesPyTorch() throws {
        try check(.default, batch: 2, frames: 16, seed: 12)
    }

    /// The spatio-temporal convolution in every temporal block (3 frames, so both clip ends and
    /// an inner frame are covered), with its weights perturbed away from zero.
    func testTinyTemporalConvolutionMatchesPyTorch() throws {
        var config = DenoiserConfig.tiny
        config.temporalConvolution = true
        try check(config, batch: 2, frames: 3, seed: 14)
    }

    /// Cross-attention to token states (two items: 3 tokens, and none: the null context), with
    /// the zero-started output projections perturbed away from zero.
    func testTinyCrossAttentionMatchesPyTorch() throws {
        var config = DenoiserConfig.tiny
        config.crossAttention = true
        try check(config, batch: 2, frames: 3, seed: 15)
    }

    /// The prompt in the temporal stream (each block's zero-started text projection perturbed
    /// away from zero), two clips with different texts.
    func testTinyTemporalConditioningMatchesPyTorch() throws {
        var config = DenoiserConfig.tiny
        config.temporalConditioning = true
        try check(config, batch: 2, frames: 3, seed: 16)
    }

    /// Frame positions in the temporal stream, with the text there too (each block's zero-started
    /// projections perturbed away from zero), and at a frame count beyond the tiny config's.
    func testTinyTemporalPositionsMatchesPyTorch() throws {
        var config = DenoiserConfig.tiny
        config.temporalPositions = true
        config.temporalConditioning = true
        try check(config, batch: 2, frames: 3, seed: 21)
        try check(config, batch: 1, frames: 7, seed: 22)
    }

    /// The fixed text whitening, fitted to six random unit-length captions (so it projects onto
    /// their span and rescales it), in front of every use of the prompt: the FiLM projection and,
    /// with temporal conditioning, the temporal stream; for clips and for independent images.
    func testTinyTextWhiteningMatchesPyTorch() throws {
        var config = DenoiserConfig.tiny
        config.textWhitening = 1e-3
        config.temporalConditioning = true
        let dim = config.textDim
        let fit: (VideoDenoiser) throws -> Void = { model in
            var rng = Philox(seed: 19, stream: 3)
            let captions = (0..<6).map { _ -> [Float] in
                let v = rng.normal(count: dim)
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return v.map { $0 / norm }
            }
            try XCTUnwrap(model.textWhitening).fit(captions, epsilon: 1e-3)
        }
        try check(config, batch: 2, frames: 3, seed: 19, prepare: fit)
        try check(config, batch: 3, frames: nil, seed: 20, prepare: fit)
    }

    /// Independent images through the spatial layers only: the temporal blocks (perturbed, with
    /// their convolution and text projection) must be skipped by both, each image with its own
    /// timestep and text.
    func testTinyImagesMatchPyTorch() throws {
        var config = DenoiserConfig.tiny
        config.temporalConvolution = true
        config.temporalConditioning = true
        try check(config, batch: 3, frames: nil, seed: 17)
    }

    /// Images with cross-attention: one token item per image (3 and 5 tokens, and none).
    func testTinyCrossAttentionImagesMatchPyTorch() throws {
        var config = DenoiserConfig.tiny
        config.crossAttention = true
        try check(config, batch: 3, frames: nil, seed: 18)
    }

    /// Frame counts beyond D: the clamped relative bias must index the same rows in both.
    func testTinyClampedBiasMatchesPyTorch() throws {
        try check(.tiny, batch: 1, frames: 7, seed: 13)
    }
}
