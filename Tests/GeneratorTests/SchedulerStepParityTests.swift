import Foundation
import XCTest
@testable import Generator

/// Step-by-step parity of the schedulers with diffusers, and the distillation and guidance algebra.
final class SchedulerStepParityTests: XCTestCase {
    /// Builds our scheduler for a fixture case, on diffusers' own float32 betas.
    func makeScheduler(_ c: DiffusionFixtures.Runs.Case) -> any Scheduler {
        let schedule = DiffusionFixtures.diffusersSchedule(c.schedule)
        let prediction = PredictionType(rawValue: c.prediction_type)!
        let spacing = TimestepSpacing(rawValue: c.spacing)!
        let o = c.options
        let clip: Float? = o.clip_sample == true ? 1 : nil
        switch c.scheduler {
        case "ddpm":
            return DDPMScheduler(schedule: schedule, inferenceSteps: c.steps, spacing: spacing,
                                 stepsOffset: o.steps_offset ?? 0, predictionType: prediction,
                                 varianceType: DDPMScheduler.VarianceType(rawValue: o.variance_type ?? "fixed_small")!,
                                 clipSample: clip)
        case "ddim":
            return DDIMScheduler(schedule: schedule, inferenceSteps: c.steps, spacing: spacing,
                                 stepsOffset: o.steps_offset ?? 0, predictionType: prediction, eta: o.eta ?? 0,
                                 clipSample: clip, setAlphaToOne: o.set_alpha_to_one ?? true)
        case "dpm":
            return DPMSolverMultistepScheduler(schedule: schedule, inferenceSteps: c.steps, spacing: spacing,
                                               stepsOffset: o.steps_offset ?? 0, predictionType: prediction,
                                               order: o.solver_order ?? 2,
                                               finalSigma: DPMSolverMultistepScheduler.FinalSigma(rawValue: o.final_sigmas_type ?? "zero")!)
        default:
            fatalError("unknown scheduler \(c.scheduler)")
        }
    }

    /// Replays diffusers' model outputs and noise through our scheduler and compares every step's
    /// result (rtol 1e-4, atol 1e-5; the oracle ran in float64, we run in float32 with Double
    /// coefficients).
    ///
    /// Step by step, each step starts from diffusers' previous sample (rounded to float32).
    /// Free-running, we feed our own samples forward; only for chains of at most 50 steps: with
    /// replayed (not recomputed) model outputs a DDPM chain multiplies any perturbation by
    /// 1/sqrt(alpha_t) per step, 1/sqrt(abar_T) ~ 157 over 1000 steps, so float32 rounding alone
    /// exceeds the tolerance there (a real model's output would follow the sample and damp it).
    func replay(_ c: DiffusionFixtures.Runs.Case) {
        for freeRunning in [false, true] where !freeRunning || c.timesteps.count <= 50 {
            var scheduler = makeScheduler(c)
            XCTAssertEqual(scheduler.timesteps, c.timesteps, "\(c.name) grid")
            guard scheduler.timesteps == c.timesteps else { return }
            var x = c.x_T
            for (i, t) in c.timesteps.enumerated() {
                if !freeRunning && i > 0 { x = c.prev_samples[i - 1] }
                XCTAssertEqual(scheduler.needsNoise(at: t), c.noise[i] != nil, "\(c.name) step \(i) noise use")
                x = scheduler.step(modelOutput: c.model_outputs[i], timestep: t, sample: x, noise: c.noise[i])
                assertClose(x, c.prev_samples[i], rtol: 1e-4, atol: 1e-5,
                            "\(c.name) step \(i) (t=\(t))\(freeRunning ? " free-running" : "")")
            }
        }
    }

    func testDDPMMatchesDiffusersStepByStep() {
        let cases = DiffusionFixtures.runs.cases.filter { $0.scheduler == "ddpm" }
        XCTAssertEqual(cases.count, 4)
        cases.forEach(replay)
    }

    func testDDIMMatchesDiffusersStepByStep() {
        let cases = DiffusionFixtures.runs.cases.filter { $0.scheduler == "ddim" }
        XCTAssertEqual(cases.count, 5)
        cases.forEach(replay)
    }

