import Foundation
import XCTest
@testable import Generator

/// The samplers driven by the exact optimal denoiser for Gaussian data must reproduce the data
/// distribution; and the sampling driver's contract (guidance calls, noise use, progress, errors).
final class SamplerTests: XCTestCase {
    /// Data groups (mean, std); each of `perGroup` elements is an independent draw.
    static let groups: [(mean: Float, std: Float)] = [(0.5, 1.0), (-1.0, 0.5), (2.0, 0.25), (0.0, 0.1)]
    static let perGroup = 8192

    struct Stats { var mean: Double; var variance: Double }

    /// Draws one sample of 4 x 8192 elements and returns, per group, the mean and variance of the
    /// standardised values (x - mean) / std (ideal: 0 and 1).
    func standardisedStats<S: Scheduler>(_ scheduler: S, seed: UInt64) throws -> [Stats] {
        let n = Self.perGroup
        let mean = Self.groups.flatMap { Array(repeating: $0.mean, count: n) }
        let std = Self.groups.flatMap { Array(repeating: $0.std, count: n) }
        let denoiser = GaussianOptimalDenoiser(mean: mean, std: std, schedule: scheduler.schedule,
                                               prediction: scheduler.predictionType)
        var rng = TestNormals(seed: seed)
        let x = try DiffusionSampler.sample(count: mean.count, scheduler: scheduler,
                                            noise: { rng.normal(count: $0) }, model: { x, t in denoiser(x, t) })
        return Self.groups.indices.map { g in
            let z = (g * n..<(g + 1) * n).map { (Double(x[$0]) - Double(mean[$0])) / Double(std[$0]) }
            let m = z.reduce(0, +) / Double(n)
            let v = z.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(n - 1)
            return Stats(mean: m, variance: v)
        }
    }

    // MARK: Closed-form statistics of each sampler on Gaussian data

    /// Exact standardised (mean, variance) of a sampler's output for data N(mean, std^2), from the
    /// papers' update rules applied to the Gaussian statistics (not to arrays). Writing
    /// c = x - alpha mu, the optimal predictor is x0 = mu + k c, eps = sigma c / D with
    /// D = alpha^2 std^2 + sigma^2 and k = alpha std^2 / D, and every update is affine in c
    /// (the mu terms cancel), so c_final = M c_T + noise terms.
    enum ClosedForm {
        static func k(_ s: NoiseSchedule, _ t: Int, _ std: Double) -> Double {
            let a = s.alpha(t), sg = s.sigma(t)
            return a * std * std / (a * a * std * std + sg * sg)
        }

        /// DDPM, fixed_small: c_s = (c0 k + ct) c_t + sqrt(tilde beta) z (Ho et al. eqs. 6-7).
        static func ddpm(_ sch: DDPMScheduler, mean mu: Double, std: Double) -> (Double, Double) {
            let s = sch.schedule
            var m = -s.alpha(sch.timesteps[0]) * mu, v = 1.0   // c_T = x_T - alpha_T mu, x_T ~ N(0, 1)
            for (i, t) in sch.timesteps.enumerated() {
                let prev = i + 1 < sch.timesteps.count ? sch.timesteps[i + 1] : -1
                let abarT = s.alphaCumprod(t), abarS = s.alphaCumprod(prev)
                let beta = 1 - abarT / abarS
                let c0 = abarS.squareRoot() * beta / (1 - abarT)
                let ct = (abarT / abarS).squareRoot() * (1 - abarS) / (1 - abarT)
                let f = c0 * k(s, t, std) + ct
                m *= f
                v = f * f * v + (t > 0 ? max((1 - abarS) / (1 - abarT) * beta, 1e-20) : 0)
            }
            return (m / std, v / (std * std))
        }

        /// DDIM, eta 0: c_s = (alpha_s k + sigma_s sigma_t / D) c_t (Song et al. eq. 12).
        static func ddim(_ sch: DDIMScheduler, mean mu: Double, std: Double) -> (Double, Double) {
            let s = sch.schedule
            var mult = 1.0
            for (i, t) in sch.timesteps.enumerated() {
                let prev = i + 1 < sch.timesteps.count ? sch.timesteps[i + 1] : -1
                let d = s.alpha(t) * s.alpha(t) * std * std + s.sigma(t) * s.sigma(t)
                mult *= s.alpha(prev) * k(s, t, std) + s.sigma(prev) * s.sigma(t) / d
            }
            return (-s.alpha(sch.timesteps[0]) * mu * mult / std, mult * mult / (std * std))
        }

