/// Hyper-parameters of `AutoencoderTrainer`.
public struct AutoencoderTrainingConfig: Sendable, Codable, Equatable {
    /// Frames (crops) per optimisation step.
    public var batchSize: Int = 8
    /// Side of the square random crop taken from each frame, in pixels (a multiple of the
    /// autoencoder's downsampling factor, at most the frames' height and width).
    public var crop: Int = 64
    /// Peak AdamW learning rate.
    public var learningRate: Float = 5e-4
    /// Learning rate at the end of the cosine decay.
    public var minimumLearningRate: Float = 0
    /// Linear warm-up steps.
    public var warmupSteps: Int = 100
    /// Steps of the whole run (end of the cosine decay).
    public var totalSteps: Int = 5000
    /// AdamW decoupled weight decay (not applied to biases and norms).
    public var weightDecay: Float = 0.01
    /// Global gradient-norm clip; 0 disables.
    public var gradientClip: Float = 1
    /// Target EMA decay (ramped up as min(decay, (1 + n) / (10 + n)) over the first updates).
    public var emaDecay: Float = 0.999
    /// λ: weight of the L1 between the image gradients of input and reconstruction.
    public var gradientWeight: Float = 1
    /// β: weight of the KL term (per pixel value, see `AutoencoderLoss`).
    public var klWeight: Float = 1e-6
    /// Write a checkpoint every this many steps (0: only at the end and on cancel).
    public var checkpointEvery: Int = 500
    /// Seed of the trainer's random stream (clips, frames, crop positions, posterior noise).
    public var seed: UInt64 = 0
    /// Arithmetic of the run's convolutions and matrix products (`ComputePrecision`); what the
    /// caller set for the run, recorded with it. `nil`: fp32, left out of the JSON.
    public var precision: ComputePrecision? = nil

    /// The defaults above.
    public init() {}

    private enum CodingKeys: String, CodingKey {
        case batchSize, crop, learningRate, minimumLearningRate, warmupSteps, totalSteps, weightDecay, gradientClip
        case emaDecay, gradientWeight, klWeight, checkpointEvery, seed, precision
    }

    /// Reads the JSON form; fields it leaves out keep their defaults.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AutoencoderTrainingConfig()
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize) ?? d.batchSize
        crop = try c.decodeIfPresent(Int.self, forKey: .crop) ?? d.crop
        learningRate = try c.decodeIfPresent(Float.self, forKey: .learningRate) ?? d.learningRate
        minimumLearningRate = try c.decodeIfPresent(Float.self, forKey: .minimumLearningRate) ?? d.minimumLearningRate
        warmupSteps = try c.decodeIfPresent(Int.self, forKey: .warmupSteps) ?? d.warmupSteps
        totalSteps = try c.decodeIfPresent(Int.self, forKey: .totalSteps) ?? d.totalSteps
        weightDecay = try c.decodeIfPresent(Float.self, forKey: .weightDecay) ?? d.weightDecay
        gradientClip = try c.decodeIfPresent(Float.self, forKey: .gradientClip) ?? d.gradientClip
        emaDecay = try c.decodeIfPresent(Float.self, forKey: .emaDecay) ?? d.emaDecay
        gradientWeight = try c.decodeIfPresent(Float.self, forKey: .gradientWeight) ?? d.gradientWeight
        klWeight = try c.decodeIfPresent(Float.self, forKey: .klWeight) ?? d.klWeight
        checkpointEvery = try c.decodeIfPresent(Int.self, forKey: .checkpointEvery) ?? d.checkpointEvery
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed) ?? d.seed
        precision = try c.decodeIfPresent(ComputePrecision.self, forKey: .precision)
    }

    /// Checks the values.
    ///
    /// - Throws: `TrainingError.invalidConfig` naming the field.
    public func validate() throws {
        if precision == .bf16 && !ComputePrecision.bf16Supported {
            throw TrainingError.invalidConfig("precision bf16 needs a CPU with AVX512_BF16; this one lacks it")
        }
        guard batchSize > 0 else { throw TrainingError.invalidConfig("batchSize must be positive") }
        guard crop > 0 else { throw TrainingError.invalidConfig("crop must be positive") }
        guard learningRate > 0, learningRate.isFinite, minimumLearningRate >= 0 else {
            throw TrainingError.invalidConfig("learning rates must be positive")
        }
        guard warmupSteps >= 0, totalSteps >= warmupSteps else {
            throw TrainingError.invalidConfig("need 0 <= warmupSteps (\(warmupSteps)) <= totalSteps (\(totalSteps))")
        }
        guard (0..<1).contains(emaDecay) else { throw TrainingError.invalidConfig("emaDecay must be in [0, 1)") }
        guard gradientWeight >= 0, gradientWeight.isFinite, klWeight >= 0, klWeight.isFinite else {
            throw TrainingError.invalidConfig("gradientWeight and klWeight must be finite and >= 0")
        }
        guard checkpointEvery >= 0, gradientClip >= 0 else { throw TrainingError.invalidConfig("checkpointEvery and gradientClip must be >= 0") }
    }
}

/// Reported by `AutoencoderTrainer` after every step.
public struct AutoencoderTrainingProgress: Sendable {
    /// Steps completed (1-based).
    public let step: Int
    /// The run's total steps.
    public let totalSteps: Int
    /// This step's objective and its parts.
    public let loss: AutoencoderLoss
    /// Learning rate used for this step.
    public let learningRate: Float
}