    func testDPMSolverMatchesDiffusersStepByStep() {
        let cases = DiffusionFixtures.runs.cases.filter { $0.scheduler == "dpm" }
        XCTAssertEqual(cases.count, 6)
        cases.forEach(replay)
    }

    func testDPMSolverResetForgetsHistory() {
        let c = DiffusionFixtures.runs.cases.first { $0.name == "dpm_linear_eps_10_linspace" }!
        var scheduler = makeScheduler(c)
        // Run two steps, reset, and replay: the result must equal a fresh run.
        var x = c.x_T
        for i in 0..<2 { x = scheduler.step(modelOutput: c.model_outputs[i], timestep: c.timesteps[i], sample: x, noise: nil) }
        scheduler.reset()
        x = c.x_T
        for (i, t) in c.timesteps.enumerated() {
            x = scheduler.step(modelOutput: c.model_outputs[i], timestep: t, sample: x, noise: nil)
        }
        assertClose(x, c.prev_samples.last!, rtol: 1e-4, atol: 1e-5)
    }

    func testDPMSolverFirstStepEqualsDDIM() {
        // With no history DPM-Solver++ takes the first-order step, which is DDIM (eta 0).
        let schedule = NoiseSchedule.default
        var rng = TestNormals(seed: 4)
        let x = rng.normal(count: 32), out = rng.normal(count: 32)
        var dpm = DPMSolverMultistepScheduler(schedule: schedule, inferenceSteps: 10, spacing: .trailing, predictionType: .v)
        var ddim = DDIMScheduler(schedule: schedule, inferenceSteps: 10, spacing: .trailing, predictionType: .v)
        XCTAssertEqual(dpm.timesteps, ddim.timesteps)
        let a = dpm.step(modelOutput: out, timestep: 999, sample: x, noise: nil)
        let b = ddim.step(modelOutput: out, timestep: 999, sample: x, noise: nil)
        assertClose(a, b, rtol: 1e-5, atol: 1e-6)
    }

    func testPreviousTimestepWalksTheGrid() {
        let ddim = DDIMScheduler(inferenceSteps: 4, spacing: .trailing)
        XCTAssertEqual(ddim.timesteps, [999, 749, 499, 249])
        XCTAssertEqual(ddim.previousTimestep(before: 999), 749)
        XCTAssertEqual(ddim.previousTimestep(before: 249), -1)
        XCTAssertEqual(ddim.stepCount, 4)
    }

    // MARK: Progressive distillation

    func testDistillationTargetLandsOnTeacherSampleInOneDDIMStep() {
        let schedule = NoiseSchedule(.squaredCosCapV2)
        var rng = TestNormals(seed: 11)
        let dim = 256
        var uniform = TestRNG(seed: 42)
        let mean = (0..<dim).map { _ in Float.random(in: -0.5...0.5, using: &uniform) }
        let std = (0..<dim).map { _ in Float.random(in: 0.2...0.7, using: &uniform) }
        let teacher = GaussianOptimalDenoiser(mean: mean, std: std, schedule: schedule, prediction: .epsilon)

        // Teacher: 8 trailing steps; student: every second one = the 4-step trailing grid.
        let pd = ProgressiveDistillation(schedule: schedule,
                                         teacherTimesteps: TimestepSpacing.trailing.timesteps(count: 8, trainSteps: 1000),
                                         teacherPrediction: .epsilon)
        XCTAssertEqual(pd.studentTimesteps, TimestepSpacing.trailing.timesteps(count: 4, trainSteps: 1000))
        var teacherDDIM = DDIMScheduler(schedule: schedule, inferenceSteps: 8, spacing: .trailing, predictionType: .epsilon)
        var studentX = DDIMScheduler(schedule: schedule, inferenceSteps: 4, spacing: .trailing, predictionType: .x0)
        var studentV = DDIMScheduler(schedule: schedule, inferenceSteps: 4, spacing: .trailing, predictionType: .v)

        var z = rng.normal(count: dim)
        for (k, t) in pd.studentTimesteps.enumerated() {
            var calls = 0
            let target = pd.target(sample: z, studentStep: k) { x, tt in
                calls += 1
                return teacher(x, tt)
            }
            XCTAssertEqual(calls, 2)
            // The teacher's two steps agree with the independent DDIM scheduler.
            let mid = teacherDDIM.step(modelOutput: teacher(z, t), timestep: t, sample: z, noise: nil)
            let tMid = teacherDDIM.timesteps[2 * k + 1]
            let zpp = teacherDDIM.step(modelOutput: teacher(mid, tMid), timestep: tMid, sample: mid, noise: nil)
            assertClose(target.teacherSample, zpp, rtol: 1e-5, atol: 1e-5, "teacher z'' step \(k)")
            // One student DDIM step with x~ (or v~) lands on z''.
            let viaX = studentX.step(modelOutput: target.x0, timestep: t, sample: z, noise: nil)
            let viaV = studentV.step(modelOutput: target.v, timestep: t, sample: z, noise: nil)
            assertClose(viaX, target.teacherSample, rtol: 1e-5, atol: 2e-5, "student x step \(k)")
            assertClose(viaV, target.teacherSample, rtol: 1e-5, atol: 2e-5, "student v step \(k)")
            // Weight: max(SNR, 1) on x; the v form divides by SNR + 1.
            XCTAssertEqual(target.weight(for: .x0), max(schedule.snr(t), 1), accuracy: 1e-12)
            XCTAssertEqual(target.weight(for: .v), max(schedule.snr(t), 1) / (schedule.snr(t) + 1), accuracy: 1e-12)
            z = target.teacherSample
        }
    }

