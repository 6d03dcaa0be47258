import Foundation

/// Hyper-parameters of `Distiller`.
public struct DistillationConfig: Sendable, Codable, Equatable {
    /// Steps of the first teacher's DDIM sampler (a trailing grid; powers of two nest).
    public var teacherSteps: Int = 64
    /// Stop when the student samples in this many steps.
    public var targetSteps: Int = 4
    /// Optimisation steps per halving round.
    public var stepsPerRound: Int = 2000
    /// Clips per optimisation step.
    public var batchSize: Int = 4
    /// AdamW learning rate: the peak, reached after a linear warm-up.
    public var learningRate: Float = 1e-4
    /// How the learning rate moves after the warm-up within each round.
    public var learningRateSchedule: DistillationLRSchedule = .constant
    /// Warm-up steps at the start of each round.
    public var warmupSteps: Int = 50
    /// Global gradient-norm clip; 0 disables.
    public var gradientClip: Float = 1
    /// Probability of the zero (unconditional) text embedding, so the student keeps serving CFG.
    public var conditionDropout: Double = 0.1
    /// Seed of the distiller's random stream.
    public var seed: UInt64 = 0
    /// Classifier-free guidance scale distilled into the student (guided distillation, Meng et
    /// al. 2023). In the first round the teacher's output is `u + guidance * (c - u)` (its
    /// conditional and unconditional branches at the same x_t), so the student's conditional
    /// branch learns the guided sampler and needs no guidance when sampled; its unconditional
    /// branch (the dropped-condition samples) keeps learning the teacher's unconditional model.
    /// Later rounds copy the already guided student. 1 distils the conditional model alone.
    public var guidance: Float = 1
    /// Guidance rescale φ in [0, 1] applied to the teacher's guided output when `guidance` > 1
    /// (`ClassifierFreeGuidance.rescale`, Lin et al. 2024; diffusers' `guidance_rescale`): the
    /// student learns the rescaled guided sampler. 0 is plain guidance.
    public var guidanceRescale: Float = 0
    /// The teacher timesteps where the guidance applies (`ClassifierFreeGuidance.interval`); at
    /// the others the student learns the teacher's conditional output. nil: every step.
    public var guidanceInterval: ClosedRange<Int>? = nil
    /// Optimisation steps of a first stage that distils the guidance alone, without halving
    /// (Meng et al. 2023, stage 1): the student learns the teacher's guided output at the same
    /// (x_t, t) on the teacher's grid, then the rounds halve it without guidance. 0 distils the
    /// guidance inside the first halving round instead. Needs `guidance` > 1.
    public var guidanceSteps: Int = 0
    /// Arithmetic of the run's convolutions and matrix products (`ComputePrecision`); what the
    /// caller set for the run, recorded with it. `nil`: fp32, left out of the JSON.
    public var precision: ComputePrecision? = nil

    /// The defaults above.
    public init() {}

    /// The learning rate of the step after `step` steps of a round of `length` steps (default
    /// `stepsPerRound`): the linear warm-up, then `learningRateSchedule` (constant, or a linear
    /// decay that reaches 0 at the round's end).
    public func learningRate(afterStep step: Int, roundLength length: Int? = nil) -> Float {
        let n = max(length ?? stepsPerRound, 1)
        let warm = min(1, Float(step + 1) / Float(max(warmupSteps, 1)))
        switch learningRateSchedule {
        case .constant: return learningRate * warm
        case .linear: return learningRate * warm * Float(max(0, n - step)) / Float(n)
        }
    }
}

/// The learning rate within a distillation round, after the warm-up.
public enum DistillationLRSchedule: String, Sendable, Codable, CaseIterable {
    /// The peak rate until the round ends.
    case constant
    /// From the peak down to 0 at the round's last step, as the reference implementation of
    /// progressive distillation anneals each round (google-research diffusion_distillation:
    /// Adam, lr 5e-5, linear anneal over the round's steps).
    case linear
}

extension DistillationConfig {
    private enum CodingKeys: String, CodingKey {
        case teacherSteps, targetSteps, stepsPerRound, batchSize, learningRate, learningRateSchedule, warmupSteps,
             gradientClip, conditionDropout, seed, guidance, guidanceRescale, guidanceInterval, guidanceSteps, precision
    }

