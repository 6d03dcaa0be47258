import Foundation
import XCTest
@testable import Generator

/// Noise schedules, forward noising, prediction types and loss weights against diffusers.
final class NoiseScheduleTests: XCTestCase {
    func testBetasAndAlphasCumprodMatchDiffusers() {
        for (name, expected) in DiffusionFixtures.schedules.schedules {
            let ours = DiffusionFixtures.ownSchedule(name)
            // diffusers rounds betas to float32 (rel. 6e-8) and accumulates abar in float32
            // (measured rel. error up to 1.3e-5 at the end of the cosine schedule).
            assertClose(ours.betas.map(Float.init), expected.betas.map(Float.init), rtol: 1e-6, atol: 0, name)
            assertClose(ours.alphasCumprod.map(Float.init), expected.alphas_cumprod.map(Float.init), rtol: 3e-5, atol: 1e-12, name)
            // Built from diffusers' float32 betas, only the cumulative product's rounding differs.
            let same = DiffusionFixtures.diffusersSchedule(name)
            assertClose(same.alphasCumprod.map(Float.init), expected.alphas_cumprod.map(Float.init), rtol: 2e-6, atol: 1e-12, name)
        }
    }

    func testTimestepGridsMatchDiffusers() {
        for grid in DiffusionFixtures.schedules.grids {
            let spacing = TimestepSpacing(rawValue: grid.spacing)!
            let ours = grid.scheduler == "dpm"
                ? spacing.solverTimesteps(count: grid.steps, trainSteps: 1000, offset: grid.offset)
                : spacing.timesteps(count: grid.steps, trainSteps: 1000, offset: grid.offset)
            XCTAssertEqual(ours, grid.timesteps, "\(grid.scheduler) \(grid.spacing) \(grid.steps) steps offset \(grid.offset)")
        }
    }

    func testAddNoiseVelocityAndSNRMatchDiffusers() {
        let f = DiffusionFixtures.schedules.forward
        for (name, expected) in f.per_schedule {
            let s = DiffusionFixtures.diffusersSchedule(name)
            let noisy = s.addNoise(x0: f.x0, noise: f.noise, timesteps: f.timesteps)
            // At t = 0 diffusers' float32 1 - abar is off by 1.7e-4 relative; sigma multiplies noise ~1.
            assertClose(noisy, expected.noisy, rtol: 1e-5, atol: 2e-6, "add_noise \(name)")
            assertClose(s.velocity(x0: f.x0, noise: f.noise, timesteps: f.timesteps), expected.velocity,
                        rtol: 1e-5, atol: 2e-6, "velocity \(name)")
            for (i, t) in f.timesteps.enumerated() {
                XCTAssertEqual(s.snr(t), expected.snr[i], accuracy: Self.snrTolerance(s, t), "snr \(name) t=\(t)")
            }
            // Single-timestep forms agree with the batched ones.
            let n = f.x0.count / f.timesteps.count
            let one = s.addNoise(x0: Array(f.x0[n..<2 * n]), noise: Array(f.noise[n..<2 * n]), timestep: f.timesteps[1])
            XCTAssertEqual(one, Array(noisy[n..<2 * n]))
        }
    }

    /// diffusers computes SNR = abar / (1 - abar) in float32, where 1 - abar near t = 0 carries a
    /// rounding error of up to one float32 ulp of 1 (6e-8) plus the cumulative product's (~1e-6
    /// relative): allow 2 ulp of 1 relative to 1 - abar, plus 2e-5.
    static func snrTolerance(_ s: NoiseSchedule, _ t: Int) -> Double {
        s.snr(t) * (1.2e-7 / (1 - s.alphaCumprod(t)) + 2e-5)
    }

    func testMinSNRWeightsMatchDiffusersTrainingScript() {
        let f = DiffusionFixtures.schedules.forward
        for (name, expected) in f.per_schedule {
            let s = DiffusionFixtures.diffusersSchedule(name)
            let eps = DiffusionLoss.weights(timesteps: f.timesteps, schedule: s, prediction: .epsilon, weighting: .minSNR(gamma: 5))
            let v = DiffusionLoss.weights(timesteps: f.timesteps, schedule: s, prediction: .v, weighting: .minSNR(gamma: 5))
            for i in f.timesteps.indices {
                let t = f.timesteps[i]
                let rel = Self.snrTolerance(s, t) / s.snr(t)
                XCTAssertEqual(eps[i], expected.min_snr5_epsilon[i], accuracy: rel * expected.min_snr5_epsilon[i], "\(name) eps t=\(t)")
                XCTAssertEqual(v[i], expected.min_snr5_v[i], accuracy: rel * expected.min_snr5_v[i], "\(name) v t=\(t)")
            }
        }
        // The x0 form is min(SNR, gamma) itself; truncated SNR is max(SNR, 1) on x0.
        XCTAssertEqual(LossWeighting.minSNR(gamma: 5).weight(snr: 9, prediction: .x0), 5)
        XCTAssertEqual(LossWeighting.minSNR(gamma: 5).weight(snr: 0.5, prediction: .x0), 0.5)
        XCTAssertEqual(LossWeighting.truncatedSNR.weight(snr: 0.25, prediction: .x0), 1)
        XCTAssertEqual(LossWeighting.truncatedSNR.weight(snr: 3, prediction: .v), 0.75, accuracy: 1e-12)
        XCTAssertEqual(LossWeighting.uniform.weight(snr: 3, prediction: .epsilon), 1)
    }

