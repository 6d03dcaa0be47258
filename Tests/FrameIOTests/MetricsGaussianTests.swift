import Foundation
import XCTest
@testable import FrameIO

/// GaussianSSIM against scikit-image's `structural_similarity(gaussian_weights=True, sigma=1.5,
/// use_sample_covariance=False, data_range=255)`, run at test time by
/// `Scripts/skimage_ssim.py` (python3 with scikit-image, installed by scripts/setup.sh).
final class MetricsGaussianTests: XCTestCase {
    /// One comparison for the oracle script.
    struct Job: Encodable { var a: String; var b: String; var width: Int; var height: Int; var mode: String }

    /// Runs the scikit-image script on `jobs`; returns its SSIM values.
    private func skimage(_ jobs: [Job]) throws -> [Double] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Scripts/skimage_ssim.py").path
        let result = try TestUtils.run("python3", [script], input: try JSONEncoder().encode(jobs))
        XCTAssertEqual(result.status, 0, result.stderr)
        return try JSONDecoder().decode([Double].self, from: result.stdout)
    }

    private func write(_ bytes: [UInt8], _ dir: URL, _ name: String) throws -> String {
        let url = dir.appendingPathComponent(name)
        try Data(bytes).write(to: url)
        return url.path
    }

    func testLumaPlanesMatchScikitImage() throws {
        let clips = MetricsOracle.Clips.shared
        let dir = try TestUtils.makeTempDir(self)
        var jobs = [Job](), ours = [Double]()
        let cases: [(String, String, Int, Int)] = [
            (clips.x264[30]!, clips.reference, 96, 64), (clips.x264[45]!, clips.reference, 96, 64),
            (clips.oddNoisy, clips.oddReference, 65, 49), (clips.other, clips.reference, 96, 64),
            (clips.negative, clips.reference, 96, 64),
        ]
        for (n, (d, r, w, h)) in cases.enumerated() {
            let a = try MetricsOracle.planes(d, width: w, height: h)
            let b = try MetricsOracle.planes(r, width: w, height: h)
            for f in [0, a.count - 1] {
                for p in 0..<3 {   // Y, and the odd-sized chroma planes too (33x25 for 65x49).
                    let pa = a[f].planes[p], pb = b[f].planes[p]
                    jobs.append(Job(a: try write(pa.data, dir, "a\(n)_\(f)_\(p)"), b: try write(pb.data, dir, "b\(n)_\(f)_\(p)"),
                                    width: pa.width, height: pa.height, mode: "gray"))
                    ours.append(try GaussianSSIM.ssim(pa, pb))
                }
            }
        }
        let expected = try skimage(jobs)
        XCTAssertEqual(expected.count, ours.count)
        for (i, (got, want)) in zip(ours, expected).enumerated() {
            XCTAssertEqual(got, want, accuracy: 1e-9, "job \(i) \(jobs[i].a)")
        }
        // The negative really is dissimilar and the mild re-encode is close.
        XCTAssertLessThan(ours[ours.count - 6], 0.3)
        XCTAssertGreaterThan(ours[0], 0.8)
    }

    func testRGBModesMatchScikitImage() throws {
        let dir = try TestUtils.makeTempDir(self)
        // Deterministic pseudo-random RGB pictures: a smooth pattern plus a noisy copy.
        var state: UInt64 = 0x9E3779B97F4A7C15
        func next() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        let w = 37, h = 23
        var a = [UInt8](), b = [UInt8]()
        for y in 0..<h {
            for x in 0..<w {
                for c in 0..<3 {
                    let v = UInt8((x * 7 + y * 11 + c * 50) % 256)
                    a.append(v)
                    b.append(UInt8(clamping: Int(v) + Int(next() % 41) - 20))
                }
            }
        }
        let fa = try RGBFrame(width: w, height: h, packed: a), fb = try RGBFrame(width: w, height: h, packed: b)
        let pa = try write(a, dir, "a.rgb"), pb = try write(b, dir, "b.rgb")
        let modes: [GaussianSSIM.Channels] = [.rgbMean, .luma601, .luma709]
        let expected = try skimage(modes.map { Job(a: pa, b: pb, width: w, height: h, mode: $0.rawValue) })
        for (mode, want) in zip(modes, expected) {
            XCTAssertEqual(try GaussianSSIM.ssim(fa, fb, channels: mode), want, accuracy: 1e-9, mode.rawValue)
        }
        XCTAssertEqual(try GaussianSSIM.ssim(fa, fa), 1, accuracy: 1e-12)
    }

    func testTooSmallOrMismatchedThrows() throws {
        let small = try Plane(width: 10, height: 20, data: .init(repeating: 0, count: 200))
        XCTAssertThrowsError(try GaussianSSIM.ssim(small, small)) { XCTAssertTrue("\($0)".contains("11x11"), "\($0)") }
        let other = try Plane(width: 20, height: 10, data: .init(repeating: 0, count: 200))
        XCTAssertThrowsError(try GaussianSSIM.ssim(small, other))
    }

    func testWeightsAreSkimageTaps() {
        XCTAssertEqual(GaussianSSIM.weights.count, 11)
        XCTAssertEqual(GaussianSSIM.weights.reduce(0, +), 1, accuracy: 1e-15)
        // scipy.ndimage._filters._gaussian_kernel1d(1.5, 0, 5)[5]
        XCTAssertEqual(GaussianSSIM.weights[5], 0.26601172, accuracy: 1e-8)
    }
}
