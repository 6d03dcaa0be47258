import Foundation
import XCTest
@testable import Generator

/// The whole train -> sample -> distil path end to end on the tiny denoiser, with the clips,
/// prompts and SSIM of `TrainingTests`: the model memorises two moving clips from two prompts
/// and reproduces each from its own prompt; its 4-step student (progressive distillation,
/// 16 -> 8 -> 4) still does; and the same recipe without the temporal stream cannot keep its
/// frames together, so the full model's inter-frame SSIM is the one close to the data's.
///
/// Each model is trained once and shared by the tests (XCTest runs a class's tests serially).
final class OverfitTests: XCTestCase {
    typealias Fix = TrainingTests
    /// 6000 steps, not 4000: the lr-1e-2 run is chaotic, so any change of rounding in a kernel
    /// (or of the seed) sends it down another trajectory. At 4000 steps one of training seeds
    /// 5-8 missed the bars (a sample at SSIM 0.39, the student at -0.10); at 6000 all four pass
    /// with margin, with and without the fused GroupNorm op (own-clip SSIM >= 0.919, the
    /// student's >= 0.903; loss 0.008-0.014).
    static let steps = 6000

    /// The two 6000-step trainings are the suite's slowest work (minutes): they run where
    /// `T2V_SLOW_TESTS=1`, which CI (.ci/run) sets.
    override func setUpWithError() throws {
        if ProcessInfo.processInfo.environment["T2V_SLOW_TESTS"] != "1" {
            throw XCTSkip("the 6000-step overfit tests run with T2V_SLOW_TESTS=1 (CI sets it): T2V_SLOW_TESTS=1 bash scripts/test.sh --filter OverfitTests")
        }
    }
    /// The training seed (5). `T2V_OVERFIT_SEED=N` overrides it, to check that a kernel change
    /// keeps the recipe passing on other trajectories (e.g. seeds 5-8).
    static let trainingSeed = UInt64(ProcessInfo.processInfo.environment["T2V_OVERFIT_SEED"] ?? "") ?? 5

    private static var trained = [String: VideoDenoiser]()