    /// Decodes a configuration; `learningRateSchedule`, `guidanceSteps` and `guidanceRescale` are
    /// optional (checkpoints written before they existed ran the constant schedule, no guidance
    /// stage and plain guidance).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        teacherSteps = try c.decode(Int.self, forKey: .teacherSteps)
        targetSteps = try c.decode(Int.self, forKey: .targetSteps)
        stepsPerRound = try c.decode(Int.self, forKey: .stepsPerRound)
        batchSize = try c.decode(Int.self, forKey: .batchSize)
        learningRate = try c.decode(Float.self, forKey: .learningRate)
        learningRateSchedule = try c.decodeIfPresent(DistillationLRSchedule.self, forKey: .learningRateSchedule) ?? .constant
        warmupSteps = try c.decode(Int.self, forKey: .warmupSteps)
        gradientClip = try c.decode(Float.self, forKey: .gradientClip)
        conditionDropout = try c.decode(Double.self, forKey: .conditionDropout)
        seed = try c.decode(UInt64.self, forKey: .seed)
        guidance = try c.decode(Float.self, forKey: .guidance)
        guidanceRescale = try c.decodeIfPresent(Float.self, forKey: .guidanceRescale) ?? 0
        guidanceSteps = try c.decodeIfPresent(Int.self, forKey: .guidanceSteps) ?? 0
        precision = try c.decodeIfPresent(ComputePrecision.self, forKey: .precision)
        guidanceInterval = try ClassifierFreeGuidance.decodeInterval(c, forKey: .guidanceInterval)
    }

    /// Encodes every field; `guidanceInterval` as `[first, last]`, and only when set.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(teacherSteps, forKey: .teacherSteps)
        try c.encode(targetSteps, forKey: .targetSteps)
        try c.encode(stepsPerRound, forKey: .stepsPerRound)
        try c.encode(batchSize, forKey: .batchSize)
        try c.encode(learningRate, forKey: .learningRate)
        try c.encode(learningRateSchedule, forKey: .learningRateSchedule)
        try c.encode(warmupSteps, forKey: .warmupSteps)
        try c.encode(gradientClip, forKey: .gradientClip)
        try c.encode(conditionDropout, forKey: .conditionDropout)
        try c.encode(seed, forKey: .seed)
        try c.encode(guidance, forKey: .guidance)
        try c.encode(guidanceRescale, forKey: .guidanceRescale)
        if let guidanceInterval { try c.encode([guidanceInterval.lowerBound, guidanceInterval.upperBound], forKey: .guidanceInterval) }
        try c.encode(guidanceSteps, forKey: .guidanceSteps)
        try c.encodeIfPresent(precision, forKey: .precision)
    }
}

/// Progressive distillation (Salimans & Ho 2022) of a trained `VideoDenoiser`: each round the
/// student (a v-predicting copy of the teacher) learns to match two deterministic DDIM steps of
/// the teacher with one (targets from `ProgressiveDistillation`, weight max(SNR, 1) on x, i.e.
/// max(SNR, 1) / (SNR + 1) on v); then the student becomes the teacher and the step count halves.
public final class Distiller {
    /// Hyper-parameters.
    public let config: DistillationConfig
    /// The frozen teacher of the current round.
    public internal(set) var teacher: VideoDenoiser
    /// The student being trained (predicts v).
    public internal(set) var student: VideoDenoiser
    /// The current round's grids and target computation.
    public internal(set) var round: ProgressiveDistillation
    /// Optimisation steps taken in the current round.
    public internal(set) var roundStep = 0
    /// Whether the current round's teacher is the original model (the round that applies
    /// `config.guidance`); later teachers are guided students.
    public internal(set) var isFirstRound = true
    /// Whether the distiller is in the guidance stage (`config.guidanceSteps` > 0): the student
    /// keeps the teacher's grid and learns its guided output; `finishRound` then starts halving.
    public internal(set) var inGuidanceStage = false
    /// The student's optimizer (recreated each round).
    var optimizer: AdamW
    /// The distiller's random stream.
    var rng: Philox

    /// Sets up the first round from `teacher` (copied; the caller's model is not changed).
    ///
    /// - Throws: `TrainingError.invalidConfig` for step counts that do not halve down to
    ///   `targetSteps`, or `DenoiserError` when the model cannot be copied.
    public convenience init(teacher model: VideoDenoiser, config: DistillationConfig) throws {
        try Self.validate(config)
        if let interval = config.guidanceInterval, interval.upperBound >= model.config.schedule.trainSteps {
            throw TrainingError.invalidConfig("guidanceInterval must lie in 0...\(model.config.schedule.trainSteps - 1) (the teacher's timesteps), got \(interval)")
        }
        let grid = TimestepSpacing.trailing.timesteps(count: config.teacherSteps, trainSteps: model.config.schedule.trainSteps)
        self.init(config: config,
                  teacher: try Self.copy(model, predictionType: model.config.predictionType),
                  student: try Self.copy(model, predictionType: .v),
                  round: ProgressiveDistillation(schedule: model.config.schedule, teacherTimesteps: grid,
                                                 teacherPrediction: model.config.predictionType))
    }

