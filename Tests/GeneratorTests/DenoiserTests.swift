import Foundation
import XCTest
@testable import Generator

/// The video denoiser: configuration, shapes, the temporal stream and its gradients, checkpoints.
final class DenoiserTests: XCTestCase {
    func makeTiny(temporal: Bool = true, seed: UInt64 = 1) throws -> VideoDenoiser {
        var config = DenoiserConfig.tiny
        config.temporal = temporal
        var rng = Philox(seed: seed)
        return try VideoDenoiser(config: config, rng: &rng)
    }

    func randomInput(frames: Int, seed: UInt64, batch: Int = 1, size: Int = 16) -> (Tensor, Tensor) {
        var rng = Philox(seed: seed)
        let x = Tensor(shape: [batch, frames, 3, size, size], data: rng.normal(count: batch * frames * 3 * size * size))
        let text = Tensor(shape: [batch, 384], data: rng.normal(count: batch * 384, std: 0.05))
        return (x, text)
    }

    func testConfigCodableRoundTripAndValidation() throws {
        for config in [DenoiserConfig.tiny, DenoiserConfig.default] {
            XCTAssertNoThrow(try config.validate())
            let back = try JSONDecoder().decode(DenoiserConfig.self, from: JSONEncoder().encode(config))
            XCTAssertEqual(back, config)
        }
        var bad = DenoiserConfig.tiny
        bad.groups = 5
        XCTAssertThrowsError(try bad.validate()) { error in
            XCTAssertTrue(error.localizedDescription.contains("not divisible by 5 groups"), error.localizedDescription)
        }
        bad = .tiny
        bad.resolution = 15
        var rng = Philox(seed: 0)
        XCTAssertThrowsError(try VideoDenoiser(config: bad, rng: &rng))
    }

    func testCheckpointKeysAndAblation() throws {
        let full = try makeTiny(), ablated = try makeTiny(temporal: false)
        let names = Set(full.namedParameters().map { $0.0 })
        for key in ["convIn.weight", "down.0.resBlocks.0.conv1.weight", "down.0.resBlocks.0.film.weight",
                    "down.0.temporal.relativeBias", "down.0.temporal.biasGate", "down.0.temporal.residualGate",
                    "down.0.downsample.weight", "midAttention.attention.toQ.weight", "midTemporal.attention.toK.weight",
                    "up.0.resBlocks.0.skip.weight", "up.1.upsample.weight", "timeEmbedding.linear1.weight",
                    "textProjection.weight", "convOut.weight"] {
            XCTAssertTrue(names.contains(key), "missing parameter \(key)")
        }
        XCTAssertFalse(ablated.namedParameters().contains { $0.0.contains("emporal") }, "ablation has no temporal stream")
        XCTAssertLessThan(ablated.parameterCount, full.parameterCount)
        XCTAssertEqual(full.namedParameters().first { $0.0 == "down.0.temporal.relativeBias" }?.1.shape, [9, 2])
        // Parameter counts of the presets, as counted by the PyTorch port (make_denoiser_fixture.py).
        XCTAssertEqual(full.parameterCount, 194_268)
        var rng = Philox(seed: 0)
        XCTAssertEqual(try VideoDenoiser(config: .default, rng: &rng).parameterCount, 4_225_794)
    }