    /// The EMA weights after `steps` steps on the two clips (lr 1e-2, batch 2, no condition
    /// dropout), with or without the temporal stream, trained in `precision`.
    static func model(temporal: Bool, precision: ComputePrecision = .fp32) throws -> VideoDenoiser {
        let key = "\(temporal) \(precision)"
        if let m = trained[key] { return m }
        var mc = Fix.small
        mc.temporal = temporal
        var rng = Philox(seed: 3)
        let model = try VideoDenoiser(config: mc, rng: &rng)
        var config = TrainingConfig()
        config.batchSize = 2
        config.learningRate = 1e-2
        config.warmupSteps = 20
        config.totalSteps = steps
        config.conditionDropout = 0
        config.seed = trainingSeed
        let trainer = try Trainer(model: model, config: config)
        let clips = Fix.clips(), prompts = Fix.prompts()
        var losses = [Float]()
        try ComputePrecision.with(precision) {
            try trainer.train(clipCount: 2, loadClip: { TrainingClip(video: clips[$0], text: prompts[$0]) },
                              progress: { losses.append($0.loss); return true })
        }
        precondition(losses.count == steps)
        // The EMA weights, as `train -o` exports them.
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("overfit-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try trainer.exportModel(to: url)
        let (ema, _) = try VideoDenoiser.load(from: url)
        trained[key] = ema
        return ema
    }

    /// A sample for prompt `k` with `scheduler` (noise seed `seed`).
    static func sample(_ model: VideoDenoiser, prompt k: Int, scheduler: DDIMScheduler, seed: UInt64) throws -> [Float] {
        let prompts = Fix.prompts()
        var noise = Philox(seed: seed)
        return try DiffusionSampler.sample(
            count: Fix.frames * 3 * Fix.size * Fix.size, scheduler: scheduler, noise: { noise.normal(count: $0) },
            model: { x, t in try model.predict(x, timestep: t, text: prompts[k], frames: Fix.frames, height: Fix.size, width: Fix.size) })
    }

    /// Mean global SSIM between consecutive frames of a `[F, 3, H, W]` clip.
    static func interFrameSSIM(_ clip: [Float]) -> Double {
        let n = 3 * Fix.size * Fix.size
        return (1..<Fix.frames).map { f in
            Fix.globalSSIM(Array(clip[(f - 1) * n..<f * n]), Array(clip[f * n..<(f + 1) * n]))
        }.reduce(0, +) / Double(Fix.frames - 1)
    }

    /// Each prompt's samples (25 DDIM steps, two seeds) reproduce its own clip (SSIM >= 0.9) and
    /// not the other's (< 0.3).
    static func assertReproducesBothClips(_ model: VideoDenoiser, _ what: String) throws {
        let clips = Fix.clips()
        let scheduler = DDIMScheduler(schedule: model.config.schedule, inferenceSteps: 25, spacing: .trailing, predictionType: .v)
        for k in 0..<2 {
            for seed in [100, 200] as [UInt64] {
                let sample = try Self.sample(model, prompt: k, scheduler: scheduler, seed: seed + UInt64(k))
                let own = Fix.globalSSIM(sample, clips[k]), other = Fix.globalSSIM(sample, clips[1 - k])
                XCTAssertGreaterThanOrEqual(own, 0.9, "prompt \(k) reproduces its clip\(what) (seed \(seed))")
                XCTAssertLessThan(other, 0.3, "prompt \(k) does not give the other prompt's clip\(what) (seed \(seed))")
            }
        }
    }

    func testTinyModelOverfitsTwoClipsWithTwoPrompts() throws {
        try Self.assertReproducesBothClips(try Self.model(temporal: true), "")
    }

    /// The same recipe trained and sampled with bf16 convolutions and products meets the same bars.
    func testTinyModelOverfitsInBF16() throws {
        guard ComputePrecision.bf16Supported else { throw XCTSkip("this CPU lacks AVX512_BF16") }
        let model = try Self.model(temporal: true, precision: .bf16)
        try ComputePrecision.with(.bf16) { try Self.assertReproducesBothClips(model, " in bf16") }
    }

    func testFourStepStudentOfTheOverfitModelStillReproducesTheClips() throws {
        let teacher = try Self.model(temporal: true)
        let clips = Fix.clips(), prompts = Fix.prompts()
        var d = DistillationConfig()
        d.teacherSteps = 16
        d.targetSteps = 4
        d.stepsPerRound = 300
        d.batchSize = 2
        d.learningRate = 1e-3
        d.warmupSteps = 10
        d.conditionDropout = 0
        d.seed = 6
        let distiller = try Distiller(teacher: teacher, config: d)
        let student = try distiller.run(clipCount: 2, loadClip: { TrainingClip(video: clips[$0], text: prompts[$0]) })
        let scheduler = distiller.studentScheduler
        XCTAssertEqual(scheduler.timesteps.count, 4)
        for k in 0..<2 {
            let sample = try Self.sample(student, prompt: k, scheduler: scheduler, seed: 300 + UInt64(k))
            let own = Fix.globalSSIM(sample, clips[k]), other = Fix.globalSSIM(sample, clips[1 - k])
            XCTAssertGreaterThanOrEqual(own, 0.85, "the 4-step student reproduces clip \(k)")
            XCTAssertLessThan(other, 0.3)
        }
    }

    func testTemporalStreamKeepsFramesTogetherAndTheAblationDoesNot() throws {
        let full = try Self.model(temporal: true), ablation = try Self.model(temporal: false)
        let clips = Fix.clips()
        let scheduler = DDIMScheduler(schedule: full.config.schedule, inferenceSteps: 25, spacing: .trailing, predictionType: .v)
        // Clip 0 is the one with strong motion (a square moving one pixel per frame).
        let data = Self.interFrameSSIM(clips[0])
        var fullGap = 0.0, ablationGap = 0.0
        let seeds: [UInt64] = [400, 401, 402]
        for seed in seeds {
            let f = Self.interFrameSSIM(try Self.sample(full, prompt: 0, scheduler: scheduler, seed: seed))
            let a = Self.interFrameSSIM(try Self.sample(ablation, prompt: 0, scheduler: scheduler, seed: seed))
            fullGap += abs(f - data) / Double(seeds.count)
            ablationGap += abs(a - data) / Double(seeds.count)
        }
        // Over training seeds 5-8 (with and without the fused GroupNorm op) the full model's gap
        // was 0.011-0.064 and the ablation's 0.12-0.21: 0.1 separates them with room for a
        // changed rounding.
        XCTAssertLessThan(fullGap, 0.1)
        XCTAssertLessThan(fullGap, ablationGap)
    }
}