        /// DPM-Solver++(2M) (Lu et al. Alg. 2), final step first order onto sigma = 0.
        static func dpm(_ sch: DPMSolverMultistepScheduler, mean mu: Double, std: Double) -> (Double, Double) {
            let s = sch.schedule, ts = sch.timesteps
            func lambda(_ t: Int) -> Double { log(s.alpha(t) / s.sigma(t)) }
            var mult = 1.0, previous: Double? = nil   // c_t = mult * c_T; previous k * c at the last step
            for (i, t) in ts.enumerated() {
                let x0 = k(s, t, std) * mult
                guard i + 1 < ts.count else { mult = x0; break }
                let next = ts[i + 1]
                let h = lambda(next) - lambda(t)
                let ratio = s.sigma(next) / s.sigma(t), phi = s.alpha(next) * (1 - exp(-h))
                if let p = previous {
                    let half = 0.5 / ((lambda(t) - lambda(ts[i - 1])) / h)
                    mult = ratio * mult + phi * ((1 + half) * x0 - half * p)
                } else {
                    mult = ratio * mult + phi * x0
                }
                previous = x0
            }
            return (-s.alpha(ts[0]) * mu * mult / std, mult * mult / (std * std))
        }
    }

    /// Checks the Monte Carlo statistics against the closed form (5 standard errors with 8192
    /// draws: 5 sqrt(var / n) for the mean, 5 var sqrt(2 / n) for the variance), and the closed
    /// form against the data for groups with std >= `minStd` (|variance - 1| <= `varianceTol`,
    /// |mean| <= 0.01: the sampler's own discretisation error).
    func check<S: Scheduler>(_ name: String, _ scheduler: S, varianceTol: Double, minStd: Float,
                             closedForm: (S, Double, Double) -> (Double, Double)) throws {
        let stats = try standardisedStats(scheduler, seed: 1)
        let n = Double(Self.perGroup)
        for (g, s) in stats.enumerated() {
            let (mean, std) = Self.groups[g]
            let (em, ev) = closedForm(scheduler, Double(mean), Double(std))
            let label = "\(name), data N(\(mean), \(std)^2)"
            XCTAssertEqual(s.mean, em, accuracy: 5 * (ev / n).squareRoot(), "\(label): Monte Carlo mean vs closed form")
            XCTAssertEqual(s.variance, ev, accuracy: 5 * ev * (2 / n).squareRoot(), "\(label): Monte Carlo variance vs closed form")
            if std >= minStd {
                XCTAssertEqual(em, 0, accuracy: 0.01, "\(label): sampler mean bias")
                XCTAssertEqual(ev, 1, accuracy: varianceTol, "\(label): sampler variance bias")
            }
        }
    }

    func testDDPM1000StepsReproducesTheData() throws {
        // Closed-form variance ratios: 0.991, 0.985, 0.970, 0.928 for std 1, 0.5, 0.25, 0.1
        // (fixed_small is the lower bound of the true reverse variance, so DDPM under-disperses).
        try check("DDPM 1000 steps", DDPMScheduler(inferenceSteps: 1000, predictionType: .epsilon),
                  varianceTol: 0.04, minStd: 0.25, closedForm: ClosedForm.ddpm)
    }

    func testDDIMDeterministicReproducesTheData() throws {
        // Deterministic DDIM contracts the variance (Cauchy-Schwarz: each step's factor is at most
        // the exact sqrt(D_s / D_t)); 50 steps stay within 12% for std >= 0.5, 10 steps do not.
        try check("DDIM 50 eps linear", DDIMScheduler(inferenceSteps: 50, spacing: .trailing, predictionType: .epsilon),
                  varianceTol: 0.12, minStd: 0.5, closedForm: ClosedForm.ddim)
        try check("DDIM 50 v cosine", DDIMScheduler(schedule: NoiseSchedule(.squaredCosCapV2), inferenceSteps: 50,
                                                    spacing: .trailing, predictionType: .v),
                  varianceTol: 0.07, minStd: 0.5, closedForm: ClosedForm.ddim)
        try check("DDIM 10 eps linear", DDIMScheduler(inferenceSteps: 10, spacing: .trailing, predictionType: .epsilon),
                  varianceTol: 0.35, minStd: 1, closedForm: ClosedForm.ddim)
    }