    /// A distiller at the start of `round` with a fresh optimizer and random stream (`resume`
    /// then restores both); `config` must already be valid.
    init(config: DistillationConfig, teacher: VideoDenoiser, student: VideoDenoiser, round: ProgressiveDistillation) {
        self.config = config
        self.teacher = teacher
        self.student = student
        self.round = round
        optimizer = Self.makeOptimizer(student, config)
        rng = Philox(seed: config.seed, stream: 2)
        inGuidanceStage = config.guidanceSteps > 0
    }

    /// Refuses step counts that do not halve down to `targetSteps`, non-positive sizes and
    /// guidance below 1.
    static func validate(_ config: DistillationConfig) throws {
        if config.precision == .bf16 && !ComputePrecision.bf16Supported {
            throw TrainingError.invalidConfig("precision bf16 needs a CPU with AVX512_BF16; this one lacks it")
        }
        guard config.teacherSteps >= 2, config.targetSteps >= 1, config.teacherSteps > config.targetSteps,
              config.teacherSteps % config.targetSteps == 0,
              (config.teacherSteps / config.targetSteps).nonzeroBitCount == 1 else {
            throw TrainingError.invalidConfig("teacherSteps (\(config.teacherSteps)) must be targetSteps (\(config.targetSteps)) times a power of two")
        }
        guard config.batchSize > 0, config.stepsPerRound > 0, config.learningRate > 0 else {
            throw TrainingError.invalidConfig("batchSize, stepsPerRound and learningRate must be positive")
        }
        guard config.guidance >= 1, config.guidance.isFinite else {
            throw TrainingError.invalidConfig("guidance must be a finite number >= 1, got \(config.guidance)")
        }
        guard config.guidanceRescale >= 0, config.guidanceRescale <= 1 else {
            throw TrainingError.invalidConfig("guidanceRescale must be in 0...1, got \(config.guidanceRescale)")
        }
        if let interval = config.guidanceInterval {
            guard config.guidance > 1 else { throw TrainingError.invalidConfig("a guidance interval needs guidance > 1") }
            guard interval.lowerBound >= 0 else { throw TrainingError.invalidConfig("guidanceInterval must start at 0 or later, got \(interval)") }
        }
        guard config.guidanceSteps >= 0, config.guidanceSteps == 0 || config.guidance > 1 else {
            throw TrainingError.invalidConfig("guidanceSteps (\(config.guidanceSteps)) must be >= 0, and a guidance stage needs guidance > 1")
        }
    }

    /// A copy of `model` whose configuration says `predictionType`.
    static func copy(_ model: VideoDenoiser, predictionType: PredictionType) throws -> VideoDenoiser {
        var config = model.config
        config.predictionType = predictionType
        var rng = Philox(seed: 0)
        let copy = try VideoDenoiser(config: config, rng: &rng)
        try copy.load(model.stateDict().mapValues { $0.copy() })
        return copy
    }

    static func makeOptimizer(_ model: VideoDenoiser, _ config: DistillationConfig) -> AdamW {
        var adam = AdamW.Configuration()
        adam.learningRate = config.learningRate
        adam.weightDecay = 0
        return AdamW(namedParameters: model.trainableNamedParameters(), configuration: adam)
    }

    /// The learning rate of the last optimisation step (`DistillationConfig.learningRate(afterStep:)`).
    public var learningRate: Float { optimizer.learningRate }

    /// The grid the student is trained for: the teacher's in the guidance stage, else every
    /// second teacher timestep.
    public var studentTimesteps: [Int] { inGuidanceStage ? round.teacherTimesteps : round.studentTimesteps }

    /// Optimisation steps of the current round (the guidance stage's, or `stepsPerRound`).
    public var roundLength: Int { inGuidanceStage ? config.guidanceSteps : config.stepsPerRound }

    /// The DDIM sampler the student is trained for (its grid, v-prediction).
    public var studentScheduler: DDIMScheduler {
        DDIMScheduler(schedule: round.schedule, timesteps: studentTimesteps, predictionType: .v)
    }

