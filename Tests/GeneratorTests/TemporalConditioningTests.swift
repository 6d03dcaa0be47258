import Foundation
import XCTest
@testable import Generator

/// `DenoiserConfig.temporalConditioning`: every temporal block sees the clip's pooled text.
final class TemporalConditioningTests: XCTestCase {
    static var config: DenoiserConfig {
        var c = DenoiserConfig.tiny
        c.temporalConditioning = true
        c.textDim = 8
        c.frames = 3
        return c
    }

    /// Gives every block's text projection non-zero weights (named `...temporal.condition.*`).
    static func wake(_ model: VideoDenoiser, seed: UInt64 = 77) {
        wakeParameters(of: model, containing: "emporal.condition.", seed: seed, std: 0.5)
    }

    func input(_ b: Int, seed: UInt64 = 3) -> (Tensor, Tensor) {
        var g = Philox(seed: seed)
        let c = Self.config
        return (Tensor.randn([b, c.frames, 3, c.resolution, c.resolution], using: &g), Tensor.randn([b, c.textDim], using: &g))
    }

    /// Each temporal block (every level and the middle) has a `[C, textDim]` projection.
    func testEveryTemporalBlockHasAProjection() throws {
        var rng = Philox(seed: 1)
        let model = try VideoDenoiser(config: Self.config, rng: &rng)
        let weights = model.namedParameters().filter { $0.0.hasSuffix("emporal.condition.weight") }
        let levels = Self.config.channelMultipliers.count
        XCTAssertEqual(weights.count, 2 * levels + 1, weights.map(\.0).joined(separator: ", "))
        for (name, p) in weights {
            XCTAssertEqual(p.shape[1], Self.config.textDim, name)
            XCTAssertTrue(p.value.toArray().allSatisfy { $0 == 0 }, "\(name) starts at zero")
        }
    }

    /// A fresh block adds nothing: the model computes what the same weights compute without it.
    /// Woken, the output depends on the text through the temporal stream too, and the image path
    /// (no temporal stream) stays as it was.
    func testAFreshModelComputesThePlainModelsFunctionAndAWokenOneFollowsTheText() throws {
        var plainConfig = Self.config
        plainConfig.temporalConditioning = false
        var rng = Philox(seed: 4)
        let plain = try VideoDenoiser(config: plainConfig, rng: &rng)
        var g = Philox(seed: 6)
        for (_, p) in plain.namedParameters() { p.assign(p.value + Tensor(shape: p.shape, data: g.normal(count: p.value.count, std: 0.05))) }
        var rng2 = Philox(seed: 9)
        let model = try VideoDenoiser.extending(plain, to: Self.config, rng: &rng2)
        let (x, text) = input(2)
        let y0 = withoutGradients { plain(x, timesteps: [300, 700], text: text) }.toArray()
        let y1 = withoutGradients { model(x, timesteps: [300, 700], text: text) }.toArray()
        XCTAssertEqual(y1, y0)

        Self.wake(model)
        let y2 = withoutGradients { model(x, timesteps: [300, 700], text: text) }.toArray()
        let change = zip(y2, y0).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(change, 1e-3, "a woken block changes the output")

        let images = Tensor.randn([3, 3, Self.config.resolution, Self.config.resolution], using: &g)
        let imageText = Tensor.randn([3, Self.config.textDim], using: &g)
        XCTAssertEqual(withoutGradients { model(images: images, timesteps: [1, 2, 3], text: imageText) }.toArray(),
                       withoutGradients { plain(images: images, timesteps: [1, 2, 3], text: imageText) }.toArray())
    }

    /// Gradients of a woken block with respect to the frames and the text, against central
    /// finite differences.
    func testGradientsMatchFiniteDifferences() throws {
        var rng = Philox(seed: 4)
        let block = TemporalTransformer(channels: 8, heads: 2, maxDistance: 4, textDim: 6, rng: &rng)
        var g = Philox(seed: 9)
        for p in [block.attention.toOut.weight, block.ff2.weight, block.condition!.weight] {
            p.assign(Tensor(shape: p.shape, data: g.normal(count: p.value.count, std: 0.5)))
        }
        block.biasGate.assign(Tensor(shape: [2, 1, 1], data: [0.5, -0.5]))
        let x = randomTensor([6, 8, 2, 2], seed: 5), text = randomTensor([2, 6], seed: 6)
        checkGradients([x, text]) { inputs in block(inputs[0], frames: 3, text: inputs[1]) }
    }

    func testConfigurationAndCheckpointRoundTrip() throws {
        let plain = String(decoding: try JSONEncoder().encode(DenoiserConfig.tiny), as: UTF8.self)
        XCTAssertFalse(plain.contains("temporalConditioning"), "models without it keep their JSON")
        XCTAssertTrue(try DenoiserConfig.fromJSON(Data(#"{"temporalConditioning": true}"#.utf8)).temporalConditioning)
        var ablation = Self.config
        ablation.temporal = false
        XCTAssertThrowsError(try ablation.validate()) { XCTAssertTrue("\($0)".contains("temporalConditioning"), "\($0)") }

        var rng = Philox(seed: 1)
        let model = try VideoDenoiser(config: Self.config, rng: &rng)
        Self.wake(model)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tcond-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url)
        let loaded = try VideoDenoiser.load(from: url).model
        XCTAssertTrue(loaded.config.temporalConditioning)
        let (x, text) = input(1)
        XCTAssertEqual(withoutGradients { model(x, timesteps: [500], text: text) }.toArray(),
                       withoutGradients { loaded(x, timesteps: [500], text: text) }.toArray())
    }
}
