import Foundation
import XCTest
@testable import Generator

/// The PyTorch twin's trainer (python/t2v_twin/train.py) against the Swift recipe's levers,
/// checked by python/t2v_twin/check_train_levers.py: the noise schedules, Min-SNR-gamma weights and
/// joint image-video slot counts Swift computes, compared with the twin's; and short twin runs
/// (1 to 3 steps of the tiny network) with `--image-fraction`, `--condition-dropout`,
/// `--min-snr-gamma`, `--text-noise`, `--motion-loss`, a shifted-cosine schedule and a text whitening (fitted, never trained), whose checkpoint must store each lever, with a
/// `--resume` that would change one refused. Skipped, with a message, where PyTorch is not installed.
final class TwinTrainerTests: XCTestCase {
    private static let script = PythonOracle.root.appendingPathComponent("python/t2v_twin/check_train_levers.py").path

    /// Swift's `alphasCumprod` of every beta schedule kind, `DiffusionLoss.weights` under
    /// `.minSNR` for each prediction type, and `Trainer.imageSlots` over a grid of batch sizes and
    /// fractions (halves included, where Swift's rounding differs from Python's `round`).
    func testRecipeMatchesSwift() throws {
        try PythonOracle.requireTorch(for: "the twin trainer's recipe check against Swift")
        struct Schedule: Encodable { var schedule: NoiseSchedule; var alphasCumprod: [UInt64] }
        struct Weights: Encodable { var schedule: NoiseSchedule; var prediction: String; var gamma: Double; var weights: [UInt32] }
        struct Slots: Encodable { var batch: Int; var fraction: Double; var slots: Int }
        struct Recipe: Encodable { var schedules: [Schedule]; var weights: [Weights]; var imageSlots: [Slots] }

        let schedules = [
            NoiseSchedule(.linear(start: 1e-4, end: 0.02)),
            NoiseSchedule(.scaledLinear(start: 0.00085, end: 0.012)),
            NoiseSchedule(.squaredCosCapV2),
            NoiseSchedule(.shiftedCosine(maxBeta: 0.999, logSNRShift: -1)),
            NoiseSchedule(.shiftedCosine(maxBeta: 0.999, logSNRShift: 0)),
            NoiseSchedule(.shiftedCosine(maxBeta: 0.999, logSNRShift: 2)),
            NoiseSchedule(.custom(betas: [0.1, 0.2, 0.3]), trainSteps: 3),
        ]
        var weights = [Weights]()
        for s in schedules.prefix(4) {
            for p in [PredictionType.v, .epsilon, .x0] {
                for gamma in [5.0, 1.0] {
                    let w = DiffusionLoss.weights(timesteps: Array(0..<s.trainSteps), schedule: s, prediction: p,
                                                  weighting: .minSNR(gamma: gamma)).map { Float($0).bitPattern }
                    weights.append(Weights(schedule: s, prediction: p.rawValue, gamma: gamma, weights: w))
                }
            }
        }
        var rng = Philox(seed: 1)
        let model = try VideoDenoiser(config: .tiny, rng: &rng)
        var slots = [Slots]()
        for batch in 1...8 {
            for fraction in [0, 0.1, 0.25, 0.3, 0.5, 0.625, 0.75, 0.9, 0.99] {
                var tc = TrainingConfig()
                tc.batchSize = batch
                tc.warmupSteps = 0
                tc.imageFraction = fraction
                slots.append(Slots(batch: batch, fraction: fraction, slots: try Trainer(model: model, config: tc).imageSlots))
            }
        }
        let recipe = Recipe(schedules: schedules.map { Schedule(schedule: $0, alphasCumprod: $0.alphasCumprod.map(\.bitPattern)) },
                            weights: weights, imageSlots: slots)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("twin-recipe-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try JSONEncoder().encode(recipe).write(to: url)

        let (status, output) = try PythonOracle.run([Self.script, "--recipe", url.path])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("all lever checks passed"), output)
    }

    /// One twin step with `--image-fraction 0.5` (a clip slot and a slot of independent frames),
    /// the levers stored in the checkpoint, the refusals and an older checkpoint's defaults.
    func testImageFractionStepStoresTheLevers() throws {
        try PythonOracle.requireTorch(for: "the twin trainer's lever checks")
        let (status, output) = try PythonOracle.run([Self.script])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("all lever checks passed"), output)
    }
}