    func testDPMSolverReproducesTheData() throws {
        try check("DPM++ 20 eps linspace", DPMSolverMultistepScheduler(inferenceSteps: 20, predictionType: .epsilon),
                  varianceTol: 0.1, minStd: 0.5, closedForm: ClosedForm.dpm)
        try check("DPM++ 20 v cosine trailing", DPMSolverMultistepScheduler(schedule: NoiseSchedule(.squaredCosCapV2), inferenceSteps: 20,
                                                                            spacing: .trailing, predictionType: .v),
                  varianceTol: 0.03, minStd: 0.5, closedForm: ClosedForm.dpm)
        try check("DPM++ 10 x0 linspace", DPMSolverMultistepScheduler(inferenceSteps: 10, predictionType: .x0),
                  varianceTol: 0.12, minStd: 1, closedForm: ClosedForm.dpm)
    }

    func testMoreStepsAndHigherOrderReduceTheVarianceError() {
        // Deterministic statements about the samplers on data N(0.3, 0.5^2).
        func err(_ v: (Double, Double)) -> Double { abs(v.1 - 1) }
        let ddim10 = err(ClosedForm.ddim(DDIMScheduler(inferenceSteps: 10, spacing: .trailing), mean: 0.3, std: 0.5))
        let ddim50 = err(ClosedForm.ddim(DDIMScheduler(inferenceSteps: 50, spacing: .trailing), mean: 0.3, std: 0.5))
        let dpm10 = err(ClosedForm.dpm(DPMSolverMultistepScheduler(inferenceSteps: 10, spacing: .trailing), mean: 0.3, std: 0.5))
        let dpm20 = err(ClosedForm.dpm(DPMSolverMultistepScheduler(inferenceSteps: 20, spacing: .trailing), mean: 0.3, std: 0.5))
        XCTAssertLessThan(ddim50, ddim10)
        XCTAssertLessThan(dpm20, dpm10)
        XCTAssertLessThan(dpm10, ddim10, "second order beats first order at 10 steps")
    }

    // MARK: The driver's contract

    func testGuidedSamplingMatchesAManualLoopAndSkipsUncondAtScaleOne() throws {
        let schedule = NoiseSchedule.default
        let count = 64
        let cond = GaussianOptimalDenoiser(mean: Array(repeating: 0.5, count: count), std: Array(repeating: 0.3, count: count),
                                           schedule: schedule, prediction: .v)
        let uncond = GaussianOptimalDenoiser(mean: Array(repeating: -0.5, count: count), std: Array(repeating: 0.6, count: count),
                                             schedule: schedule, prediction: .v)
        let scheduler = DPMSolverMultistepScheduler(schedule: schedule, inferenceSteps: 12, spacing: .trailing, predictionType: .v)
        var initial = TestNormals(seed: 5)
        let xT = initial.normal(count: count)

        for scale: Float in [1, 4] {
            var branches = [GuidanceBranch]()
            let out = try DiffusionSampler.sample(
                count: count, scheduler: scheduler, initialSample: xT, noise: { _ in XCTFail("deterministic"); return [] },
                guidance: ClassifierFreeGuidance(scale: scale),
                model: { x, t, branch in
                    branches.append(branch)
                    return branch == .conditional ? cond(x, t) : uncond(x, t)
                })
            // Manual loop.
            var manual = scheduler
            var x = xT
            for t in manual.timesteps {
                let e = ClassifierFreeGuidance(scale: scale).combine(conditional: cond(x, t), unconditional: uncond(x, t))
                x = manual.step(modelOutput: scale == 1 ? cond(x, t) : e, timestep: t, sample: x, noise: nil)
            }
            XCTAssertEqual(out, x, "scale \(scale)")
            if scale == 1 {
                XCTAssertEqual(branches, Array(repeating: .conditional, count: 12), "scale 1 evaluates the conditional branch only")
            } else {
                XCTAssertEqual(branches.count, 24)
                XCTAssertEqual(branches.filter { $0 == .unconditional }.count, 12)
            }
        }
    }

