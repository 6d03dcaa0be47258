import FrameIO
@testable import Scenes
import XCTest

/// Frame statistics the scene tests measure signatures with.
enum ClipStats {
    /// A frame as `width * height * 3` floats in 0...1, interleaved RGB.
    static func rgb(_ frame: RGBFrame) -> [Float] {
        frame.packedRGB.map { Float($0) / 255 }
    }

    /// Rec. 601 luma of each pixel, 0...1.
    static func luma(_ frame: RGBFrame) -> [Float] {
        let p = frame.packedRGB
        return (0..<(frame.width * frame.height)).map {
            (0.299 * Float(p[3 * $0]) + 0.587 * Float(p[3 * $0 + 1]) + 0.114 * Float(p[3 * $0 + 2])) / 255
        }
    }

    /// Mean R, G, B over rows `rows` (all columns).
    static func meanColor(_ frame: RGBFrame, rows: Range<Int>) -> SIMD3<Float> {
        let p = rgb(frame)
        var sum = SIMD3<Float>(repeating: 0)
        for y in rows {
            for x in 0..<frame.width {
                let i = (y * frame.width + x) * 3
                sum += SIMD3(p[i], p[i + 1], p[i + 2])
            }
        }
        return sum / Float(rows.count * frame.width)
    }

    /// Mean luma of a frame.
    static func meanLuma(_ frame: RGBFrame) -> Float {
        let l = luma(frame)
        return l.reduce(0, +) / Float(l.count)
    }

    /// The per-pixel temporal median of a clip's luma: the static background.
    static func background(_ lumas: [[Float]]) -> [Float] {
        (0..<lumas[0].count).map { i in
            let v = lumas.map { $0[i] }.sorted()
            return v[v.count / 2]
        }
    }

    /// What moves: each frame's luma minus the clip's temporal median.
    static func residuals(_ clip: SceneClip) -> [[Float]] {
        let lumas = clip.frames.map(luma)
        let bg = background(lumas)
        return lumas.map { zip($0, bg).map { $0 - $1 } }
    }

    /// The shift `(dx, dy)` (pixels, within `radius`) that best maps `a` onto `b`: the maximum of
    /// the mean product `a(x, y) * b(x + dx, y + dy)` over the overlap.
    static func bestShift(_ a: [Float], _ b: [Float], size n: Int, radius: Int) -> SIMD2<Int> {
        var best = -Float.infinity, arg = SIMD2<Int>(0, 0)
        for dy in -radius...radius {
            for dx in -radius...radius {
                var sum: Float = 0
                var count = 0
                for y in max(0, -dy)..<min(n, n - dy) {
                    let rowA = y * n, rowB = (y + dy) * n + dx
                    for x in max(0, -dx)..<min(n, n - dx) {
                        sum += a[rowA + x] * b[rowB + x]
                    }
                    count += min(n, n - dx) - max(0, -dx)
                }
                let score = sum / Float(max(count, 1))
                if score > best { best = score; arg = SIMD2(dx, dy) }
            }
        }
        return arg
    }

    /// The clip's dominant motion in pixels per `lag` frames: the median over frame pairs
    /// `(t, t + lag)` of the best shift between their residuals.
    static func motion(_ clip: SceneClip, lag: Int = 2, radius: Int = 8) -> SIMD2<Float> {
        let r = residuals(clip)
        let n = clip.frames[0].width
        var dxs: [Int] = [], dys: [Int] = []
        for t in 0..<(r.count - lag) {
            let s = bestShift(r[t], r[t + lag], size: n, radius: radius)
            dxs.append(s.x)
            dys.append(s.y)
        }
        dxs.sort()
        dys.sort()
        return SIMD2(Float(dxs[dxs.count / 2]), Float(dys[dys.count / 2]))
    }

    /// Per-clip colour and motion statistics for the nearest-centroid classifier: mean RGB of
    /// the top, middle and bottom thirds; spatial luma spread; mean saturation; share of bright
    /// pixels; mean absolute frame-to-frame change; spread of the frame mean over time (flashes);
    /// the brightness trend first-to-last; mean R, G, B of the moving pixels.
    static func features(_ clip: SceneClip) -> [Float] {
        let n = clip.frames[0].width
        var f: [Float] = []
        let thirds = [0..<(n / 3), (n / 3)..<(2 * n / 3), (2 * n / 3)..<n]
        for rows in thirds {
            var sum = SIMD3<Float>(repeating: 0)
            for frame in clip.frames { sum += meanColor(frame, rows: rows) }
            sum /= Float(clip.frames.count)
            f += [sum.x, sum.y, sum.z]
        }
        let lumas = clip.frames.map(luma)
        let means = lumas.map { $0.reduce(0, +) / Float($0.count) }
        let m = means.reduce(0, +) / Float(means.count)
        var spread: Float = 0, sat: Float = 0, bright: Float = 0
        for (frame, l) in zip(clip.frames, lumas) {
            let mean = l.reduce(0, +) / Float(l.count)
            spread += (l.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(l.count)).squareRoot()
            let p = rgb(frame)
            for i in 0..<(n * n) {
                let mx = max(p[3 * i], p[3 * i + 1], p[3 * i + 2]), mn = min(p[3 * i], p[3 * i + 1], p[3 * i + 2])
                sat += mx - mn
                if l[i] > 0.7 { bright += 1 }
            }
        }
        let frames = Float(clip.frames.count)
        f += [spread / frames, sat / (frames * Float(n * n)), bright / (frames * Float(n * n))]
        var change: Float = 0
        for t in 1..<lumas.count {
            change += zip(lumas[t], lumas[t - 1]).map { abs($0 - $1) }.reduce(0, +) / Float(n * n)
        }
        f.append(change / Float(lumas.count - 1))
        f.append((means.map { ($0 - m) * ($0 - m) }.reduce(0, +) / frames).squareRoot())
        f.append(means[means.count - 1] - means[0])
        // The colour of what moves (weighted by absolute residual).
        let res = residuals(clip)
        var moving = SIMD3<Float>(repeating: 0), weight: Float = 1e-6
        for (frame, r) in zip(clip.frames, res) {
            let p = rgb(frame)
            for i in 0..<(n * n) where abs(r[i]) > 0.05 {
                moving += SIMD3(p[3 * i], p[3 * i + 1], p[3 * i + 2]) * abs(r[i])
                weight += abs(r[i])
            }
        }
        moving /= weight
        f += [moving.x, moving.y, moving.z]
        return f
    }
}

/// Numeric asserts with stated tolerances.
func assertClose(_ actual: Float, _ expected: Float, rtol: Float = 0, atol: Float, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    let tol = atol + rtol * abs(expected)
    XCTAssertLessThanOrEqual(abs(actual - expected), tol, "\(message): \(actual) vs \(expected) (rtol \(rtol), atol \(atol))",
                             file: file, line: line)
}
