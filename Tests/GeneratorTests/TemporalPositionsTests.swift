import Foundation
import XCTest
@testable import Generator

/// `DenoiserConfig.temporalPositions`: every temporal block sees each frame's place in its clip.
final class TemporalPositionsTests: XCTestCase {
    static var config: DenoiserConfig {
        var c = DenoiserConfig.tiny
        c.temporalPositions = true
        c.frames = 4
        return c
    }

    /// Gives every block's position projection non-zero weights (named `...temporal.position.*`).
    static func wake(_ model: VideoDenoiser, seed: UInt64 = 78) {
        wakeParameters(of: model, containing: "emporal.position.", seed: seed, std: 0.5)
    }

    func testFeaturesAreTheSinesAndCosinesOfTheFrameIndex() {
        let phi = TemporalTransformer.framePositionFeatures(frames: 5)
        XCTAssertEqual(phi.shape, [5, TemporalTransformer.positionFeatures])
        let v = phi.toArray()
        for f in 0..<5 {
            for k in 0..<8 {
                let angle = 2 * Double.pi * Double(f) / Double(1 << (k + 2))
                XCTAssertEqual(Double(v[f * 16 + 2 * k]), sin(angle), accuracy: 1e-6, "sin, f \(f) k \(k)")
                XCTAssertEqual(Double(v[f * 16 + 2 * k + 1]), cos(angle), accuracy: 1e-6, "cos, f \(f) k \(k)")
            }
        }
    }

    /// Each temporal block (every level and the middle) has a zero-started `[C, 16]` projection.
    func testEveryTemporalBlockHasAZeroStartedProjection() throws {
        var rng = Philox(seed: 1)
        let model = try VideoDenoiser(config: Self.config, rng: &rng)
        let weights = model.namedParameters().filter { $0.0.hasSuffix("emporal.position.weight") }
        XCTAssertEqual(weights.count, 2 * Self.config.channelMultipliers.count + 1, weights.map(\.0).joined(separator: ", "))
        for (name, p) in weights {
            XCTAssertEqual(p.shape[1], TemporalTransformer.positionFeatures, name)
            XCTAssertTrue(p.value.toArray().allSatisfy { $0 == 0 }, "\(name) starts at zero")
        }
    }

    /// A clip of one frame repeated: with attention spread evenly (the bias gates at zero) every
    /// frame of the plain model's output is the same, since nothing tells the frames apart; the
    /// model grown from it computes the same until its positions wake, and then its frames differ.
    func testPositionsTellTheFramesOfAStillClipApart() throws {
        var plainConfig = Self.config
        plainConfig.temporalPositions = false
        var rng = Philox(seed: 4)
        let plain = try VideoDenoiser(config: plainConfig, rng: &rng)
        var g = Philox(seed: 6)
        for (name, p) in plain.namedParameters() where !name.hasSuffix("biasGate") {
            p.assign(p.value + Tensor(shape: p.shape, data: g.normal(count: p.value.count, std: 0.05)))
        }
        var rng2 = Philox(seed: 9)
        let model = try VideoDenoiser.extending(plain, to: Self.config, rng: &rng2)
        let c = Self.config, r = c.resolution, frame = 3 * r * r
        let one = Tensor.randn([1, 1, 3, r, r], using: &g).toArray()
        let x = Tensor(shape: [1, c.frames, 3, r, r], data: Array((0..<c.frames).map { _ in one }.joined()))
        let text = Tensor.randn([1, c.textDim], using: &g)
        func frameSpread(_ y: [Float]) -> Float {
            (1..<c.frames).map { f in (0..<frame).map { abs(y[f * frame + $0] - y[$0]) }.max() ?? 0 }.max() ?? 0
        }
        let y0 = withoutGradients { plain(x, timesteps: [500], text: text) }.toArray()
        XCTAssertLessThan(frameSpread(y0), 1e-5, "the plain model cannot tell the frames of a still clip apart")
        XCTAssertEqual(withoutGradients { model(x, timesteps: [500], text: text) }.toArray(), y0)
        Self.wake(model)
        XCTAssertGreaterThan(frameSpread(withoutGradients { model(x, timesteps: [500], text: text) }.toArray()), 1e-3)
    }

    /// Gradients of a block with both the text and the positions, against central finite
    /// differences, on both of the block's paths (rows of frames and the maps in place).
    func testGradientsMatchFiniteDifferences() throws {
        for channelMajor in [false, true] {
            var rng = Philox(seed: 4)
            let block = TemporalTransformer(channels: 8, heads: 2, maxDistance: 4, textDim: 6, positions: true, rng: &rng)
            block.channelMajor = channelMajor
            var g = Philox(seed: 9)
            for p in [block.attention.toOut.weight, block.ff2.weight, block.condition!.weight, block.position!.weight] {
                p.assign(Tensor(shape: p.shape, data: g.normal(count: p.value.count, std: 0.5)))
            }
            block.biasGate.assign(Tensor(shape: [2, 1, 1], data: [0.5, -0.5]))
            let x = randomTensor([6, 8, 2, 2], seed: 5), text = randomTensor([2, 6], seed: 6)
            checkGradients([x, text], "channelMajor \(channelMajor)") { inputs in block(inputs[0], frames: 3, text: inputs[1]) }
        }
    }

    func testConfigurationAndCheckpointRoundTrip() throws {
        let plain = String(decoding: try JSONEncoder().encode(DenoiserConfig.tiny), as: UTF8.self)
        XCTAssertFalse(plain.contains("temporalPositions"), "models without it keep their JSON")
        XCTAssertTrue(try DenoiserConfig.fromJSON(Data(#"{"temporalPositions": true}"#.utf8)).temporalPositions)
        var ablation = Self.config
        ablation.temporal = false
        XCTAssertThrowsError(try ablation.validate()) { XCTAssertTrue("\($0)".contains("temporalPositions"), "\($0)") }

        var rng = Philox(seed: 1)
        let model = try VideoDenoiser(config: Self.config, rng: &rng)
        Self.wake(model)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tpos-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url)
        let loaded = try VideoDenoiser.load(from: url).model
        XCTAssertTrue(loaded.config.temporalPositions)
        var g = Philox(seed: 3)
        let c = Self.config
        let x = Tensor.randn([1, c.frames, 3, c.resolution, c.resolution], using: &g), text = Tensor.randn([1, c.textDim], using: &g)
        XCTAssertEqual(withoutGradients { model(x, timesteps: [500], text: text) }.toArray(),
                       withoutGradients { loaded(x, timesteps: [500], text: text) }.toArray())
        var rng2 = Philox(seed: 2)
        var without = Self.config
        without.temporalPositions = false
        XCTAssertThrowsError(try VideoDenoiser.extending(model, to: without, rng: &rng2)) {
            XCTAssertTrue("\($0)".contains("frame positions"), "\($0)")
        }
    }
}
