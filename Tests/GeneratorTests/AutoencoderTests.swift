import Foundation
import XCTest
@testable import Generator

/// The latent autoencoder: shapes, gradients against finite differences, training, bit-for-bit
/// resume, its file format and the errors for files that are not autoencoders, the scale factor and
/// the latent dataset writer. Tiny configurations throughout (each test takes about a second).
final class AutoencoderTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("autoencoder-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    /// `count` synthetic clips `[frames, 3, height, width]` in [-1, 1]: a coloured square moving
    /// over stripes whose direction, period and colours depend on the clip.
    static func clips(count: Int, frames: Int, height: Int, width: Int, seed: UInt64 = 5) -> [[Float]] {
        var rng = Philox(seed: seed)
        let plane = height * width
        return (0..<count).map { _ in
            let colour = rng.uniform(count: 6).map { 2 * $0 - 1 }
            let period = Double(2 + rng.nextInt(below: 5)), vertical = rng.nextInt(below: 2) == 0
            let side = max(2, min(height, width) / 3)
            var clip = [Float](repeating: 0, count: frames * 3 * plane)
            for t in 0..<frames {
                let top = (t * 2) % max(height - side, 1), left = (t * 3) % max(width - side, 1)
                for y in 0..<height {
                    for x in 0..<width {
                        let stripe = Float(sin(2 * Double.pi * Double((vertical ? x : y) + t) / period))
                        let inSquare = (top..<top + side).contains(y) && (left..<left + side).contains(x)
                        for c in 0..<3 {
                            clip[(t * 3 + c) * plane + y * width + x] = inSquare ? colour[c] : 0.8 * stripe * colour[3 + c]
                        }
                    }
                }
            }
            return clip
        }
    }

    /// A tiny model whose weights are all moved away from their initial values (GroupNorm scales
    /// and shifts too, so every parameter matters).
    static func perturbedModel(_ config: AutoencoderConfig = .tiny, seed: UInt64 = 3) throws -> VideoAutoencoder {
        var rng = Philox(seed: seed)
        let model = try VideoAutoencoder(config: config, rng: &rng)
        var noise = Philox(seed: seed, stream: 9)
        for (_, p) in model.namedParameters() {
            let delta = Tensor.uniform(p.shape, low: -0.2, high: 0.2, using: &noise)
            p.assign(withoutGradients { p.value + delta })
        }
        return model
    }

    /// Frames `[n, 3, h, w]` from the synthetic clips (frame 0 of each).
    static func frames(_ n: Int, height: Int, width: Int, seed: UInt64 = 5) -> Tensor {
        let clips = clips(count: n, frames: 1, height: height, width: width, seed: seed)
        return Tensor(shape: [n, 3, height, width], data: Array(clips.joined()))
    }

    // MARK: - Shapes and configuration

    func testShapesForSizesDivisibleByTheFactor() throws {
        for latent in [4, 8] {
            var config = AutoencoderConfig.tiny
            config.latentChannels = latent
            let model = try Self.perturbedModel(config)
            XCTAssertEqual(config.downsamplingFactor, 4)
            for (h, w) in [(4, 4), (8, 12), (12, 8), (16, 20), (32, 32)] {
                let x = Self.frames(2, height: h, width: w)
                let (mean, logvar) = withoutGradients { model.encode(x) }
                XCTAssertEqual(mean.shape, [2, latent, h / 4, w / 4], "\(w)x\(h)")
                XCTAssertEqual(logvar.shape, mean.shape)
                XCTAssertTrue(logvar.toArray().allSatisfy { VideoAutoencoder.logvarRange.contains($0) })
                let decoded = withoutGradients { model.decode(mean) }
                XCTAssertEqual(decoded.shape, [2, 3, h, w], "\(w)x\(h)")
                // Clips [B, T, 3, H, W]: the same per-frame maps with the leading dimensions kept.
                let clip = x.reshaped([1, 2, 3, h, w])
                let z = withoutGradients { model.latents(clip) }
                XCTAssertEqual(z.shape, [1, 2, latent, h / 4, w / 4])
                XCTAssertEqual(z.toArray(), mean.toArray(), "latents are the posterior means at scale 1")
                XCTAssertEqual(withoutGradients { model.decode(z) }.shape, [1, 2, 3, h, w])
                let flat = try model.latents(ofClip: x.toArray(), frames: 2, height: h, width: w, chunk: 1)
                assertClose(flat, mean.toArray(), rtol: 1e-5, atol: 1e-6, "latents(ofClip:) one frame at a time")
            }
        }
        // Two levels: f = 2.
        var two = AutoencoderConfig.tiny
        two.channels = [8, 16]
        let model = try Self.perturbedModel(two)
        XCTAssertEqual(withoutGradients { model.encode(Self.frames(1, height: 6, width: 10)) }.mean.shape, [1, 4, 3, 5])
        XCTAssertThrowsError(try model.latents(ofClip: [Float](repeating: 0, count: 3 * 5 * 6), frames: 1, height: 5, width: 6)) { error in
            XCTAssertTrue(error.localizedDescription.contains("multiple of 2"), error.localizedDescription)
        }
    }

    func testScaleFactorMultipliesLatentsAndDividesBeforeDecoding() throws {
        let model = try Self.perturbedModel()
        let x = Self.frames(2, height: 8, width: 8)
        let (mean, logvar) = withoutGradients { model.encode(x) }
        let decodedAtOne = withoutGradients { model.decode(mean) }.toArray()
        var rng = Philox(seed: 1)
        let sampleAtOne = withoutGradients { model.sample(mean: mean, logvar: logvar, rng: &rng) }.toArray()
        model.scaleFactor = 0.25
        XCTAssertEqual(withoutGradients { model.encode(x) }.mean.toArray(), mean.toArray(), "encode is unscaled")
        assertClose(withoutGradients { model.latents(x) }.toArray(), mean.toArray().map { $0 * 0.25 }, rtol: 1e-6, atol: 0)
        rng = Philox(seed: 1)
        assertClose(withoutGradients { model.sample(mean: mean, logvar: logvar, rng: &rng) }.toArray(), sampleAtOne.map { $0 * 0.25 },
                    rtol: 1e-6, atol: 0)
        assertClose(withoutGradients { model.decode(model.latents(x)) }.toArray(), decodedAtOne, rtol: 1e-5, atol: 1e-6)
        // The draw is mean + exp(logvar / 2) * eps with eps the stream's normals, in order.
        var draw = Philox(seed: 1)
        let eps = draw.normal(count: mean.count)
        let expected = zip(zip(mean.toArray(), logvar.toArray()), eps).map { 0.25 * ($0.0 + Foundation.exp($0.1 / 2) * $1) }
        rng = Philox(seed: 1)
        assertClose(withoutGradients { model.sample(mean: mean, logvar: logvar, rng: &rng) }.toArray(), expected, rtol: 1e-5, atol: 1e-6)
    }

    func testConfigValidationAndDefaults() throws {
        func message(_ change: (inout AutoencoderConfig) -> Void) -> String {
            var c = AutoencoderConfig()
            change(&c)
            do { try c.validate(); return "" } catch { return error.localizedDescription }
        }
        XCTAssertEqual(message { _ in }, "")
        XCTAssertTrue(message { $0.latentChannels = 5 }.contains("latentChannels is 5"))
        XCTAssertTrue(message { $0.imageChannels = 1 }.contains("RGB"))
        XCTAssertTrue(message { $0.channels = [32, 60, 128] }.contains("level 1 has 60 channels, not divisible by 8 groups"))
        XCTAssertTrue(message { $0.channels = [] }.contains("levels"))
        XCTAssertTrue(message { $0.resBlocks = 0 }.contains("resBlocks"))
        // JSON with fields left out keeps the defaults; the full form round-trips.
        let partial = try JSONDecoder().decode(AutoencoderConfig.self, from: Data(#"{"latentChannels":8}"#.utf8))
        var expected = AutoencoderConfig()
        expected.latentChannels = 8
        XCTAssertEqual(partial, expected)
        XCTAssertEqual(try JSONDecoder().decode(AutoencoderConfig.self, from: JSONEncoder().encode(AutoencoderConfig.tiny)), .tiny)
        let training = try JSONDecoder().decode(AutoencoderTrainingConfig.self, from: Data(#"{"crop":32}"#.utf8))
        XCTAssertEqual(training.crop, 32)
        XCTAssertEqual(training.klWeight, 1e-6)
        XCTAssertEqual(training.gradientWeight, 1)
    }

    // MARK: - Gradients

    /// The new ops (`l1Loss`, `clamped`) against central finite differences, at points away from
    /// their kinks.
    func testL1LossAndClampGradients() {
        let p = randomTensor([3, 7], seed: 41)
        var rng = TestRNG(seed: 42)
        let offsets = (0..<21).map { _ in (Float(rng.next() % 2) * 2 - 1) * (0.1 + Float(rng.next() % 100) / 100) }
        let t = Tensor(shape: [3, 7], data: zip(p.toArray(), offsets).map { $0 + $1 }).requiringGrad()
        checkGradients([p, t], "l1Loss") { l1Loss($0[0], $0[1]) }
        // Values at least 0.05 from the bounds ±0.5.
        let x = Tensor(shape: [4, 5], data: (0..<20).map { i in [-0.9, -0.3, 0.1, 0.45, 0.8][i % 5] + Float(i / 5) * 0.01 }).requiringGrad()
        checkGradients([x], "clamped") { $0[0].clamped(min: -0.5, max: 0.5) * $0[0] }
        XCTAssertEqual(Tensor(shape: [4], data: [-40, -1, 3, 25]).clamped(min: -30, max: 20).toArray(), [-30, -1, 3, 20])
        XCTAssertEqual(l1Loss(Tensor(shape: [2], data: [1, -1]), Tensor(shape: [2], data: [0.5, 1])).item, 1.25)
    }

    /// d(loss)/d(parameter) of the whole objective (encode, reparameterised draw, decode, L1 +
    /// image-gradient L1 + KL, with a scale factor) against central differences, for parameters in
    /// every kind of layer. The target is the current reconstruction plus offsets that keep every
    /// pixel residual and every image-gradient residual at least 0.05 away from zero, so the L1
    /// terms are smooth around this point (a finite difference across an L1 kink has an O(h)
    /// error however many pixels are averaged). The forward passes run in Float32; the differences
    /// are taken in Double (h = 1e-2).
    func testObjectiveGradientsMatchFiniteDifferences() throws {
        let model = try Self.perturbedModel()
        model.scaleFactor = 0.5
        let x = Self.frames(2, height: 8, width: 8)
        func reconstruct() -> (Tensor, Tensor, Tensor) {
            var rng = Philox(seed: 21)
            let (mean, logvar) = model.encode(x)
            return (model.decode(model.sample(mean: mean, logvar: logvar, rng: &rng)), mean, logvar)
        }
        // Offsets o[n, c, y, x] = 0.1 + 0.06 x + 0.12 y + 0.02 c: differences 0.06 along x, 0.12 along y.
        let base = withoutGradients { reconstruct().0 }.toArray()
        let target = Tensor(shape: x.shape, data: base.enumerated().map { i, v in
            let xx = i % 8, yy = (i / 8) % 8, c = (i / 64) % 3
            return v + 0.1 + 0.06 * Float(xx) + 0.12 * Float(yy) + 0.02 * Float(c)
        })
        func objective() -> Tensor {
            let (reconstruction, mean, logvar) = reconstruct()
            return AutoencoderLoss.objective(reconstruction: reconstruction, target: target, mean: mean, logvar: logvar,
                                             gradientWeight: 1, klWeight: 0.05).loss
        }
        model.zeroGrad()
        objective().backward()
        let named = Dictionary(uniqueKeysWithValues: model.namedParameters())
        let probes: [(String, Int)] = [
            ("encoder.convIn.weight", 5), ("encoder.down.0.resBlocks.0.norm1.weight", 1), ("encoder.down.0.downsample.weight", 7),
            ("encoder.down.1.resBlocks.0.skip.weight", 3), ("encoder.normOut.weight", 3), ("encoder.convOut.bias", 0),
            ("encoder.convOut.bias", 5), ("decoder.convIn.weight", 2), ("decoder.up.1.upsample.weight", 4),
            ("decoder.up.0.resBlocks.0.norm2.bias", 0), ("decoder.up.0.resBlocks.0.skip.weight", 6), ("decoder.convOut.bias", 1),
        ]
        let h: Float = 1e-2
        var largest = 0.0
        for (name, i) in probes {
            let p = try XCTUnwrap(named[name], name)
            let analytic = Double(try XCTUnwrap(p.grad, name).toArray()[i])
            let old = p.value.toArray()[i]
            func loss(at v: Float) -> Double {
                p.value.withUnsafeMutableBufferPointer { $0[i] = v }
                return Double(withoutGradients { objective() }.item)
            }
            let numeric = (loss(at: old + h) - loss(at: old - h)) / (2 * Double(h))
            p.value.withUnsafeMutableBufferPointer { $0[i] = old }
            largest = max(largest, abs(numeric))
            XCTAssertLessThanOrEqual(abs(analytic - numeric), 5e-5 + 1e-2 * abs(numeric), "\(name)[\(i)]: analytic \(analytic), numeric \(numeric)")
        }
        XCTAssertGreaterThan(largest, 1e-3, "the probed gradients are not all negligible")
    }

    // MARK: - Training

    func testTrainingStepsLowerTheLossOnATinyBatch() throws {
        var rng = Philox(seed: 8)
        let model = try VideoAutoencoder(config: .tiny, rng: &rng)
        var config = AutoencoderTrainingConfig()
        config.batchSize = 4
        config.crop = 16
        config.learningRate = 3e-3
        config.warmupSteps = 0
        config.totalSteps = 40
        let trainer = try AutoencoderTrainer(model: model, config: config)
        let x = Self.frames(4, height: 16, width: 16)
        func reconstructionError() -> Float { withoutGradients { l1Loss(model.decode(model.latents(x)), x) }.item }
        let before = reconstructionError()
        var losses = [Float]()
        for _ in 0..<40 { losses.append(try trainer.trainStep(x).total) }
        let after = reconstructionError()
        XCTAssertEqual(trainer.step, 40)
        XCTAssertLessThan(after, 0.5 * before, "L1 of the deterministic reconstruction: \(before) -> \(after)")
        XCTAssertLessThan(losses.suffix(5).reduce(0, +) / 5, 0.6 * losses[0], "objective: \(losses)")
        XCTAssertThrowsError(try trainer.trainStep(Self.frames(1, height: 6, width: 8))) { error in
            XCTAssertTrue(error.localizedDescription.contains("not multiples of 4"), error.localizedDescription)
        }
    }

    func testResumeContinuesBitForBit() throws {
        let shape = (frames: 3, height: 16, width: 12)
        let clips = Self.clips(count: 3, frames: shape.frames, height: shape.height, width: shape.width)
        var config = AutoencoderTrainingConfig()
        config.batchSize = 2
        config.crop = 8
        config.learningRate = 1e-3
        config.warmupSteps = 2
        config.totalSteps = 6
        config.seed = 11
        func fresh() throws -> AutoencoderTrainer {
            var rng = Philox(seed: 4)
            return try AutoencoderTrainer(model: try VideoAutoencoder(config: .tiny, rng: &rng), config: config)
        }
        let load: (Int) -> [Float] = { clips[$0] }
        // Straight through.
        let straight = try fresh()
        XCTAssertTrue(try straight.train(clipCount: 3, clipShape: shape, loadClip: load))
        // Cancelled after 3 steps (writes a checkpoint), resumed, finished.
        let url = dir.appendingPathComponent("run.ckpt.safetensors")
        let first = try fresh()
        var seen = [Int]()
        XCTAssertFalse(try first.train(clipCount: 3, clipShape: shape, loadClip: load, checkpoint: url, progress: { seen.append($0.step); return $0.step < 3 }))
        XCTAssertEqual(seen, [1, 2, 3])
        let resumed = try AutoencoderTrainer.resume(from: url)
        XCTAssertEqual(resumed.step, 3)
        XCTAssertEqual(resumed.config, config)
        XCTAssertEqual(resumed.rng, first.rng)
        XCTAssertTrue(try resumed.train(clipCount: 3, clipShape: shape, loadClip: load))
        XCTAssertEqual(resumed.step, 6)
        for ((name, a), (_, b)) in zip(straight.model.namedParameters(), resumed.model.namedParameters()) {
            XCTAssertEqual(a.value.toArray(), b.value.toArray(), "parameter \(name) differs after resuming")
        }
        for (a, b) in zip(straight.ema.shadow, resumed.ema.shadow) { XCTAssertEqual(a.toArray(), b.toArray(), "EMA differs") }
        for (key, t) in straight.optimizer.state() { XCTAssertEqual(t.toArray(), resumed.optimizer.state()[key]?.toArray(), "adam.\(key) differs") }
        XCTAssertEqual(straight.rng, resumed.rng)
        // The parameters did move.
        let initial = try fresh()
        XCTAssertNotEqual(initial.model.namedParameters()[0].1.value.toArray(), straight.model.namedParameters()[0].1.value.toArray())

        // Measuring the scale leaves the training stream alone and gives the same factor twice.
        let position = resumed.rng
        let scale = try resumed.measureScaleFactor(frames: 5, clipCount: 3, clipShape: shape, loadClip: load)
        XCTAssertEqual(try resumed.measureScaleFactor(frames: 5, clipCount: 3, clipShape: shape, loadClip: load), scale)
        XCTAssertEqual(resumed.rng, position)
        XCTAssertTrue(scale.isFinite && scale > 0)
        // The exported file holds the EMA weights and the scale; the model keeps its raw weights.
        let exported = dir.appendingPathComponent("ae.safetensors")
        let raw = resumed.model.namedParameters()[0].1.value.toArray()
        try resumed.exportModel(to: exported, scaleFactor: scale)
        XCTAssertEqual(resumed.model.namedParameters()[0].1.value.toArray(), raw)
        XCTAssertEqual(resumed.model.scaleFactor, 1)
        let (model, metadata) = try VideoAutoencoder.load(from: exported)
        XCTAssertEqual(metadata["t2v.step"], "6")
        XCTAssertEqual(metadata["t2v.weights"], "ema")
        XCTAssertEqual(model.scaleFactor, scale)
        XCTAssertEqual(model.namedParameters()[0].1.value.toArray(), resumed.ema.shadow[0].toArray())

        // Extending the run recomputes the schedule; the exported model is not a checkpoint.
        let extended = try AutoencoderTrainer.resume(from: url, extendingTo: 10)
        XCTAssertEqual(extended.config.totalSteps, 10)
        XCTAssertThrowsError(try AutoencoderTrainer.resume(from: exported)) { error in
            XCTAssertTrue(error.localizedDescription.contains("missing autoencoder training metadata"), error.localizedDescription)
        }
        // Crops that do not fit.
        XCTAssertThrowsError(try fresh().train(clipCount: 3, clipShape: (3, 4, 12), loadClip: load)) { error in
            XCTAssertTrue(error.localizedDescription.contains("crop 8 is larger than the 12x4 frames; use a crop of at most 4"), error.localizedDescription)
        }
        var odd = config
        odd.crop = 6
        var init0 = Philox(seed: 0)
        XCTAssertThrowsError(try AutoencoderTrainer(model: try VideoAutoencoder(config: .tiny, rng: &init0), config: odd)) { error in
            XCTAssertTrue(error.localizedDescription.contains("multiple of the autoencoder's downsampling factor 4"), error.localizedDescription)
        }
    }

    // MARK: - Files

    func testSaveLoadRoundTrip() throws {
        let model = try Self.perturbedModel()
        model.scaleFactor = 0.4321
        let url = dir.appendingPathComponent("ae.safetensors")
        try model.save(to: url, metadata: ["t2v.step": "12"])
        let (loaded, metadata) = try VideoAutoencoder.load(from: url)
        XCTAssertEqual(loaded.config, model.config)
        XCTAssertEqual(loaded.scaleFactor, 0.4321)
        XCTAssertEqual(metadata["t2v.step"], "12")
        XCTAssertEqual(metadata[VideoAutoencoder.scaleKey], "0.4321")
        XCTAssertEqual(metadata[AutoencoderConfig.metadataKey], String(decoding: try JSONEncoder.sorted.encode(model.config), as: UTF8.self))
        for ((name, a), (_, b)) in zip(model.namedParameters(), loaded.namedParameters()) {
            XCTAssertEqual(a.value.toArray(), b.value.toArray(), name)
        }
        let x = Self.frames(2, height: 8, width: 12)
        XCTAssertEqual(withoutGradients { loaded.decode(loaded.latents(x)) }.toArray(), withoutGradients { model.decode(model.latents(x)) }.toArray())
        // Every tensor is float32, named as the property path.
        let file = try SafeTensors(contentsOf: url)
        XCTAssertTrue(file.tensors.allSatisfy { $0.dtype == .f32 })
        XCTAssertEqual(Set(file.names), Set(model.namedParameters().map(\.0)))
        XCTAssertTrue(file.names.contains("encoder.down.0.resBlocks.0.conv1.weight") && file.names.contains("decoder.up.1.upsample.weight"))
        // Saving again gives the same bytes.
        let again = dir.appendingPathComponent("again.safetensors")
        try loaded.save(to: again, metadata: ["t2v.step": "12"])
        XCTAssertEqual(try Data(contentsOf: again), try Data(contentsOf: url))
    }

    func testLoadingFilesThatAreNotAutoencodersGivesClearErrors() throws {
        func loadError(_ url: URL) -> String {
            do { _ = try VideoAutoencoder.load(from: url); return "loaded" } catch { return error.localizedDescription }
        }
        // A denoiser checkpoint.
        var rng = Philox(seed: 1)
        let denoiser = try VideoDenoiser(config: .tiny, rng: &rng)
        let denoiserURL = dir.appendingPathComponent("denoiser.safetensors")
        try denoiser.save(to: denoiserURL)
        var m = loadError(denoiserURL)
        XCTAssertTrue(m.contains(denoiserURL.path) && m.contains("denoiser checkpoint") && m.contains("train-autoencoder"), m)

        // A truncated file.
        let model = try Self.perturbedModel()
        let good = dir.appendingPathComponent("ae.safetensors")
        try model.save(to: good)
        let bytes = try Data(contentsOf: good)
        let truncated = dir.appendingPathComponent("truncated.safetensors")
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        m = loadError(truncated)
        XCTAssertTrue(m.contains(truncated.path) && m.contains("train-autoencoder"), m)
        let text = dir.appendingPathComponent("notes.safetensors")
        try Data("not a model".utf8).write(to: text)
        XCTAssertTrue(loadError(text).contains(text.path), loadError(text))

        // Misshaped, missing and extra tensors; missing or bad metadata.
        let named = model.namedParameters()
        func write(_ name: String, metadata: [String: String]? = nil, _ change: (inout [SafeTensors.Entry]) -> Void) throws -> URL {
            var entries = named.map { SafeTensors.Entry(name: $0.0, shape: $0.1.shape, floats: $0.1.value.toArray()) }
            change(&entries)
            let url = dir.appendingPathComponent(name)
            try SafeTensors.write(entries, metadata: try metadata ?? model.fileMetadata(), to: url)
            return url
        }
        m = loadError(try write("misshaped.safetensors") { e in
            let i = e.firstIndex { $0.name == "decoder.convOut.weight" }!
            e[i] = .init(name: "decoder.convOut.weight", shape: [3, 8, 1, 1], floats: [Float](repeating: 0, count: 24))
        })
        XCTAssertTrue(m.contains("misshaped.safetensors") && m.contains("decoder.convOut.weight") && m.contains("[3, 8, 1, 1]")
                      && m.contains("[3, 8, 3, 3]"), m)
        m = loadError(try write("missing.safetensors") { e in e.removeAll { $0.name == "encoder.convIn.bias" } })
        XCTAssertTrue(m.contains("missing.safetensors") && m.contains("no tensor 'encoder.convIn.bias'"), m)
        m = loadError(try write("extra.safetensors") { e in e.append(.init(name: "extra.weight", shape: [1], floats: [0])) })
        XCTAssertTrue(m.contains("extra.safetensors") && m.contains("extra.weight"), m)
        var meta = try model.fileMetadata()
        meta[VideoAutoencoder.scaleKey] = nil
        m = loadError(try write("noscale.safetensors", metadata: meta) { _ in })
        XCTAssertTrue(m.contains("noscale.safetensors") && m.contains("no 't2v.latent_scale'"), m)
        meta[VideoAutoencoder.scaleKey] = "-1"
        XCTAssertTrue(loadError(try write("badscale.safetensors", metadata: meta) { _ in }).contains("not a positive number"))
        meta[VideoAutoencoder.scaleKey] = "1"
        meta[AutoencoderConfig.metadataKey] = #"{"latentChannels":5}"#
        m = loadError(try write("badconfig.safetensors", metadata: meta) { _ in })
        XCTAssertTrue(m.contains("unusable") && m.contains("latentChannels is 5"), m)
        meta[AutoencoderConfig.metadataKey] = nil
        m = loadError(try write("nometadata.safetensors", metadata: meta) { _ in })
        XCTAssertTrue(m.contains("not a t2v-render autoencoder"), m)

        // A training checkpoint.
        var config = AutoencoderTrainingConfig()
        config.crop = 8
        let trainer = try AutoencoderTrainer(model: model, config: config)
        let checkpoint = dir.appendingPathComponent("run.ckpt.safetensors")
        try trainer.saveCheckpoint(to: checkpoint)
        m = loadError(checkpoint)
        XCTAssertTrue(m.contains(checkpoint.path) && m.contains("training checkpoint"), m)
    }

    // MARK: - Scale factor and latent datasets

    func testMeasuredScaleFactorGivesUnitVarianceLatents() throws {
        let model = try Self.perturbedModel()
        let batches = [Self.frames(3, height: 8, width: 8, seed: 1), Self.frames(2, height: 12, width: 8, seed: 2)]
        let means = batches.flatMap { b in withoutGradients { model.encode(b).mean }.toArray().map(Double.init) }
        let mu = means.reduce(0, +) / Double(means.count)
        let std = (means.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(means.count - 1)).squareRoot()
        let scale = model.measureScaleFactor(batches)
        XCTAssertEqual(Double(scale), 1 / std, accuracy: 1e-5 / std)
        XCTAssertNotEqual(scale, 1, accuracy: 1e-3, "the perturbed model's means are not already unit-variance")
        model.scaleFactor = scale
        let scaled = batches.flatMap { b in withoutGradients { model.latents(b) }.toArray().map(Double.init) }
        let m2 = scaled.reduce(0, +) / Double(scaled.count)
        let s2 = (scaled.map { ($0 - m2) * ($0 - m2) }.reduce(0, +) / Double(scaled.count - 1)).squareRoot()
        XCTAssertEqual(s2, 1, accuracy: 1e-4)
        XCTAssertEqual(model.measureScaleFactor([Tensor]()), 1)
    }

    func testLatentDatasetWriterWritesShardsAndManifest() throws {
        let model = try Self.perturbedModel()
        model.scaleFactor = 0.7
        let clips = Self.clips(count: 3, frames: 2, height: 8, width: 12)
        let out = dir.appendingPathComponent("latents")
        let writer = try LatentDatasetWriter(directory: out, autoencoder: model, autoencoderSHA256: "abc123", frames: 2, height: 8, width: 12)
        XCTAssertEqual(writer.latentShape, [2, 4, 2, 3])
        var reported = [Int]()
        XCTAssertTrue(try writer.writeShard(named: "shard-00000.safetensors", count: 3, loadClip: { clips[$0] }, progress: { reported.append($0); return true }))
        XCTAssertEqual(reported, [1, 2, 3])
        let file = try SafeTensors(contentsOf: out.appendingPathComponent("shard-00000.safetensors"))
        XCTAssertEqual(file.names, ["latents"])
        XCTAssertEqual(try file.info("latents").shape, [3, 2, 4, 2, 3])
        XCTAssertEqual(try file.info("latents").dtype, .f32)
        XCTAssertEqual(file.metadata[LatentDatasetWriter.sha256Key], "abc123")
        XCTAssertEqual(file.metadata[VideoAutoencoder.scaleKey], "0.7")
        XCTAssertEqual(file.metadata[AutoencoderConfig.metadataKey], String(decoding: try JSONEncoder.sorted.encode(model.config), as: UTF8.self))
        let stored = try file.floats("latents")
        let expected = try clips.flatMap { try model.latents(ofClip: $0, frames: 2, height: 8, width: 12) }
        XCTAssertEqual(stored, expected)
        let direct = withoutGradients { model.encode(Tensor(shape: [2, 3, 8, 12], data: clips[1])).mean }.toArray().map { $0 * 0.7 }
        assertClose(Array(stored[48..<96]), direct, rtol: 1e-5, atol: 1e-6, "row 1 is clip 1's posterior mean x scale")

        // Cancelled: no shard, no temporary file.
        XCTAssertFalse(try writer.writeShard(named: "shard-00001.safetensors", count: 3, loadClip: { clips[$0] }, progress: { $0 < 2 }))
        try writer.writeManifest(lines: [#"{"a":1}"#, #"{"b":2}"#])
        XCTAssertEqual(try String(contentsOf: out.appendingPathComponent("manifest.jsonl"), encoding: .utf8), "{\"a\":1}\n{\"b\":2}\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.path).sorted(), ["manifest.jsonl", "shard-00000.safetensors"])

        XCTAssertThrowsError(try LatentDatasetWriter(directory: out, autoencoder: model, autoencoderSHA256: "", frames: 2, height: 10, width: 12)) { error in
            XCTAssertTrue(error.localizedDescription.contains("multiples of 4"), error.localizedDescription)
        }
        XCTAssertThrowsError(try writer.writeShard(named: "../escape.safetensors", count: 1, loadClip: { clips[$0] })) { error in
            XCTAssertTrue(error.localizedDescription.contains("not a file name"), error.localizedDescription)
        }
    }
}

private extension JSONEncoder {
    /// The encoder of file metadata: keys sorted.
    static var sorted: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        return e
    }
}
