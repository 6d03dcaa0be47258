import Foundation
import XCTest

/// Clips longer than the model's training length: `render --frames` samples them in overlapping
/// windows, and the joins must not show. Oracle: `t2v-render eval`'s inter-frame SSIM, which is
/// FFmpeg's ssim filter (checked against the ffmpeg CLI in EvalTests).
final class LongClipTests: XCTestCase {
    /// Inter-frame SSIM of each consecutive pair of a 48-frame render (seed `seed`, windows of 16
    /// sharing `overlap` frames), at the model's native 32x32, near-lossless.
    func pairs(seed: Int, overlap: Int, in dir: URL) throws -> [Double] {
        let out = dir.appendingPathComponent("long-\(overlap)-\(seed).mkv").path
        let r = try CLI.run(["--prompt", "snow falling in a forest", "--frames", "48", "--window", "16", "--overlap", String(overlap),
                             "--size", "32x32", "--crf", "0", "--seed", String(seed), "--quiet", "-o", out])
        if r.stderr.contains("text encoder") || r.stderr.contains("all-MiniLM") {
            throw XCTSkip("text encoder files are not installed (run scripts/setup.sh): \(r.stderr)")
        }
        XCTAssertEqual(r.status, 0, r.stderr)
        let e = try CLI.run(["eval", out, "--json", "--metric", "ssim", "--quiet"])
        XCTAssertEqual(e.status, 0, e.stderr)
        let json = try JSONSerialization.jsonObject(with: e.stdout) as! [String: Any]
        return ((json["interFrameSSIM"] as! [String: Any])["ssim"] as! [String: Any])["pairs"] as! [Double]
    }

    /// Pairs (index p joins frames p and p + 1) where a window begins or ends, for the layout
    /// `render` uses (windows spread evenly, 48 frames, window 16).
    static func joins(starts: [Int]) -> Set<Int> {
        Set(starts.dropFirst().map { $0 - 1 } + starts.dropLast().map { $0 + 16 - 1 })
    }

    func testSlidingWindowJoinsAreNoWorseThanTheInsideOfAWindow() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-long-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The shipped model trains on 16 frames. Overlap 8: windows start at 0, 8, 16, 24, 32;
        // overlap 0 (the control: independent windows, hard cuts): 0, 16, 32.
        for (overlap, starts) in [(8, [0, 8, 16, 24, 32]), (0, [0, 16, 32])] {
            let joins = Self.joins(starts: starts)
            var atJoins = [Double](), inside = [Double]()
            for seed in 1...3 {
                let p = try pairs(seed: seed, overlap: overlap, in: dir)
                XCTAssertEqual(p.count, 47)
                guard p.count == 47 else { return }
                atJoins += joins.map { p[$0] }
                inside += p.indices.filter { !joins.contains($0) }.map { p[$0] }
            }
            let meanJoins = atJoins.reduce(0, +) / Double(atJoins.count), meanInside = inside.reduce(0, +) / Double(inside.count)
            if overlap > 0 {
                XCTAssertGreaterThanOrEqual(meanJoins, meanInside - 0.03, "the joins between overlapping windows show")
                XCTAssertGreaterThanOrEqual(atJoins.min()!, inside.min()! - 0.03, "a join is worse than any pair inside a window")
            } else {
                // Without overlap the windows are independent clips: the metric must see the cut,
                // or the assertion above proves nothing.
                XCTAssertLessThan(meanJoins, meanInside - 0.1, "hard cuts between independent windows went unnoticed")
            }
        }
    }

    func testBadWindowOptionsAreUsageErrors() throws {
        for args in [["--window", "0"], ["--window", "8", "--overlap", "8"], ["--overlap", "-1"]] {
            let r = try CLI.run(["--prompt", "a sunset", "-o", "/tmp/never-written.mp4"] + args)
            XCTAssertEqual(r.status, 2, "\(args): \(r.stderr)")
            XCTAssertTrue(r.stderr.contains("--window") || r.stderr.contains("--overlap"), r.stderr)
        }
    }
}
