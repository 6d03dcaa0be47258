/// How the per-sample diffusion training loss is weighted across noise levels.
///
/// With a model predicting in parameterisation P at SNR = alpha^2 / sigma^2, the weights below
/// multiply the plain MSE between the prediction and the P target:
/// - `uniform`: 1 (Ho et al.'s "simple" loss for epsilon).
/// - `minSNR(gamma)`: Min-SNR-gamma (Hang et al. 2023, "Efficient Diffusion Training via Min-SNR
///   Weighting Strategy"): min(SNR, gamma) on the x0-MSE, which is min(SNR, gamma) / SNR on
///   the epsilon-MSE and min(SNR, gamma) / (SNR + 1) on the v-MSE (as diffusers' training scripts).
/// - `truncatedSNR`: max(SNR, 1) on the x0-MSE (Salimans & Ho 2022, used for distillation), i.e.
///   max(SNR, 1) / SNR on the epsilon-MSE and max(SNR, 1) / (SNR + 1) on the v-MSE.
public enum LossWeighting: Sendable, Codable, Equatable {
    /// Every sample weighs 1.
    case uniform
    /// Min-SNR-gamma weighting; Hang et al. recommend gamma = 5.
    case minSNR(gamma: Double)
    /// Truncated-SNR weighting max(SNR, 1) on x0 (progressive distillation).
    case truncatedSNR

    /// The weight of a sample at signal-to-noise ratio `snr` whose loss is the MSE of a
    /// `prediction`-parameterised output.
    public func weight(snr: Double, prediction: PredictionType) -> Double {
        let x0Weight: Double
        switch self {
        case .uniform: return 1
        case let .minSNR(gamma): x0Weight = min(snr, gamma)
        case .truncatedSNR: x0Weight = max(snr, 1)
        }
        // MSE_x0 = MSE_eps / SNR = MSE_v / (SNR + 1), so convert the x0 weight.
        switch prediction {
        case .x0: return x0Weight
        case .epsilon: return x0Weight / snr
        case .v: return x0Weight / (snr + 1)
        }
    }
}

/// The diffusion training objective on flat arrays: a weighted mean squared error, reported with
/// its gradient so it can seed a backward pass.
public enum DiffusionLoss {
    /// Weighted MSE over a batch: `prediction` and `target` hold `weights.count` equal-sized
    /// samples back to back; the loss is mean_i(w_i * mean_j (p_ij - y_ij)^2). Returns the loss
    /// and its gradient with respect to `prediction`, accumulated in Double.
    ///
    /// - Precondition: equal counts, divisible by `weights.count`.
    public static func weightedMSE(prediction: [Float], target: [Float], weights: [Double]) -> (loss: Double, gradient: [Float]) {
        precondition(prediction.count == target.count,
                     "loss: prediction has \(prediction.count) elements but the target has \(target.count)")
        precondition(!weights.isEmpty && prediction.count % weights.count == 0,
                     "loss: \(prediction.count) elements cannot be split into \(weights.count) samples")
        let n = prediction.count / weights.count
        let batch = Double(weights.count)
        var loss = 0.0
        let gradient = [Float](unsafeUninitializedCapacity: prediction.count) { g, initialized in
            prediction.withUnsafeBufferPointer { p in
                target.withUnsafeBufferPointer { y in
                    for (s, w) in weights.enumerated() {
                        var sum = 0.0
                        let scale = Float(2 * w / (Double(n) * batch))
                        for j in s * n..<(s + 1) * n {
                            let d = Double(p[j]) - Double(y[j])
                            sum += d * d
                            g[j] = scale * Float(d)
                        }
                        loss += w * sum / Double(n)
                    }
                }
            }
            initialized = prediction.count
        }
        return (loss / batch, gradient)
    }

    /// Per-sample weights for a batch noised to `timesteps`.
    public static func weights(timesteps: [Int], schedule: NoiseSchedule, prediction: PredictionType,
                               weighting: LossWeighting) -> [Double] {
        timesteps.map { weighting.weight(snr: schedule.snr($0), prediction: prediction) }
    }
}