    /// The spatio-temporal convolution: off by default and absent from the JSON then; on, a fresh
    /// model computes what the same weights without it compute (identity start), its weights get
    /// gradient, and once its weights are non-zero a change to one frame reaches its neighbour
    /// at another position (which attention over the frame axis alone cannot do in one block).
    func testTemporalConvolutionStartsAsIdentityLearnsAndMovesAcrossFrames() throws {
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(DenoiserConfig.tiny), as: UTF8.self).contains("temporalConvolution"))
        var config = DenoiserConfig.tiny
        config.temporalConvolution = true
        let json = try JSONEncoder().encode(config)
        XCTAssertTrue(String(decoding: json, as: UTF8.self).contains("\"temporalConvolution\":true"))
        XCTAssertEqual(try DenoiserConfig.fromJSON(json), config)
        var off = config
        off.temporal = false
        XCTAssertThrowsError(try off.validate()) { XCTAssertTrue("\($0)".contains("needs temporal = true"), "\($0)") }

        var rng = Philox(seed: 21)
        let model = try VideoDenoiser(config: config, rng: &rng)
        let plain = try makeTiny()
        let extra = Set(model.namedParameters().map(\.0)).subtracting(plain.namedParameters().map(\.0))
        XCTAssertEqual(extra.sorted().filter { $0.hasPrefix("down.0.") },
                       ["down.0.temporal.convolution.conv.bias", "down.0.temporal.convolution.conv.weight",
                        "down.0.temporal.convolution.norm.bias", "down.0.temporal.convolution.norm.weight"])
        XCTAssertEqual(model.namedParameters().first { $0.0 == "midTemporal.convolution.conv.weight" }?.1.shape, [32, 96, 3, 3])
        // Identity start: the other weights copied into a model without the convolution.
        try plain.load(model.stateDict().filter { !$0.key.contains(".convolution.") })
        let (x, text) = randomInput(frames: 4, seed: 5)
        let y0 = withoutGradients { model(x, timesteps: [300], text: text) }.toArray()
        let y1 = withoutGradients { plain(x, timesteps: [300], text: text) }.toArray()
        for (a, b) in zip(y0, y1) { XCTAssertEqual(a, b, accuracy: 1e-6) }
        model(x, timesteps: [300], text: text).square().mean().backward()
        let grad = model.namedParameters().first { $0.0 == "down.0.temporal.convolution.conv.weight" }!.1.grad!.toArray()
        XCTAssertGreaterThan(grad.map(abs).max()!, 0, "the zero-initialised convolution gets no gradient")

        // One block on its own: a change at (frame 1, pixel (5, 5)) reaches frame 2 at (6, 6) and
        // frame 0 at (4, 4), and no frame two away.
        var r2 = Philox(seed: 8)
        let block = TemporalConvolution(channels: 16, groups: 4, rng: &r2)
        block.conv.weight.assign(Tensor.uniform(block.conv.weight.shape, low: -0.2, high: 0.2, using: &r2))
        var base = r2.normal(count: 4 * 16 * 12 * 12)
        let before = withoutGradients { block(Tensor(shape: [4, 16, 12, 12], data: base), frames: 4) }.toArray()
        for ch in 0..<16 { base[((1 * 16 + ch) * 12 + 5) * 12 + 5] += 3 }
        let after = withoutGradients { block(Tensor(shape: [4, 16, 12, 12], data: base), frames: 4) }.toArray()
        func changed(_ frame: Int, _ y: Int, _ x: Int) -> Bool {
            (0..<16).contains { ch in let i = ((frame * 16 + ch) * 12 + y) * 12 + x; return abs(after[i] - before[i]) > 1e-4 }
        }
        XCTAssertTrue(changed(2, 6, 6) && changed(0, 4, 4), "the change does not reach the neighbouring frames' neighbouring pixels")
        XCTAssertFalse((0..<12).contains { y in (0..<12).contains { x in changed(3, y, x) } }, "frame 3 is two frames away")
    }

    func testOutputShapeAndAnyFrameCount() throws {
        let model = try makeTiny()
        for frames in [1, 4, 7] {   // trained for 4; the relative bias clamps at distance 4
            let (x, text) = randomInput(frames: frames, seed: UInt64(frames), batch: 2)
            let y = withoutGradients { model(x, timesteps: [10, 900], text: text) }
            XCTAssertEqual(y.shape, [2, frames, 3, 16, 16])
            XCTAssertTrue(y.toArray().allSatisfy { $0.isFinite })
        }
        XCTAssertThrowsError(try model.predict([0, 1], timestep: 3, text: Array(repeating: 0, count: 384), frames: 1, height: 16, width: 16))
    }

    /// Gives every temporal block's output projections (zero in a fresh model) random weights, as
    /// training would.
    static func openTemporalStream(_ model: VideoDenoiser) {
        var rng = Philox(seed: 99)
        for (name, p) in model.namedParameters() where name.contains("temporal") && (name.hasSuffix("toOut.weight") || name.hasSuffix("ff2.weight")) {
            p.assign(Tensor(shape: p.shape, data: rng.normal(count: p.shape.reduce(1, *)).map { 0.2 * $0 }))
        }
    }

    func testTemporalStreamMixesFramesOnlyWhenGated() throws {
        let model = try makeTiny()
        let (x, text) = randomInput(frames: 4, seed: 3)
        let base = withoutGradients { model(x, timesteps: [500], text: text) }.toArray()
        // Change frame 0 only.
        var data = x.toArray()
        for i in 0..<(3 * 16 * 16) { data[i] += 0.5 }
        let x2 = Tensor(shape: x.shape, data: data)
        let frame = 3 * 16 * 16
        func lastFrameChange(_ m: VideoDenoiser) -> Float {
            let a = withoutGradients { m(x, timesteps: [500], text: text) }.toArray()
            let b = withoutGradients { m(x2, timesteps: [500], text: text) }.toArray()
            return zip(a[(3 * frame)...], b[(3 * frame)...]).map { abs($0 - $1) }.max()!
        }
        XCTAssertEqual(lastFrameChange(model), 0, "fresh (zero output projections): frames are independent")
        XCTAssertEqual(base.count, 4 * frame)
        Self.openTemporalStream(model)
        XCTAssertGreaterThan(lastFrameChange(model), 1e-4, "trained output projections: frame 3 sees frame 0")
        for (name, p) in model.namedParameters() where name.hasSuffix("residualGate") { p.assign(Tensor(shape: [1], data: [0])) }
        XCTAssertEqual(lastFrameChange(model), 0, "gates at 0: frames are independent")
    }

    func testTemporalGateAndBiasGradients() throws {
        let model = try makeTiny()
        let (x, text) = randomInput(frames: 4, seed: 5)
        func loss() -> Tensor { model(x, timesteps: [300], text: text).square().mean() }
        func grad(_ suffix: String) -> [Float] {
            model.namedParameters().filter { $0.0.hasPrefix("down.0.temporal") && $0.0.hasSuffix(suffix) }.first!.1.grad?.toArray() ?? []
        }
        // At initialisation the zero output projections receive a gradient (the branch adds
        // nothing yet, so the gate's own gradient is 0).
        loss().backward()
        XCTAssertGreaterThan(grad("attention.toOut.weight").map(abs).max() ?? 0, 0)
        XCTAssertGreaterThan(grad("ff2.weight").map(abs).max() ?? 0, 0)
        XCTAssertEqual(grad("residualGate").map(abs).max() ?? 0, 0)
        model.zeroGrad()
        // Once the projections have grown, the gate, gamma and the Toeplitz table learn too.
        Self.openTemporalStream(model)
        for (name, p) in model.namedParameters() {
            if name.hasSuffix("residualGate") { p.assign(Tensor(shape: [1], data: [0.7])) }
            if name.hasSuffix("biasGate") { p.assign(Tensor(shape: [2, 1, 1], data: [0.5, -0.4])) }
        }
        loss().backward()
        let gammaGrad = grad("biasGate"), tableGrad = grad("relativeBias")
        XCTAssertGreaterThan(gammaGrad.map(abs).max() ?? 0, 0)
        XCTAssertGreaterThan(tableGrad.map(abs).max() ?? 0, 0)
        // Frame distances 0...3 are used with 4 frames; the clamped rows +-4 only by distance >= 4.
        XCTAssertEqual(tableGrad.count, 9 * 2)

        // gamma's gradient agrees with central finite differences (float32 forward: 5% + 1e-5).
        let gate = model.namedParameters().first { $0.0 == "down.0.temporal.biasGate" }!.1
        let original = gate.value.toArray()
        let h: Float = 0.05
        for k in 0..<2 {
            var plus = original, minus = original
            plus[k] += h
            minus[k] -= h
            gate.assign(Tensor(shape: [2, 1, 1], data: plus))
            let lp = withoutGradients { loss().item }
            gate.assign(Tensor(shape: [2, 1, 1], data: minus))
            let lm = withoutGradients { loss().item }
            let numeric = (lp - lm) / (2 * h)
            XCTAssertEqual(gammaGrad[k], numeric, accuracy: 0.05 * abs(numeric) + 1e-5, "d loss / d gamma[\(k)]")
        }
        gate.assign(Tensor(shape: [2, 1, 1], data: original))
    }

    func testCheckpointRoundTripAndBadFiles() throws {
        let model = try makeTiny(seed: 9)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("denoiser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        try model.save(to: url, metadata: ["step": "12"])
        let (loaded, metadata) = try VideoDenoiser.load(from: url)
        XCTAssertEqual(loaded.config, model.config)
        XCTAssertEqual(metadata["step"], "12")
        let (x, text) = randomInput(frames: 4, seed: 2)
        XCTAssertEqual(withoutGradients { loaded(x, timesteps: [42], text: text) }.toArray(),
                       withoutGradients { model(x, timesteps: [42], text: text) }.toArray())

        // Not a safetensors file.
        let junk = dir.appendingPathComponent("junk.safetensors")
        try Data("hello".utf8).write(to: junk)
        XCTAssertThrowsError(try VideoDenoiser.load(from: junk)) { error in
            XCTAssertTrue(error.localizedDescription.contains(junk.path), error.localizedDescription)
        }
        // A safetensors file without the configuration.
        let plain = dir.appendingPathComponent("plain.safetensors")
        try SafeTensors.write([SafeTensors.Entry(name: "w", shape: [1], floats: [1])], to: plain)
        XCTAssertThrowsError(try VideoDenoiser.load(from: plain)) { error in
            XCTAssertTrue(error.localizedDescription.contains("not a t2v-render denoiser checkpoint"), error.localizedDescription)
        }
        // A checkpoint missing a tensor.
        let partial = dir.appendingPathComponent("partial.safetensors")
        let json = String(decoding: try JSONEncoder().encode(model.config), as: UTF8.self)
        try SafeTensors.write([SafeTensors.Entry(name: "convIn.weight", shape: [16, 3, 3, 3], floats: Array(repeating: 0, count: 432))],
                              metadata: [DenoiserConfig.metadataKey: json], to: partial)
        XCTAssertThrowsError(try VideoDenoiser.load(from: partial)) { error in
            XCTAssertTrue(error.localizedDescription.contains("checkpoint has no tensor"), error.localizedDescription)
        }
        // Missing file.
        XCTAssertThrowsError(try VideoDenoiser.load(from: dir.appendingPathComponent("absent.safetensors")))
    }
}

/// Parity of the whole forward pass with a PyTorch port (Scripts/make_denoiser_fixture.py).
final class DenoiserParityTests: XCTestCase {
    func testForwardMatchesPyTorchPort() throws {
        let (model, _) = try VideoDenoiser.load(from: TestUtils.fixture("diffusion/denoiser_tiny.safetensors"))
        XCTAssertEqual(model.config, .tiny)
        let io = try SafeTensors(contentsOf: TestUtils.fixture("diffusion/denoiser_tiny_io.safetensors"))
        let x = Tensor(shape: try io.info("x").shape, data: try io.floats("x"))
        let text = Tensor(shape: try io.info("text").shape, data: try io.floats("text"))
        let timesteps = try io.int64s("timesteps").map { Int($0) }
        let expected = try io.floats("output")
        let out = withoutGradients { model(x, timesteps: timesteps, text: text) }
        XCTAssertEqual(out.shape, [2, 6, 3, 16, 16])
        // Float32 on both sides through ~30 layers: rtol 1e-3, atol 1e-4 (outputs have std 0.29).
        assertClose(out.toArray(), expected, rtol: 1e-3, atol: 1e-4)
    }
}