    func testDistillationTargetFormulaByHand() {
        // Scalars: z_t = 0.3, z'' = 0.7 with (alpha, sigma) = (0.6, 0.8) -> (0.8, 0.6).
        let x = ProgressiveDistillation.studentTarget(sample: [0.3], teacherSample: [0.7],
                                                      alphaT: 0.6, sigmaT: 0.8, alphaS: 0.8, sigmaS: 0.6)
        // (0.7 - 0.75 * 0.3) / (0.8 - 0.75 * 0.6) = 0.475 / 0.35.
        XCTAssertEqual(x[0], 0.475 / 0.35, accuracy: 1e-6)
        let back = ProgressiveDistillation.ddimStep(sample: [0.3], predictedX0: x, alphaT: 0.6, sigmaT: 0.8, alphaS: 0.8, sigmaS: 0.6)
        XCTAssertEqual(back[0], 0.7, accuracy: 1e-6)
        // Last student step goes to clean data: x~ = z''.
        let last = ProgressiveDistillation.studentTarget(sample: [0.3], teacherSample: [0.7],
                                                         alphaT: 0.6, sigmaT: 0.8, alphaS: 1, sigmaS: 0)
        XCTAssertEqual(last, [0.7])
    }

    func testDistillationRoundsHalveTheGrid() {
        var round: ProgressiveDistillation? = ProgressiveDistillation(
            teacherTimesteps: TimestepSpacing.trailing.timesteps(count: 16, trainSteps: 1000), teacherPrediction: .epsilon)
        var sizes = [Int]()
        while let r = round {
            sizes.append(r.studentTimesteps.count)
            XCTAssertEqual(r.studentTimesteps, TimestepSpacing.trailing.timesteps(count: r.studentTimesteps.count, trainSteps: 1000))
            round = r.nextRound()
            if let next = round { XCTAssertEqual(next.teacherPrediction, .v) }
        }
        XCTAssertEqual(sizes, [8, 4, 2, 1])
    }

    // MARK: Guidance

    func testGuidanceCombination() {
        let cond: [Float] = [1, 2, -3], uncond: [Float] = [0.5, 2, 1]
        let g = ClassifierFreeGuidance(scale: 7.5)
        let out = g.combine(conditional: cond, unconditional: uncond)
        for i in 0..<3 {
            XCTAssertEqual(out[i], uncond[i] + 7.5 * (cond[i] - uncond[i]), accuracy: 1e-5)
        }
        XCTAssertEqual(ClassifierFreeGuidance(scale: 1).combine(conditional: cond, unconditional: uncond), cond)
        XCTAssertEqual(ClassifierFreeGuidance(scale: 0).combine(conditional: cond, unconditional: uncond), uncond)
        XCTAssertFalse(ClassifierFreeGuidance.none.needsUnconditional)
        XCTAssertTrue(g.needsUnconditional)
    }
}
