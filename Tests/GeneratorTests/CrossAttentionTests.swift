import Foundation
import XCTest
@testable import Generator

/// `DenoiserConfig.crossAttention`: the frames attend to the prompt's token states.
final class CrossAttentionTests: XCTestCase {
    static var config: DenoiserConfig {
        var c = DenoiserConfig.tiny
        c.crossAttention = true
        c.textDim = 8
        return c
    }

    static func model(seed: UInt64 = 1) throws -> VideoDenoiser {
        var rng = Philox(seed: seed)
        return try VideoDenoiser(config: config, rng: &rng)
    }

    /// Token states of `count` random tokens of width 8.
    static func tokens(_ count: Int, seed: UInt64) -> [Float] {
        var g = Philox(seed: seed)
        return g.normal(count: count * 8)
    }

    /// Gives every cross-attention block's output projection non-zero weights.
    static func wake(_ model: VideoDenoiser) {
        wakeParameters(of: model, containing: "rossAttention.attention.toOut", seed: 77, std: 0.3)
    }

    func input(_ b: Int) -> (Tensor, Tensor) {
        var g = Philox(seed: 3)
        let c = Self.config
        return (Tensor.randn([b, c.frames, 3, c.resolution, c.resolution], using: &g), Tensor.randn([b, c.textDim], using: &g))
    }

    func testBlocksSitAtTheTwoLowestResolutionsAndInTheMiddle() throws {
        let names = Set(try Self.model().namedParameters().map(\.0).filter { $0.contains("rossAttention") }.map {
            $0.components(separatedBy: ".attention.").first!.components(separatedBy: ".norm.").first!
        })
        // Two levels in the tiny model: both are among the two lowest resolutions.
        XCTAssertEqual(names, ["down.0.crossAttention", "down.1.crossAttention", "midCrossAttention",
                               "up.0.crossAttention", "up.1.crossAttention"])
        var three = Self.config
        three.channelMultipliers = [1, 2, 2]
        var rng = Philox(seed: 1)
        let deeper = try VideoDenoiser(config: three, rng: &rng).namedParameters().map(\.0)
        XCTAssertFalse(deeper.contains { $0.hasPrefix("down.0.crossAttention") || $0.hasPrefix("up.0.crossAttention") },
                       "the top level of three has no cross-attention")
        XCTAssertTrue(deeper.contains { $0.hasPrefix("down.2.crossAttention") })
    }

    func testAFreshModelIgnoresTheTokensAndAWokenOneDoesNot() throws {
        let model = try Self.model()
        let (x, text) = input(1)
        let a = TokenStates([Self.tokens(3, seed: 10)], textDim: 8), b = TokenStates([Self.tokens(5, seed: 11)], textDim: 8)
        let ya = withoutGradients { model(x, timesteps: [300], text: text, tokens: a) }.toArray()
        let yb = withoutGradients { model(x, timesteps: [300], text: text, tokens: b) }.toArray()
        XCTAssertEqual(ya, yb, "zero-started output projections: the tokens change nothing yet")
        Self.wake(model)
        let wa = withoutGradients { model(x, timesteps: [300], text: text, tokens: a) }.toArray()
        let wb = withoutGradients { model(x, timesteps: [300], text: text, tokens: b) }.toArray()
        XCTAssertGreaterThan(zip(wa, wb).map { abs($0 - $1) }.max()!, 1e-3)
    }

    func testPaddingAndBatchingDoNotChangeAnItemsOutput() throws {
        let model = try Self.model()
        Self.wake(model)
        let (x2, text2) = input(2)
        let short = Self.tokens(2, seed: 20), long = Self.tokens(6, seed: 21)
        let both = withoutGradients { model(x2, timesteps: [200, 200], text: text2, tokens: TokenStates([short, long], textDim: 8)) }
        let n = both.count / 2
        let x0 = x2.slice(axis: 0, 0..<1), t0 = text2.slice(axis: 0, 0..<1)
        let alone = withoutGradients { model(x0, timesteps: [200], text: t0, tokens: TokenStates([short], textDim: 8)) }
        assertClose(Array(both.toArray()[0..<n]), alone.toArray(), rtol: 1e-5, atol: 1e-5)
        // The null context (no tokens) is finite and differs from a real prompt's.
        let null = withoutGradients { model(x0, timesteps: [200], text: t0, tokens: TokenStates([[]], textDim: 8)) }.toArray()
        XCTAssertTrue(null.allSatisfy(\.isFinite))
        XCTAssertNotEqual(null, alone.toArray())
    }

    func testGradientsMatchFiniteDifferences() throws {
        var rng = Philox(seed: 4)
        let layer = CrossAttention(channels: 8, textDim: 8, heads: 2, groups: 4, rng: &rng)
        var g = Philox(seed: 9)
        for p in [layer.attention.toOut.weight] { p.assign(Tensor(shape: p.shape, data: g.normal(count: p.value.count, std: 0.5))) }
        let x = randomTensor([4, 8, 3, 3], seed: 5)
        let states = TokenStates([Self.tokens(2, seed: 30), Self.tokens(3, seed: 31)], textDim: 8)
        let context = Tensor(shape: states.values.shape, data: states.values.toArray(), requiresGrad: true)
        checkGradients([x, context]) { inputs in
            let s = TokenStates(values: inputs[1], counts: states.counts)
            return layer(inputs[0], tokens: s, framesPerItem: 2)
        }
        // Padding positions get no gradient.
        let s = TokenStates(values: context, counts: states.counts)
        context.zeroGrad()
        layer(x.detached(), tokens: s, framesPerItem: 2).sum().backward()
        let grad = context.grad!.toArray()
        XCTAssertTrue(grad[(2 * 8)..<(3 * 8)].allSatisfy { $0 == 0 }, "the short item's padding token")
    }