    func testNoiseIsDrawnOncePerStochasticStepAndSeedsReproduce() throws {
        let count = 16
        let scheduler = DDPMScheduler(inferenceSteps: 10)    // leading grid 900 ... 0: 9 steps with t > 0
        func run(seed: UInt64) throws -> ([Float], Int) {
            var rng = TestNormals(seed: seed)
            var draws = 0
            let x = try DiffusionSampler.sample(count: count, scheduler: scheduler,
                                                noise: { draws += 1; return rng.normal(count: $0) },
                                                model: { x, _ in x.map { $0 * 0.1 } })
            return (x, draws)
        }
        let (a, draws) = try run(seed: 3)
        XCTAssertEqual(draws, 1 + 9, "x_T plus one draw per step with t > 0")
        XCTAssertEqual(try run(seed: 3).0, a, "same seed, same bits")
        XCTAssertNotEqual(try run(seed: 4).0, a)
        var deterministicDraws = 0
        _ = try DiffusionSampler.sample(count: count, scheduler: DDIMScheduler(inferenceSteps: 10),
                                        noise: { deterministicDraws += 1; return Array(repeating: 0.5, count: $0) },
                                        model: { x, _ in x })
        XCTAssertEqual(deterministicDraws, 1, "DDIM eta 0 draws x_T only")
    }

    func testProgressReportsEveryStepAndCancels() throws {
        let scheduler = DDIMScheduler(inferenceSteps: 8, spacing: .trailing)
        var reported = [(Int, Int, Int)]()
        var modelCalls = 0
        XCTAssertThrowsError(try DiffusionSampler.sample(
            count: 4, scheduler: scheduler, noise: { Array(repeating: 0, count: $0) },
            model: { x, _ in modelCalls += 1; return x },
            progress: { p in
                reported.append((p.step, p.stepCount, p.timestep))
                XCTAssertEqual(p.sample.count, 4)
                return p.step < 3
            })) { error in
            XCTAssertEqual(error as? DiffusionError, .cancelled(afterStep: 3))
        }
        XCTAssertEqual(modelCalls, 3)
        XCTAssertEqual(reported.map { $0.0 }, [1, 2, 3])
        XCTAssertEqual(reported.map { $0.1 }, [8, 8, 8])
        XCTAssertEqual(reported.map { $0.2 }, Array(scheduler.timesteps.prefix(3)))
    }

    func testWronglySizedArraysGiveClearErrors() {
        let scheduler = DDIMScheduler(inferenceSteps: 4)
        XCTAssertThrowsError(try DiffusionSampler.sample(count: 8, scheduler: scheduler, noise: { Array(repeating: 0, count: $0) },
                                                         model: { _, _ in [0, 0] })) { error in
            XCTAssertEqual(error as? DiffusionError, .modelOutputSize(expected: 8, got: 2, timestep: 750))
            XCTAssertTrue((error as? LocalizedError)?.errorDescription?.contains("returned 2 values") ?? false)
        }
        XCTAssertThrowsError(try DiffusionSampler.sample(count: 8, scheduler: scheduler, noise: { _ in [1] },
                                                         model: { x, _ in x })) { error in
            XCTAssertEqual(error as? DiffusionError, .noiseSize(expected: 8, got: 1))
        }
    }

