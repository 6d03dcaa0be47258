import Foundation
import XCTest
@testable import Generator

/// Joint image-video training (`TrainingConfig.imageFraction`), the image path of the denoiser,
/// and the temporal stream's initialisation.
final class JointTrainingTests: XCTestCase {
    /// A fresh temporal stream adds nothing (zero output projections), so the video path equals
    /// the per-image path frame by frame; its gradient still reaches the output projections.
    func testFreshTemporalStreamIsIdentityAndLearns() throws {
        var rng = Philox(seed: 3)
        let model = try VideoDenoiser(config: TrainingTests.small, rng: &rng)
        let c = model.config, n = c.frames * 3 * c.resolution * c.resolution
        var data = Philox(seed: 9)
        let x = data.normal(count: n), text = TrainingTests.prompts()[0]
        let video = model(Tensor(shape: [1, c.frames, 3, c.resolution, c.resolution], data: x), timesteps: [500],
                          text: Tensor(shape: [1, c.textDim], data: text)).toArray()
        let images = model(images: Tensor(shape: [c.frames, 3, c.resolution, c.resolution], data: x),
                           timesteps: [Int](repeating: 500, count: c.frames),
                           text: Tensor(shape: [c.frames, c.textDim], data: Array([[Float]](repeating: text, count: c.frames).joined()))).toArray()
        XCTAssertEqual(video.count, images.count)
        for (a, b) in zip(video, images) { XCTAssertEqual(a, b, accuracy: 1e-5) }

        for (name, p) in model.namedParameters() where name.hasSuffix("residualGate") { XCTAssertEqual(p.value.toArray(), [1], name) }
        let out = model(Tensor(shape: [1, c.frames, 3, c.resolution, c.resolution], data: x), timesteps: [500],
                        text: Tensor(shape: [1, c.textDim], data: text))
        out.square().mean().backward()
        let grads = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.0, $0.1.grad?.toArray() ?? []) })
        for key in ["down.0.temporal.attention.toOut.weight", "down.0.temporal.ff2.weight"] {
            XCTAssertGreaterThan(grads[key]?.map(abs).max() ?? 0, 0, "\(key) gets no gradient at initialisation")
        }
    }

    /// Image slots: a step with images trains, is reproducible, resumes bit for bit, and the
    /// option is stored in the checkpoint but left out of the JSON when off.
    func testImageFractionTrainsAndResumesBitForBit() throws {
        let clips = TrainingTests.clips(), prompts = TrainingTests.prompts()
        func load(_ i: Int) -> TrainingClip { TrainingClip(video: clips[i], text: prompts[i]) }
        var config = TrainingConfig()
        config.batchSize = 2
        config.learningRate = 1e-3
        config.warmupSteps = 1
        config.totalSteps = 4
        config.seed = 5
        let plain = String(decoding: try JSONEncoder().encode(config), as: UTF8.self)
        XCTAssertFalse(plain.contains("imageFraction"))
        config.imageFraction = 0.5
        XCTAssertTrue(String(decoding: try JSONEncoder().encode(config), as: UTF8.self).contains("imageFraction"))
        func fresh() throws -> Trainer {
            var rng = Philox(seed: 4)
            return try Trainer(model: try VideoDenoiser(config: TrainingTests.small, rng: &rng), config: config)
        }
        XCTAssertEqual(try fresh().imageSlots, 1)
        let straight = try fresh()
        XCTAssertTrue(try straight.train(clipCount: 2, loadClip: load))

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("joint-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("run.safetensors")
        let first = try fresh()
        XCTAssertFalse(try first.train(clipCount: 2, loadClip: load, checkpoint: url, progress: { $0.step < 2 }))
        let resumed = try Trainer.resume(from: url)
        XCTAssertEqual(resumed.config.imageFraction, 0.5)
        XCTAssertTrue(try resumed.train(clipCount: 2, loadClip: load))
        for ((name, a), (_, b)) in zip(straight.model.namedParameters(), resumed.model.namedParameters()) {
            XCTAssertEqual(a.value.toArray(), b.value.toArray(), "parameter \(name) differs after resuming")
        }

        // The same seed without images takes other steps.
        config.imageFraction = nil
        let videoOnly = try fresh()
        XCTAssertEqual(videoOnly.imageSlots, 0)
        XCTAssertTrue(try videoOnly.train(clipCount: 2, loadClip: load))
        XCTAssertNotEqual(videoOnly.model.namedParameters()[0].1.value.toArray(), straight.model.namedParameters()[0].1.value.toArray())

        config.imageFraction = 1
        XCTAssertThrowsError(try fresh()) { XCTAssertTrue("\($0)".contains("imageFraction"), "\($0)") }
    }

    /// A loss of images alone: the image path's gradient reaches the spatial layers and not the
    /// temporal stream.
    func testImagesSkipTheTemporalStream() throws {
        var rng = Philox(seed: 8)
        let model = try VideoDenoiser(config: TrainingTests.small, rng: &rng)
        let c = model.config
        var config = TrainingConfig()
        config.batchSize = 2
        config.imageFraction = 0.5
        config.conditionDropout = 0
        let trainer = try Trainer(model: model, config: config)
        let frame = Array(TrainingTests.clips()[0][0..<(3 * c.resolution * c.resolution)])
        let before = model.namedParameters().map { ($0.0, $0.1.value.toArray()) }
        try trainer.trainStep(clips: [], images: [TrainingImage](repeating: TrainingImage(image: frame, text: TrainingTests.prompts()[0]), count: 3))
        for ((name, old), (_, p)) in zip(before, model.namedParameters()) {
            let moved = old != p.value.toArray()
            if name.contains("temporal") {
                // AdamW's decay moves weights a little even without gradient: only exact zeros stay put.
                if name.hasSuffix("toOut.weight") || name.hasSuffix("ff2.weight") { XCTAssertFalse(moved, "\(name) moved on images") }
            } else if name.hasPrefix("convIn") {
                XCTAssertTrue(moved, "\(name) did not move")
            }
        }
        XCTAssertThrowsError(try trainer.trainStep(clips: [], images: [TrainingImage(image: [0], text: TrainingTests.prompts()[0])]))
    }
}

/// The log-SNR-shifted cosine schedule.
final class ShiftedScheduleTests: XCTestCase {
    func testShiftMovesLogSNRByTheShift() {
        let base = NoiseSchedule(.squaredCosCapV2)
        XCTAssertEqual(NoiseSchedule(.shiftedCosine(maxBeta: 0.999, logSNRShift: 0)).alphasCumprod, base.alphasCumprod)
        let shifted = NoiseSchedule(.shiftedCosine(maxBeta: 0.999, logSNRShift: -2))
        // Away from the capped last steps, log SNR is the cosine's minus 2 (the cosine's own
        // abar is normalised by abar(0) here, which moves it by under 1e-3).
        for t in stride(from: 0, to: 950, by: 50) {
            XCTAssertEqual(shifted.logSNR(t), base.logSNR(t) - 2, accuracy: 2e-3, "t = \(t)")
        }
        XCTAssertLessThan(shifted.snr(999), 1e-6)
        // Round trip through the configuration's JSON.
        let data = try! JSONEncoder().encode(shifted)
        XCTAssertEqual(try JSONDecoder().decode(NoiseSchedule.self, from: data), shifted)
    }
}