    func testPredictionTypeConversionsAreConsistent() {
        let s = NoiseSchedule.default
        var rng = TestNormals(seed: 3)
        let x0 = rng.normal(count: 64), eps = rng.normal(count: 64)
        for t in [0, 10, 500, 999] {
            let a = s.alpha(t), sg = s.sigma(t)
            let xt = s.addNoise(x0: x0, noise: eps, timestep: t)
            for p in PredictionType.allCases {
                let out = p.target(x0: x0, noise: eps, alpha: a, sigma: sg)
                // Recover x0 and eps from each parameterisation. Epsilon divides by alpha, x0 by sigma.
                let x0Tol: Float = p == .epsilon ? Float(1e-6 / a) * 4 : 2e-6
                let epsTol: Float = p == .x0 ? Float(1e-6 / sg) * 4 : 2e-6
                assertClose(p.originalSample(from: out, sample: xt, alpha: a, sigma: sg), x0, rtol: 0, atol: x0Tol, "\(p) x0 t=\(t)")
                assertClose(p.noise(from: out, sample: xt, alpha: a, sigma: sg), eps, rtol: 0, atol: epsTol, "\(p) eps t=\(t)")
                for q in PredictionType.allCases {
                    let expected = q.target(x0: x0, noise: eps, alpha: a, sigma: sg)
                    assertClose(p.convert(out, to: q, sample: xt, alpha: a, sigma: sg), expected,
                                rtol: 0, atol: max(x0Tol, epsTol) * 2, "\(p) -> \(q) t=\(t)")
                }
            }
        }
        // v matches the schedule's velocity helper exactly.
        XCTAssertEqual(PredictionType.v.target(x0: x0, noise: eps, alpha: s.alpha(300), sigma: s.sigma(300)),
                       s.velocity(x0: x0, noise: eps, timestep: 300))
        XCTAssertEqual(PredictionType(rawValue: "v_prediction"), .v)
    }

    func testCleanEndpointAndSNRLimits() {
        let s = NoiseSchedule.default
        XCTAssertEqual(s.alphaCumprod(-1), 1)
        XCTAssertEqual(s.sigma(-1), 0)
        XCTAssertEqual(s.alpha(0), (1 - 1e-4).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(s.snr(999), 4.035829765375676e-05 / (1 - 4.035829765375676e-05), accuracy: 1e-9)
        XCTAssertEqual(s.logSNR(400), log(s.snr(400)), accuracy: 1e-12)
        // SNR decreases strictly with t for every schedule.
        for name in ["linear", "scaled_linear", "squaredcos_cap_v2"] {
            let sch = DiffusionFixtures.ownSchedule(name)
            XCTAssertTrue((1..<1000).allSatisfy { sch.snr($0) < sch.snr($0 - 1) }, name)
        }
    }

    func testNoiseScheduleCodableRoundTrip() throws {
        for schedule in [NoiseSchedule.default, NoiseSchedule(.squaredCosCapV2, trainSteps: 500),
                         NoiseSchedule(.custom(betas: [0.1, 0.2, 0.3]), trainSteps: 3)] {
            let data = try JSONEncoder().encode(schedule)
            let back = try JSONDecoder().decode(NoiseSchedule.self, from: data)
            XCTAssertEqual(back, schedule)
            XCTAssertLessThan(data.count, 200, "the arrays are derived, not stored")
        }
    }

    func testWeightedMSEAndGradientAgainstFiniteDifferences() {
        var rng = TestNormals(seed: 9)
        let p = rng.normal(count: 12), y = rng.normal(count: 12)
        let w = [0.5, 2.0, 1.25]
        let (loss, grad) = DiffusionLoss.weightedMSE(prediction: p, target: y, weights: w)
        // Direct formula in Double.
        func lossD(_ q: [Double]) -> Double {
            var total = 0.0
            for s in 0..<3 {
                var sum = 0.0
                for j in s * 4..<(s + 1) * 4 { sum += (q[j] - Double(y[j])) * (q[j] - Double(y[j])) }
                total += w[s] * sum / 4
            }
            return total / 3
        }
        let pd = p.map(Double.init)
        XCTAssertEqual(loss, lossD(pd), accuracy: 1e-12)
        for j in 0..<12 {
            var plus = pd, minus = pd
            plus[j] += 1e-6
            minus[j] -= 1e-6
            let numeric = (lossD(plus) - lossD(minus)) / 2e-6
            XCTAssertEqual(Double(grad[j]), numeric, accuracy: 1e-6 + 1e-5 * abs(numeric), "gradient \(j)")
        }
    }
}

/// A small deterministic normal generator for tests (the target's SplitMix64, `TestRNG`, and
/// Box-Muller, in Double).
struct TestNormals {
    private var rng: TestRNG
    init(seed: UInt64) { rng = TestRNG(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 1) }
    private mutating func uniform() -> Double { (Double(rng.next() >> 11) + 0.5) / 9_007_199_254_740_992 }
    mutating func normal(count: Int) -> [Float] {
        var out = [Float]()
        out.reserveCapacity(count)
        while out.count < count {
            let u1 = uniform(), u2 = uniform()
            let r = (-2 * log(u1)).squareRoot()
            out.append(Float(r * cos(2 * .pi * u2)))
            if out.count < count { out.append(Float(r * sin(2 * .pi * u2))) }
        }
        return out
    }
}