    /// A guidance interval: inside it the sampler combines both branches, outside it the
    /// conditional branch alone, and the unconditional branch is evaluated only inside it. An
    /// interval holding every timestep is plain guidance; one holding none is scale 1.
    func testGuidanceIntervalGuidesOnlyItsTimesteps() throws {
        let scheduler = DDIMScheduler(inferenceSteps: 10, spacing: .trailing)   // 999, 899, ..., 99
        func run(_ guidance: ClassifierFreeGuidance) throws -> (x: [Float], unconditionalAt: [Int]) {
            var calls: [Int] = []
            let x = try DiffusionSampler.sample(
                count: 8, scheduler: scheduler, noise: { n in (0..<n).map { Float($0) * 0.1 - 0.3 } }, guidance: guidance,
                model: { x, t, branch in
                    if branch == .unconditional { calls.append(t); return x.map { $0 * 0.5 } }
                    return x.map { $0 * 0.8 + 0.01 }
                })
            return (x, calls)
        }
        let inside = try run(ClassifierFreeGuidance(scale: 3, interval: 300...700))
        XCTAssertEqual(inside.unconditionalAt, [699, 599, 499, 399], "only the timesteps in 300...700")
        XCTAssertEqual(try run(ClassifierFreeGuidance(scale: 3, interval: 0...999)).x, try run(ClassifierFreeGuidance(scale: 3)).x)
        let none = try run(ClassifierFreeGuidance(scale: 3, interval: 1000...1000))
        XCTAssertEqual(none.x, try run(.none).x)
        XCTAssertEqual(none.unconditionalAt, [])
        XCTAssertNotEqual(inside.x, try run(ClassifierFreeGuidance(scale: 3)).x)
        XCTAssertNotEqual(inside.x, none.x)
        XCTAssertTrue(ClassifierFreeGuidance(scale: 3, interval: 10...20).applies(at: 10))
        XCTAssertFalse(ClassifierFreeGuidance(scale: 3, interval: 10...20).applies(at: 21))
        XCTAssertFalse(ClassifierFreeGuidance(scale: 1, interval: 10...20).applies(at: 15))
        XCTAssertEqual(ClassifierFreeGuidance.parseInterval("167:884"), 167...884)
        for bad in ["884:167", "-1:5", "5", "a:b", "1:2:3", ""] { XCTAssertNil(ClassifierFreeGuidance.parseInterval(bad), bad) }
        let json = try JSONEncoder().encode(ClassifierFreeGuidance(scale: 2, interval: 100...800))
        XCTAssertEqual(try JSONDecoder().decode(ClassifierFreeGuidance.self, from: json), ClassifierFreeGuidance(scale: 2, interval: 100...800))
        XCTAssertThrowsError(try JSONDecoder().decode(ClassifierFreeGuidance.self, from: Data(#"{"scale":2,"interval":[9,3]}"#.utf8)))
    }

    /// Guidance rescale: the output's standard deviation is φ·std(conditional) + (1 − φ)·std(plain
    /// guided) (diffusers' rescale_noise_cfg), φ = 0 is plain guidance, and scale 1 is untouched.
    func testGuidanceRescaleMatchesTheDefinition() throws {
        var g = Philox(seed: 4)
        let c = g.normal(count: 600), u = g.normal(count: 600, mean: 0.2, std: 0.5)
        let plain = ClassifierFreeGuidance(scale: 4).combine(conditional: c, unconditional: u)
        XCTAssertEqual(ClassifierFreeGuidance(scale: 4, rescale: 0).combine(conditional: c, unconditional: u), plain)
        let std = ClassifierFreeGuidance.standardDeviation
        for phi: Float in [0.5, 0.7, 1] {
            let out = ClassifierFreeGuidance(scale: 4, rescale: phi).combine(conditional: c, unconditional: u)
            XCTAssertEqual(std(out), Double(phi) * std(c) + Double(1 - phi) * std(plain), accuracy: 1e-4)
            // Same direction as plain guidance: a positive multiple of it.
            let k = out[0] / plain[0]
            XCTAssertGreaterThan(k, 0)
            for (a, b) in zip(out, plain) { XCTAssertEqual(a, k * b, accuracy: 1e-4 * max(1, abs(a))) }
        }
        XCTAssertEqual(ClassifierFreeGuidance(scale: 1, rescale: 0.7).combine(conditional: c, unconditional: u), c)
        let json = String(decoding: try JSONEncoder().encode(ClassifierFreeGuidance(scale: 3)), as: UTF8.self)
        XCTAssertFalse(json.contains("rescale"), json)
        XCTAssertEqual(try JSONDecoder().decode(ClassifierFreeGuidance.self, from: Data(#"{"scale":2,"rescale":0.7}"#.utf8)),
                       ClassifierFreeGuidance(scale: 2, rescale: 0.7))
    }
}