    /// One optimisation step of the student on `clips`; returns the weighted v-MSE.
    ///
    /// - Throws: `TrainingError.badClip` for wrongly sized clips, `DenoiserError` from the teacher.
    @discardableResult
    public func trainStep(clips: [TrainingClip]) throws -> Float {
        let mc = student.config, f = mc.frames, c = mc.inChannels, r = mc.resolution, n = f * c * r * r
        let studentSteps = studentTimesteps.count
        var zt = [Float](), targets = [Float](), text = [Float](), tokens = [[Float]](), timesteps = [Int](), weights = [Float]()
        for (i, clip) in clips.enumerated() {
            guard clip.video.count == n, clip.text.count == mc.textDim else {
                throw TrainingError.badClip(index: i, message: "expected \(n) video values and \(mc.textDim) text values")
            }
            // Condition dropout, the student step, the noise.
            let drop = Double(rng.uniformFloat()) < config.conditionDropout
            let embedding = drop ? [Float](repeating: 0, count: mc.textDim) : clip.text
            let states = drop ? [] : clip.tokens
            let k = rng.nextInt(below: studentSteps)
            let t = studentTimesteps[k]
            let z = round.schedule.addNoise(x0: clip.video, noise: rng.normal(count: n), timestep: t)
            if inGuidanceStage {
                let target = try guidanceTarget(sample: z, timestep: t, text: embedding, tokens: states, guided: !drop)
                targets += target.v
                weights.append(target.weight)
            } else {
                // The teacher's two DDIM steps give the target.
                let target = try round.target(sample: z, studentStep: k) { x, tt in
                    try teacherOutput(x, timestep: tt, text: embedding, tokens: states, guided: !drop)
                }
                targets += target.v
                weights.append(Float(target.weight(for: .v)))
            }
            zt += z; text += embedding; tokens.append(states); timesteps.append(t)
        }

        // Weighted v-MSE on the student.
        let b = clips.count, shape = [b, f, c, r, r]
        let prediction = student(Tensor(shape: shape, data: zt), timesteps: timesteps, text: Tensor(shape: [b, mc.textDim], data: text),
                                 tokens: mc.crossAttention ? TokenStates(tokens, textDim: mc.textDim) : nil)
        let perSample = (prediction - Tensor(shape: shape, data: targets)).square().reshaped([b, n]).mean(axis: 1)
        let loss = (perSample * Tensor(shape: [b], data: weights)).mean()
        loss.backward()
        if config.gradientClip > 0 { _ = clipGradientNorm(optimizer.parameters, maxNorm: config.gradientClip) }
        optimizer.learningRate = config.learningRate(afterStep: roundStep, roundLength: roundLength)
        optimizer.step()
        optimizer.zeroGrad()
        roundStep += 1
        return loss.item
    }

    /// The guidance stage's target at (z, t): the teacher's (guided, unless `guided` is false)
    /// output there, as a velocity, with the truncated-SNR weight on v.
    func guidanceTarget(sample z: [Float], timestep t: Int, text: [Float], tokens: [Float] = [], guided: Bool) throws -> (v: [Float], weight: Float) {
        let output = try teacherOutput(z, timestep: t, text: text, tokens: tokens, guided: guided)
        return (round.teacherPrediction.convert(output, to: .v, sample: z, alpha: round.schedule.alpha(t), sigma: round.schedule.sigma(t)),
                Float(LossWeighting.truncatedSNR.weight(snr: round.schedule.snr(t), prediction: .v)))
    }

    /// The current teacher's output at (x, t) for `text`: in the first round with
    /// `config.guidance` != 1 and `guided`, the classifier-free-guided combination of its
    /// conditional and unconditional (zero-embedding) branches, evaluated as one batch of two;
    /// otherwise the branch for `text` alone. `tokens`: the text's token states, for a teacher
    /// with cross-attention (the unconditional branch has none).
    func teacherOutput(_ x: [Float], timestep: Int, text: [Float], tokens: [Float] = [], guided: Bool) throws -> [Float] {
        let mc = teacher.config, f = mc.frames, r = mc.resolution
        let cfg = ClassifierFreeGuidance(scale: config.guidance, rescale: config.guidanceRescale, interval: config.guidanceInterval)
        let states: [Float]? = mc.crossAttention ? tokens : nil
        guard isFirstRound, guided, cfg.applies(at: timestep) else {
            return try teacher.predict(x, timestep: timestep, text: text, tokens: states, frames: f, height: r, width: r)
        }
        let both = try teacher.predict(x, timestep: timestep, texts: [text, [Float](repeating: 0, count: mc.textDim)],
                                       tokens: states.map { [$0, []] }, frames: f, height: r, width: r)
        return cfg.combine(conditional: both[0], unconditional: both[1])
    }

