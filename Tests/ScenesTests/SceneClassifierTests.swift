@testable import Scenes
import XCTest

/// The families are visually distinct even at 32x32: a nearest-centroid classifier over simple
/// per-clip colour/motion statistics (`ClipStats.features`), fitted on training seeds, labels
/// clips from held-out seeds.
final class SceneClassifierTests: XCTestCase {
    func testNearestCentroidSeparatesFamiliesOnHeldOutSeeds() {
        let size = 32, frames = 16
        let trainSeeds = (0..<6).map { SceneSplit.train.seed(UInt64($0)) }
        let testSeeds = (0..<4).map { SceneSplit.heldout.seed(UInt64($0)) }
        var train: [(SceneFamily, [Float])] = []
        for family in SceneFamily.allCases {
            for seed in trainSeeds {
                train.append((family, ClipStats.features(Scenes.render(family: family, seed: seed, size: size, frames: frames))))
            }
        }
        // Standardise each feature by its spread over the training clips.
        let dims = train[0].1.count
        var mean = [Float](repeating: 0, count: dims), scale = [Float](repeating: 0, count: dims)
        for (_, f) in train { for d in 0..<dims { mean[d] += f[d] / Float(train.count) } }
        for (_, f) in train { for d in 0..<dims { scale[d] += (f[d] - mean[d]) * (f[d] - mean[d]) / Float(train.count) } }
        scale = scale.map { max($0.squareRoot(), 1e-4) }
        func z(_ f: [Float]) -> [Float] { (0..<dims).map { (f[$0] - mean[$0]) / scale[$0] } }
        var centroids: [SceneFamily: [Float]] = [:]
        for family in SceneFamily.allCases {
            let rows = train.filter { $0.0 == family }.map { z($0.1) }
            centroids[family] = (0..<dims).map { d in rows.map { $0[d] }.reduce(0, +) / Float(rows.count) }
        }
        var correct = 0, total = 0
        var confusions: [String] = []
        for family in SceneFamily.allCases {
            for seed in testSeeds {
                let f = z(ClipStats.features(Scenes.render(family: family, seed: seed, size: size, frames: frames)))
                let guess = SceneFamily.allCases.min { a, b in
                    zip(centroids[a]!, f).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                        < zip(centroids[b]!, f).map { ($0 - $1) * ($0 - $1) }.reduce(0, +)
                }!
                total += 1
                if guess == family { correct += 1 } else { confusions.append("\(family.id) seed \(seed) -> \(guess.id)") }
            }
        }
        let accuracy = Float(correct) / Float(total)
        XCTAssertGreaterThanOrEqual(accuracy, 0.95, "held-out accuracy \(correct)/\(total); confusions: \(confusions)")
    }
}
