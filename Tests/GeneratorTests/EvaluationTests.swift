import Foundation
@testable import Generator
import XCTest

/// `FrechetDistance` against closed forms and scipy (fixture from
/// Scripts/make_frechet_fixture.py), and `ClipClassifier` on separable synthetic clips.
final class EvaluationTests: XCTestCase {
    func testIdenticalGaussiansHaveZeroDistance() {
        var rng = Philox(seed: 3)
        let samples = (0..<50).map { _ in rng.normal(count: 6) }
        let g = FrechetDistance.Gaussian(samples: samples)
        XCTAssertEqual(FrechetDistance.distance(g, g), 0, accuracy: 1e-9)
    }

    func testDiagonalGaussiansMatchClosedForm() {
        // d² = |μ₁−μ₂|² + Σ (σ₁ − σ₂)² for diagonal covariances with variances σ².
        let mu1: [Double] = [0, 1, -2], mu2: [Double] = [1, 1, 0.5]
        let var1: [Double] = [1, 4, 0.25], var2: [Double] = [9, 1, 0.25]
        func diag(_ v: [Double]) -> [Double] {
            var m = [Double](repeating: 0, count: 9)
            for i in 0..<3 { m[i * 3 + i] = v[i] }
            return m
        }
        let d = FrechetDistance.distance(.init(mean: mu1, covariance: diag(var1)), .init(mean: mu2, covariance: diag(var2)))
        let expected = zip(mu1, mu2).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
            + zip(var1, var2).map { ($0.squareRoot() - $1.squareRoot()) * ($0.squareRoot() - $1.squareRoot()) }.reduce(0, +)
        XCTAssertEqual(expected, 1 + 6.25 + 4 + 1, accuracy: 1e-12)
        XCTAssertEqual(d, expected, accuracy: 1e-9)
    }

    func testMatchesScipyOnFullCovariances() throws {
        struct Fixture: Decodable { var a: [[Float]]; var b: [[Float]]; var cov_a: [Double]; var distance: Double }
        let data = try Data(contentsOf: TestUtils.fixture("eval/frechet.json"))
        let f = try JSONDecoder().decode(Fixture.self, from: data)
        let ga = FrechetDistance.Gaussian(samples: f.a)
        for (x, y) in zip(ga.covariance, f.cov_a) { XCTAssertEqual(x, y, accuracy: 1e-9 + 1e-9 * abs(y)) }
        // rtol 1e-6 against scipy.linalg.sqrtm's trace.
        XCTAssertEqual(FrechetDistance.distance(f.a, f.b), f.distance, accuracy: 1e-6 * f.distance)
        // Symmetric in its arguments.
        XCTAssertEqual(FrechetDistance.distance(f.b, f.a), f.distance, accuracy: 1e-6 * f.distance)
    }

    /// In one dimension the distance from N(m, 1) samples to N(0, 1) is about m² + (s − 1)², whose
    /// standard error by the delta method is about 2m/√n: the jackknife agrees and shrinks as √n
    /// grows; identical samples give 0.
    func testJackknifeStandardErrorFollowsTheDeltaMethod() {
        var rng = Philox(seed: 11)
        let reference = FrechetDistance.Gaussian(mean: [0], covariance: [1])
        func samples(_ n: Int) -> [[Float]] { rng.normal(count: n).map { [$0 + 1] } }
        let small = samples(400), large = samples(1600)
        let seSmall = FrechetDistance.jackknifeStandardError(small, against: reference)
        let seLarge = FrechetDistance.jackknifeStandardError(large, against: reference)
        XCTAssertEqual(seSmall, 2 / 400.0.squareRoot(), accuracy: 0.3 * 2 / 400.0.squareRoot())
        XCTAssertEqual(seLarge, 2 / 1600.0.squareRoot(), accuracy: 0.3 * 2 / 1600.0.squareRoot())
        XCTAssertEqual(FrechetDistance.jackknifeStandardError([[Float]](repeating: [2], count: 10), against: reference), 0, accuracy: 1e-9)
    }

    /// Three classes a per-frame average cannot tell apart for two of them: a bar moving right,
    /// a bar moving left (same time-averaged picture), and a static bright top half.
    func testClassifierLearnsSeparableSyntheticClips() {
        let config = ClipClassifier.Configuration(classes: 3, frames: 6, resolution: 16, downsample: 1,
                                                  channels1: 8, channels2: 8, hidden: 16)
        var rng = Philox(seed: 11)
        func clip(_ label: Int) -> [Float] {
            let (f, r) = (config.frames, config.resolution)
            var x = rng.normal(count: f * 3 * r * r, std: 0.2).map { $0 - 0.5 }
            let offset = rng.nextInt(below: 4)
            for t in 0..<f {
                for y in 0..<r {
                    for col in 0..<r {
                        let on: Bool
                        switch label {
                        case 0: on = col / 2 == (offset + t) % (r / 2)
                        case 1: on = col / 2 == (offset + f - 1 - t) % (r / 2)
                        default: on = y < r / 2 - offset
                        }
                        if on { for c in 0..<3 { x[((t * 3 + c) * r + y) * r + col] += 1.5 } }
                    }
                }
            }
            return x
        }
        let trainLabels = (0..<60).map { $0 % 3 }, testLabels = (0..<30).map { $0 % 3 }
        let train = trainLabels.map(clip), test = testLabels.map(clip)
        let model = ClipClassifier(config, seed: 5)
        let before = zip(model.predict(test), testLabels).filter { $0 == $1 }.count
        let losses = model.train(clips: train, labels: trainLabels,
                                 options: .init(epochs: 40, batch: 12, learningRate: 1e-2, seed: 1))
        let correct = zip(model.predict(test), testLabels).filter { $0 == $1 }.count
        XCTAssertLessThan(losses.last!, losses.first! * 0.5, "losses \(losses)")
        XCTAssertGreaterThanOrEqual(correct, 28, "held-out accuracy \(correct)/30 (untrained: \(before)/30)")
        XCTAssertEqual(model.features(test).first?.count, 16)
        // Seeded: the same seeds give the same weights.
        let again = ClipClassifier(config, seed: 5)
        again.train(clips: train, labels: trainLabels, options: .init(epochs: 2, batch: 12, learningRate: 1e-2, seed: 1))
        let twice = ClipClassifier(config, seed: 5)
        twice.train(clips: train, labels: trainLabels, options: .init(epochs: 2, batch: 12, learningRate: 1e-2, seed: 1))
        XCTAssertEqual(again.features(test), twice.features(test))
    }
}