    /// Ends the round: the student becomes the teacher, the step count halves (after the guidance
    /// stage it stays, and halving starts). Returns false (and changes nothing) when the student
    /// already takes `targetSteps` steps.
    ///
    /// - Throws: `DenoiserError` when the models cannot be copied.
    @discardableResult
    public func finishRound() throws -> Bool {
        let next: ProgressiveDistillation
        if inGuidanceStage {
            // The guided student becomes the teacher on the same grid.
            next = ProgressiveDistillation(schedule: round.schedule, teacherTimesteps: round.teacherTimesteps, teacherPrediction: .v)
        } else {
            guard round.studentTimesteps.count > config.targetSteps, let halved = round.nextRound(studentPrediction: .v) else { return false }
            next = halved
        }
        teacher = try Self.copy(student, predictionType: .v)
        round = next
        roundStep = 0
        isFirstRound = false
        inGuidanceStage = false
        optimizer = Self.makeOptimizer(student, config)
        return true
    }

    /// Runs the guidance stage if configured, then every round: `stepsPerRound` steps each,
    /// halving until `targetSteps`.
    ///
    /// - Parameters:
    ///   - clipCount: dataset size; `loadClip(i)` returns clip i.
    ///   - progress: called after each step with (student steps of this round, step in round,
    ///     loss); return false to stop.
    /// - Returns: the final student (v-prediction; sample it with `studentScheduler`), or the
    ///   student so far when `progress` stopped the run.
    /// - Throws: what `loadClip` throws, `TrainingError`, `DenoiserError`.
    public func run(clipCount: Int, loadClip: (Int) throws -> TrainingClip,
                    progress: ((_ studentSteps: Int, _ step: Int, _ loss: Float) -> Bool)? = nil) throws -> VideoDenoiser {
        var stop = false
        var hooks = DistillationHooks()
        hooks.shouldContinue = { !stop }
        hooks.step = { steps, step, loss in if let progress, !progress(steps, step, loss) { stop = true } }
        switch try run(clipCount: clipCount, loadClip: loadClip, hooks: hooks) {
        case let .finished(student): return student
        case .stopped: return student
        }
    }

    /// Runs the guidance stage if configured, then every round (`stepsPerRound` steps each,
    /// halving until `targetSteps`), from wherever the distiller stands (a resumed one continues
    /// its round), calling `hooks` along the way: `shouldContinue` before every step,
    /// `step` after it, `roundFinished` with each round's student, `roundStarted` after each
    /// round boundary (where a checkpoint belongs).
    ///
    /// - Returns: `.finished` with the final student, or `.stopped` when `shouldContinue`
    ///   returned false (the distiller is then mid-round, ready for `saveCheckpoint`).
    /// - Throws: what `loadClip` and the hooks throw, `TrainingError`, `DenoiserError`.
    public func run(clipCount: Int, loadClip: (Int) throws -> TrainingClip, hooks: DistillationHooks) throws -> DistillationOutcome {
        guard clipCount > 0 else { throw TrainingError.invalidConfig("the dataset is empty") }
        while true {
            let studentSteps = studentTimesteps.count
            while roundStep < roundLength {
                guard hooks.shouldContinue() else { return .stopped }
                var clips = [TrainingClip]()
                for _ in 0..<config.batchSize {
                    let i = hooks.pickClip.map { $0(clipCount) } ?? rng.nextInt(below: clipCount)
                    clips.append(try loadClip(i).drawingCaption(&rng))
                }
                let loss = try trainStep(clips: clips)
                try hooks.step?(studentSteps, roundStep, loss)
            }
            try hooks.roundFinished?(student, studentSteps)
            if studentSteps <= config.targetSteps { return .finished(student) }
            guard try finishRound() else { return .finished(student) }
            try hooks.roundStarted?()
        }
    }
}

/// What `Distiller.run(clipCount:loadClip:hooks:)` calls while it runs.
public struct DistillationHooks {
    /// Picks a clip index below the count (default: the distiller's own random stream).
    public var pickClip: ((Int) -> Int)? = nil
    /// Asked before every step; false stops the run (`DistillationOutcome.stopped`).
    public var shouldContinue: () -> Bool = { true }
    /// After every step: the round's student step count, the step within the round (1-based
    /// after the step), the loss.
    public var step: ((_ studentSteps: Int, _ step: Int, _ loss: Float) throws -> Void)? = nil
    /// After a round's last step, with its student and that student's step count.
    public var roundFinished: ((_ student: VideoDenoiser, _ studentSteps: Int) throws -> Void)? = nil
    /// After a round boundary, when the next round is set up.
    public var roundStarted: (() throws -> Void)? = nil

    /// No hooks.
    public init() {}
}

/// How `Distiller.run(clipCount:loadClip:hooks:)` ended.
public enum DistillationOutcome {
    /// Every round ran; the final student.
    case finished(VideoDenoiser)
    /// `shouldContinue` returned false.
    case stopped
}
