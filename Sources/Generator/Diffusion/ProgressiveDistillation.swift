/// One progressive-distillation training target (see `ProgressiveDistillation`).
public struct DistillationTarget: Sendable {
    /// The teacher's sample z'' after its two DDIM steps.
    public var teacherSample: [Float]
    /// The student's x target x~: one DDIM step from z_t predicting x~ lands exactly on z''.
    public var x0: [Float]
    /// The same target as a velocity: v~ = (alpha_t z_t - x~) / sigma_t.
    public var v: [Float]
    /// Signal-to-noise ratio at the student's timestep t.
    public var snr: Double

    /// The target in the student's parameterisation (epsilon needs sigma_t > 0).
    public func target(for prediction: PredictionType, sample: [Float], alpha: Double, sigma: Double) -> [Float] {
        switch prediction {
        case .x0: return x0
        case .v: return v
        case .epsilon: return PredictionType.x0.noise(from: x0, sample: sample, alpha: alpha, sigma: sigma)
        }
    }

    /// The loss weight for a student predicting `prediction`: truncated-SNR max(SNR, 1) on x,
    /// converted to that parameterisation's MSE (max(SNR, 1) / (SNR + 1) for v).
    public func weight(for prediction: PredictionType) -> Double {
        LossWeighting.truncatedSNR.weight(snr: snr, prediction: prediction)
    }
}

/// Progressive distillation of a deterministic DDIM sampler (Salimans & Ho 2022, "Progressive
/// Distillation for Fast Sampling of Diffusion Models", Algorithm 2).
///
/// The teacher samples on a grid of 2N timesteps; the student on every second one (N steps).
/// For a student step from t to s (the teacher's grid t -> t' -> s), starting at z_t, the teacher
/// takes two DDIM steps (eta = 0) z_t -> z' -> z''. The student's target is the x~ for which one
/// DDIM step z_s = alpha_s x + sigma_s (z_t - alpha_t x) / sigma_t lands on z'':
///   x~ = (z'' - (sigma_s / sigma_t) z_t) / (alpha_s - (sigma_s / sigma_t) alpha_t),
/// trained with weight max(SNR_t, 1) on the x-MSE, or equivalently with v~ = (alpha_t z_t - x~) /
/// sigma_t as a v target. After a round the student becomes the teacher and N halves.
///
/// Timesteps are discrete training steps; -1 is clean data (alpha 1, sigma 0).
public struct ProgressiveDistillation: Sendable {
    /// The training noise schedule.
    public let schedule: NoiseSchedule
    /// The teacher's grid, descending, of even length 2N.
    public let teacherTimesteps: [Int]
    /// What the teacher model predicts.
    public let teacherPrediction: PredictionType

    /// Sets up one round.
    ///
    /// - Precondition: `teacherTimesteps` is strictly descending, inside the schedule and of even length.
    public init(schedule: NoiseSchedule = .default, teacherTimesteps: [Int], teacherPrediction: PredictionType) {
        precondition(!teacherTimesteps.isEmpty && teacherTimesteps.count % 2 == 0,
                     "progressive distillation needs an even number of teacher steps (got \(teacherTimesteps.count))")
        precondition(zip(teacherTimesteps, teacherTimesteps.dropFirst()).allSatisfy { $0 > $1 },
                     "teacher timesteps must be strictly descending: \(teacherTimesteps)")
        precondition(teacherTimesteps.allSatisfy { $0 >= 0 && $0 < schedule.trainSteps },
                     "teacher timesteps must lie in 0..<\(schedule.trainSteps)")
        self.schedule = schedule
        self.teacherTimesteps = teacherTimesteps
        self.teacherPrediction = teacherPrediction
    }

    /// The student's grid: every second teacher timestep (N entries).
    public var studentTimesteps: [Int] { stride(from: 0, to: teacherTimesteps.count, by: 2).map { teacherTimesteps[$0] } }

    /// The next round: the student (predicting `studentPrediction`) becomes the teacher on the
    /// student's grid; nil when the student already takes a single step.
    public func nextRound(studentPrediction: PredictionType = .v) -> ProgressiveDistillation? {
        let grid = studentTimesteps
        guard grid.count >= 2, grid.count % 2 == 0 else { return nil }
        return ProgressiveDistillation(schedule: schedule, teacherTimesteps: grid, teacherPrediction: studentPrediction)
    }

    /// One deterministic DDIM step (Song et al. 2021, eq. 12 with eta = 0) from z_t to the
    /// point with scales (alphaS, sigmaS), given a predicted clean sample `x`.
    public static func ddimStep(sample z: [Float], predictedX0 x: [Float],
                                alphaT: Double, sigmaT: Double, alphaS: Double, sigmaS: Double) -> [Float] {
        let ratio = sigmaS / sigmaT
        return VectorMath.combine(Float(alphaS - ratio * alphaT), x, Float(ratio), z)
    }

    /// The student's x target: x~ = (z'' - (sigma_s / sigma_t) z_t) / (alpha_s - (sigma_s / sigma_t) alpha_t).
    public static func studentTarget(sample z: [Float], teacherSample zpp: [Float],
                                     alphaT: Double, sigmaT: Double, alphaS: Double, sigmaS: Double) -> [Float] {
        let ratio = sigmaS / sigmaT
        let denominator = alphaS - ratio * alphaT
        precondition(denominator > 0, "distillation target: the step must go towards less noise (alpha_s/sigma_s > alpha_t/sigma_t)")
        return VectorMath.combine(Float(1 / denominator), zpp, Float(-ratio / denominator), z)
    }

    /// Computes the target for student step `index` (from `studentTimesteps[index]`) at sample
    /// `z` (x_t), calling `teacher(x, t)` twice for model outputs in `teacherPrediction`.
    ///
    /// - Throws: whatever `teacher` throws.
    public func target(sample z: [Float], studentStep index: Int,
                       teacher: (_ x: [Float], _ t: Int) throws -> [Float]) rethrows -> DistillationTarget {
        precondition(index >= 0 && index < teacherTimesteps.count / 2,
                     "student step \(index) is outside 0..<\(teacherTimesteps.count / 2)")
        let t = teacherTimesteps[2 * index]
        let mid = teacherTimesteps[2 * index + 1]
        let s = 2 * index + 2 < teacherTimesteps.count ? teacherTimesteps[2 * index + 2] : -1
        let (aT, sT) = (schedule.alpha(t), schedule.sigma(t))
        let (aM, sM) = (schedule.alpha(mid), schedule.sigma(mid))
        let (aS, sS) = (schedule.alpha(s), schedule.sigma(s))

        // Teacher: two DDIM steps t -> mid -> s.
        let x1 = teacherPrediction.originalSample(from: try teacher(z, t), sample: z, alpha: aT, sigma: sT)
        let z1 = Self.ddimStep(sample: z, predictedX0: x1, alphaT: aT, sigmaT: sT, alphaS: aM, sigmaS: sM)
        let x2 = teacherPrediction.originalSample(from: try teacher(z1, mid), sample: z1, alpha: aM, sigma: sM)
        let z2 = Self.ddimStep(sample: z1, predictedX0: x2, alphaT: aM, sigmaT: sM, alphaS: aS, sigmaS: sS)

        // Student: the x that reaches z2 in one step, and its v.
        let x = Self.studentTarget(sample: z, teacherSample: z2, alphaT: aT, sigmaT: sT, alphaS: aS, sigmaS: sS)
        let v = VectorMath.combine(Float(aT / sT), z, Float(-1 / sT), x)
        return DistillationTarget(teacherSample: z2, x0: x, v: v, snr: schedule.snr(t))
    }
}