    func testTrainingReachesTheBlocksAndPredictNeedsTokens() throws {
        let model = try Self.model()
        var tc = TrainingConfig()
        tc.batchSize = 2
        tc.totalSteps = 2
        tc.warmupSteps = 0
        tc.conditionDropout = 0
        let trainer = try Trainer(model: model, config: tc)
        let c = Self.config, n = c.frames * 3 * c.resolution * c.resolution
        var g = Philox(seed: 8)
        let clips = (0..<2).map { i in
            TrainingClip(video: g.normal(count: n).map { max(-1, min(1, $0 * 0.5)) }, text: g.normal(count: 8),
                         tokens: Self.tokens(2 + i, seed: 40 + UInt64(i)))
        }
        try trainer.trainStep(clips: clips)
        let moved = model.namedParameters().filter { $0.0.contains("rossAttention.attention.toOut.weight") }
            .map { $0.1.value.toArray().map(abs).max()! }
        XCTAssertTrue(moved.allSatisfy { $0 > 0 }, "every block's output projection left zero: \(moved)")
        let x = [Float](repeating: 0, count: n)
        XCTAssertThrowsError(try model.predict(x, timestep: 10, text: [Float](repeating: 0, count: 8), frames: c.frames,
                                               height: c.resolution, width: c.resolution)) { error in
            XCTAssertTrue("\(error)".contains("token states"), "\(error)")
        }
        XCTAssertNoThrow(try model.predict(x, timestep: 10, text: [Float](repeating: 0, count: 8), tokens: Self.tokens(2, seed: 1),
                                           frames: c.frames, height: c.resolution, width: c.resolution))
    }

    func testConfigurationAndCheckpointRoundTrip() throws {
        let plain = String(decoding: try JSONEncoder().encode(DenoiserConfig.tiny), as: UTF8.self)
        XCTAssertFalse(plain.contains("crossAttention"), "models without it keep their JSON")
        XCTAssertTrue(try DenoiserConfig.fromJSON(Data(#"{"crossAttention": true}"#.utf8)).crossAttention)
        let model = try Self.model()
        Self.wake(model)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("xattn-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url)
        let loaded = try VideoDenoiser.load(from: url).model
        XCTAssertTrue(loaded.config.crossAttention)
        let (x, text) = input(1)
        let tokens = TokenStates([Self.tokens(4, seed: 50)], textDim: 8)
        XCTAssertEqual(withoutGradients { model(x, timesteps: [500], text: text, tokens: tokens) }.toArray(),
                       withoutGradients { loaded(x, timesteps: [500], text: text, tokens: tokens) }.toArray())
    }

    /// `VideoDenoiser.extending`: a trained model grows cross-attention and the temporal
    /// convolution, keeps every trained weight, and computes the same output until they learn;
    /// any other change of architecture, or dropping a module, is refused by name.
    func testExtendingAModelAddsZeroStartedModulesAndKeepsItsFunction() throws {
        var plain = Self.config
        plain.crossAttention = false
        var rng = Philox(seed: 5)
        let base = try VideoDenoiser(config: plain, rng: &rng)
        // Move the base off its initialisation so a fresh copy would differ.
        var g = Philox(seed: 6)
        for (_, p) in base.namedParameters() { p.assign(p.value + Tensor(shape: p.shape, data: g.normal(count: p.value.count, std: 0.05))) }
        var grownConfig = plain
        grownConfig.crossAttention = true
        grownConfig.temporalConvolution = true
        grownConfig.temporalConditioning = true
        grownConfig.frames = 3
        var rng2 = Philox(seed: 9)
        let grown = try VideoDenoiser.extending(base, to: grownConfig, rng: &rng2)
        XCTAssertEqual(grown.config, grownConfig)
        let baseWeights = Dictionary(uniqueKeysWithValues: base.namedParameters().map { ($0.0, $0.1.value.toArray()) })
        let added = grown.namedParameters().filter { baseWeights[$0.0] == nil }.map(\.0)
        XCTAssertFalse(added.isEmpty)
        XCTAssertTrue(added.allSatisfy { $0.contains("rossAttention") || $0.contains("onvolution") || $0.contains(".condition.") }, "\(added)")
        XCTAssertTrue(added.contains { $0.contains("emporal.condition.weight") }, "\(added)")
        for (name, p) in grown.namedParameters() where baseWeights[name] != nil {
            XCTAssertEqual(p.value.toArray(), baseWeights[name]!, name)
        }
        var gx = Philox(seed: 3)
        let x = Tensor.randn([1, 3, plain.inChannels, plain.resolution, plain.resolution], using: &gx), text = Tensor.randn([1, plain.textDim], using: &gx)
        let y0 = withoutGradients { base(x, timesteps: [400], text: text) }.toArray()
        let y1 = withoutGradients { grown(x, timesteps: [400], text: text, tokens: TokenStates([Self.tokens(4, seed: 12)], textDim: 8)) }.toArray()
        assertClose(y1, y0, rtol: 1e-5, atol: 1e-5)

        var wider = grownConfig
        wider.baseChannels *= 2
        XCTAssertThrowsError(try VideoDenoiser.extending(base, to: wider, rng: &rng2)) { error in
            XCTAssertTrue("\(error)".contains("baseChannels"), "\(error)")
        }
        XCTAssertThrowsError(try VideoDenoiser.extending(grown, to: plain, rng: &rng2)) { error in
            XCTAssertTrue("\(error)".contains("drop"), "\(error)")
        }
    }
}
