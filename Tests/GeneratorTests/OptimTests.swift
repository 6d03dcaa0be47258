import XCTest
@testable import Generator

final class OptimTests: XCTestCase {
    func testAdamWAndClippingMatchPyTorch() throws {
        // Fixture: Scripts/make_op_fixtures.py (torch.optim.AdamW, clip_grad_norm_), rtol 1e-5, atol 1e-6.
        let fx = try FixtureFile.load("ops/optim.safetensors")
        let p = Parameter(fx["p0"]!.copy())
        let opt = AdamW(parameters: [p], configuration: .init(learningRate: 1e-2, weightDecay: 0.1))
        for i in 0..<3 {
            p.setGrad(fx["g\(i)"]!.copy())
            opt.step()
            assertClose(p.value.toArray(), fx["p\(i + 1)"]!.toArray(), rtol: 1e-5, atol: 1e-6, "step \(i + 1)")
        }
        let a = Parameter(fx["clip_a"]!.copy()), b = Parameter(fx["clip_b"]!.copy())
        a.setGrad(fx["clip_a"]!.copy())
        b.setGrad(fx["clip_b"]!.copy())
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        XCTAssertEqual(norm, fx["clip_norm"]!.item, accuracy: 1e-5 * fx["clip_norm"]!.item)
        assertClose(a.grad!.toArray(), fx["clipped_a"]!.toArray(), rtol: 1e-5, atol: 1e-7)
        assertClose(b.grad!.toArray(), fx["clipped_b"]!.toArray(), rtol: 1e-5, atol: 1e-7)
    }

    func testAdamWStateRoundTrip() throws {
        let p = Parameter(Tensor(shape: [2], data: [1, 2]))
        let opt = AdamW(parameters: [p])
        p.setGrad(Tensor(shape: [2], data: [0.5, -1]))
        opt.step()
        let q = Parameter(p.value.copy())
        let opt2 = AdamW(parameters: [q])
        try opt2.load(state: opt.state())
        XCTAssertEqual(opt2.stepCount, 1)
        p.setGrad(Tensor(shape: [2], data: [0.1, 0.2]))
        q.setGrad(Tensor(shape: [2], data: [0.1, 0.2]))
        opt.step()
        opt2.step()
        XCTAssertEqual(p.value.toArray(), q.value.toArray())
        XCTAssertThrowsError(try AdamW(parameters: [q]).load(state: [:]))
    }

    func testWarmupCosineSchedule() {
        let s = WarmupCosineSchedule(peak: 1e-3, minimum: 1e-5, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(s(0), 1e-4, accuracy: 1e-9)
        XCTAssertEqual(s(9), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(s(10), 1e-3, accuracy: 1e-9)
        XCTAssertEqual(s(60), 1e-5 + 0.5 * (1e-3 - 1e-5), accuracy: 1e-9)
        XCTAssertEqual(s(110), 1e-5, accuracy: 1e-9)
        XCTAssertEqual(s(500), 1e-5, accuracy: 1e-9)
    }

    func testEMA() {
        let p = Parameter(Tensor(shape: [1], data: [0]))
        let ema = EMA(parameters: [p], decay: 0.5, warmup: false)
        p.value.assign([1])
        ema.update()
        XCTAssertEqual(ema.shadow[0].item, 0.5)
        ema.update()
        XCTAssertEqual(ema.shadow[0].item, 0.75)
        ema.copyToParameters()
        XCTAssertEqual(p.value.item, 0.75)
        let warm = EMA(parameters: [p], decay: 0.999)
        p.value.assign([1.75])
        warm.update()  // decay min(0.999, 1/10) = 0.1
        XCTAssertEqual(warm.shadow[0].item, 0.1 * 0.75 + 0.9 * 1.75, accuracy: 1e-6)
    }

    /// A 2-32-1 MLP learns y = sin(2x₀)·x₁ on 64 fixed points: MSE below 2e-3 within 400 AdamW
    /// steps (starts near 0.5).
    func testTinyMLPFitsToyProblem() {
        var rng = TestRNG(seed: 11)
        final class MLP: Module {
            let l1: Linear, l2: Linear
            init(rng: inout some RandomNumberGenerator) { l1 = Linear(2, 32, rng: &rng); l2 = Linear(32, 1, rng: &rng) }
            func callAsFunction(_ x: Tensor) -> Tensor { l2(l1(x).gelu()) }
        }
        let model = MLP(rng: &rng)
        let x = randomTensor([64, 2], seed: 12, requiresGrad: false, scale: 1.5)
        let xs = x.toArray()
        let y = Tensor(shape: [64, 1], data: (0..<64).map { Foundation.sin(2 * xs[2 * $0]) * xs[2 * $0 + 1] })
        let opt = AdamW(parameters: model.parameters(), configuration: .init(learningRate: 2e-2, weightDecay: 0))
        var first: Float = 0, last: Float = 0
        for step in 0..<400 {
            opt.zeroGrad()
            let loss = mseLoss(model(x), y)
            loss.backward()
            opt.step()
            if step == 0 { first = loss.item }
            last = loss.item
        }
        XCTAssertGreaterThan(first, 0.05)
        XCTAssertLessThan(last, 2e-3, "MLP loss went from \(first) to \(last)")
    }

    /// A tiny conv net (conv3x3 → GroupNorm → SiLU → conv3x3 s2 → avgpool → linear) learns to
    /// tell horizontal from vertical stripes (regressing ±1): MSE below 1e-2 within 150 steps.
    func testTinyConvNetFitsToyProblem() {
        var rng = TestRNG(seed: 21)
        final class Net: Module {
            let c1: Conv2d, norm = GroupNorm(groups: 2, channels: 4), c2: Conv2d, head: Linear
            init(rng: inout some RandomNumberGenerator) {
                c1 = Conv2d(1, 4, kernelSize: 3, padding: 1, rng: &rng)
                c2 = Conv2d(4, 4, kernelSize: 3, stride: 2, padding: 1, rng: &rng)
                head = Linear(16, 1, rng: &rng)
            }
            func callAsFunction(_ x: Tensor) -> Tensor {
                var h = norm(c1(x)).silu()
                h = c2(h).avgPool2x()              // [N, 4, 2, 2]
                return head(h.reshaped([x.shape[0], 16]))
            }
        }
        let model = Net(rng: &rng)
        var data = [Float](), labels = [Float]()
        for i in 0..<16 {
            let horizontal = i % 2 == 0, phase = i / 2 % 2
            for yy in 0..<8 { for xx in 0..<8 { data.append(((horizontal ? yy : xx) + phase) % 2 == 0 ? 1 : -1) } }
            labels.append(horizontal ? 1 : -1)
        }
        let x = Tensor(shape: [16, 1, 8, 8], data: data), y = Tensor(shape: [16, 1], data: labels)
        let opt = AdamW(parameters: model.parameters(), configuration: .init(learningRate: 1e-2))
        var last: Float = 0
        for _ in 0..<150 {
            opt.zeroGrad()
            let loss = mseLoss(model(x), y)
            loss.backward()
            _ = clipGradientNorm(model.parameters(), maxNorm: 5)
            opt.step()
            last = loss.item
        }
        XCTAssertLessThan(last, 1e-2, "conv net loss \(last)")
    }
}
