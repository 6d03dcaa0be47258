import Foundation
import XCTest
@testable import Generator

/// `TextWhitening` (`DenoiserConfig.textWhitening`): the fitted transform, its eigen-solver, and
/// how it travels with a model that trains.
final class TextWhiteningTests: XCTestCase {
    /// Unit vectors in a `rank`-dimensional subspace of `dim`, with one direction of the
    /// subspace varying far less than the others (as an attribute word does among captions).
    static func captions(count: Int, dim: Int, rank: Int, seed: UInt64) -> [[Float]] {
        var rng = Philox(seed: seed)
        let basis = (0..<rank).map { _ in rng.normal(count: dim) }
        return (0..<count).map { _ in
            let w = rng.normal(count: rank).enumerated().map { $0.offset == 0 ? 0.05 * $0.element : $0.element }
            var v = [Float](repeating: 0, count: dim)
            for (k, b) in basis.enumerated() { for i in 0..<dim { v[i] += w[k] * b[i] } }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / norm }
        }
    }

    /// Against a random symmetric matrix: A·v = λ·v for every pair, the vectors orthonormal.
    func testJacobiEigenDecompositionOfASymmetricMatrix() {
        let n = 12
        var rng = Philox(seed: 5)
        let r = rng.normal(count: n * n).map(Double.init)
        var a = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { a[i * n + j] = r[i * n + j] + r[j * n + i] } }
        let (values, vectors) = SymmetricEigen.decompose(a, size: n)
        for k in 0..<n {
            for i in 0..<n {
                let av = (0..<n).reduce(0.0) { $0 + a[i * n + $1] * vectors[$1 * n + k] }
                XCTAssertEqual(av, values[k] * vectors[i * n + k], accuracy: 1e-9)
            }
            for l in 0..<n {
                let dot = (0..<n).reduce(0.0) { $0 + vectors[$1 * n + k] * vectors[$1 * n + l] }
                XCTAssertEqual(dot, k == l ? 1 : 0, accuracy: 1e-9)
            }
        }
    }

    /// A fresh module is the identity; a fitted one maps the zero (unconditional) embedding to
    /// zero, gives the fitted captions unit mean squared norm, equalises their spread over the
    /// directions they vary in (with eps far below every variance), drops the directions they
    /// do not vary in, and stretches the low-variance direction towards the others.
    func testFittedWhiteningEqualisesTheCaptionsSpread() throws {
        let (dim, rank) = (24, 6)
        let rows = Self.captions(count: 40, dim: dim, rank: rank, seed: 9)
        let whitening = TextWhitening(dim: dim)
        let probe = Tensor(shape: [2, dim], data: rows[0] + rows[1])
        assertClose(whitening(probe).toArray(), probe.toArray(), rtol: 0, atol: 1e-7)

        try whitening.fit(rows + [[Float](repeating: 0, count: dim)], epsilon: 1e-9)
        XCTAssertEqual(whitening(Tensor.zeros([1, dim])).toArray(), [Float](repeating: 0, count: dim))
        let out = whitening(Tensor(shape: [rows.count, dim], data: rows.flatMap { $0 })).toArray()
        let n = rows.count
        let meanSquare = (0..<n).reduce(0.0) { acc, r in acc + (0..<dim).reduce(0.0) { $0 + Double(out[r * dim + $1] * out[r * dim + $1]) } } / Double(n)
        XCTAssertEqual(meanSquare, 1, accuracy: 1e-4)
        // The whitened rows' covariance: `rank` equal eigenvalues (1 / rank each, as the mean
        // square is 1), the rest 0.
        var cov = [Double](repeating: 0, count: dim * dim)
        for r in 0..<n { for i in 0..<dim { for j in 0..<dim { cov[i * dim + j] += Double(out[r * dim + i] * out[r * dim + j]) / Double(n) } } }
        let values = SymmetricEigen.decompose(cov, size: dim).values.sorted(by: >)
        for k in 0..<dim { XCTAssertEqual(values[k], k < rank ? 1 / Double(rank) : 0, accuracy: 2e-3, "eigenvalue \(k)") }

        XCTAssertThrowsError(try whitening.fit([rows[0]], epsilon: 1e-3))
        XCTAssertThrowsError(try whitening.fit([rows[0], [1, 2]], epsilon: 1e-3))
    }

    /// In a model: the configuration's key is written only when set and validated; the
    /// transform's two tensors are fixed parameters (not counted, not updated by a training
    /// step, kept by the weight average) that travel with the checkpoint and the model file, and
    /// they change what the model computes for a prompt.
    func testWhiteningTravelsWithTheModelAndStaysFixedWhileItTrains() throws {
        var config = TrainingTests.small
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(config), as: UTF8.self).contains("textWhitening"))
        var rng = Philox(seed: 4)
        let plain = try VideoDenoiser(config: config, rng: &rng)
        config.textWhitening = 1e-3
        XCTAssertEqual(try JSONDecoder().decode(DenoiserConfig.self, from: JSONEncoder().encode(config)).textWhitening, 1e-3)
        rng = Philox(seed: 4)
        let model = try VideoDenoiser(config: config, rng: &rng)
        XCTAssertEqual(model.parameterCount, plain.parameterCount, "the whitening is not trained")
        let prompts = TrainingTests.prompts() + Self.captions(count: 6, dim: config.textDim, rank: 4, seed: 3)
        try model.textWhitening!.fit(prompts, epsilon: 1e-3)
        let fitted = model.textWhitening!.matrix.value.toArray(), mean = model.textWhitening!.mean.value.toArray()

        let x = randomTensor([1, config.frames, 3, config.resolution, config.resolution], seed: 8, requiresGrad: false)
        let text = Tensor(shape: [1, config.textDim], data: prompts[0])
        let before = withoutGradients { model(x, timesteps: [500], text: text) }.toArray()
        XCTAssertNotEqual(before, withoutGradients { plain(x, timesteps: [500], text: text) }.toArray())

        var tc = TrainingConfig()
        tc.batchSize = 2
        tc.warmupSteps = 0
        tc.totalSteps = 3
        let trainer = try Trainer(model: model, config: tc)
        let clips = TrainingTests.clips()
        for _ in 0..<3 {
            try trainer.trainStep(clips: [TrainingClip(video: clips[0], text: prompts[0]), TrainingClip(video: clips[1], text: prompts[1])])
        }
        XCTAssertEqual(model.textWhitening!.matrix.value.toArray(), fitted)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("whitening-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try trainer.saveCheckpoint(to: dir.appendingPathComponent("run.safetensors"))
        let resumed = try Trainer.resume(from: dir.appendingPathComponent("run.safetensors"))
        XCTAssertEqual(resumed.model.textWhitening!.mean.value.toArray(), mean)
        try trainer.exportModel(to: dir.appendingPathComponent("model.safetensors"))
        let loaded = try VideoDenoiser.load(from: dir.appendingPathComponent("model.safetensors")).model
        XCTAssertEqual(loaded.config.textWhitening, 1e-3)
        XCTAssertEqual(loaded.textWhitening!.matrix.value.toArray(), fitted, "the weight average kept the fixed transform")

        config.textWhitening = 0
        XCTAssertThrowsError(try config.validate())
    }
}
