import FrameIO
@testable import Scenes
import XCTest

/// Each family's visual signature, measured on rendered frames (64x64, 16 frames, several
/// training seeds per family).
final class SceneSignatureTests: XCTestCase {
    let size = 64, frames = 16
    let seeds: [UInt64] = [0, 1, 2, 3, 4]

    private func clips(_ family: SceneFamily) -> [SceneClip] {
        seeds.map { Scenes.render(family: family, seed: $0, size: size, frames: frames) }
    }

    /// Centroid `(x, y)` of the pixels where `select(r, g, b, luma)` holds, or nil when none do.
    private func centroid(_ frame: RGBFrame, rows: Range<Int>? = nil, _ select: (Float, Float, Float, Float) -> Bool) -> SIMD2<Float>? {
        let p = ClipStats.rgb(frame)
        var sum = SIMD2<Float>(0, 0), count: Float = 0
        for y in rows ?? 0..<frame.height {
            for x in 0..<frame.width {
                let i = (y * frame.width + x) * 3
                let r = p[i], g = p[i + 1], b = p[i + 2]
                if select(r, g, b, 0.299 * r + 0.587 * g + 0.114 * b) {
                    sum += SIMD2(Float(x), Float(y))
                    count += 1
                }
            }
        }
        return count > 0 ? sum / count : nil
    }

    func testNightScenesAreDark() {
        for family in [SceneFamily.city, .fireworks, .stars, .campfire, .car, .aurora] {
            for clip in clips(family) {
                let mean = clip.frames.map(ClipStats.meanLuma).reduce(0, +) / Float(frames)
                XCTAssertLessThan(mean, 0.2, "\(family.id) seed \(clip.seed): mean luma \(mean)")
            }
        }
        for family in [SceneFamily.clouds, .ball, .leaves] {
            for clip in clips(family) {
                XCTAssertGreaterThan(ClipStats.meanLuma(clip.frames[0]), 0.4, "\(family.id) seed \(clip.seed) is a daylight scene")
            }
        }
    }

    func testSunsetIsWarmAboveAndTheSunSinks() {
        for clip in clips(.sunset) {
            let upper = ClipStats.meanColor(clip.frames[0], rows: 0..<(size / 2))
            XCTAssertGreaterThan(upper.x, upper.z + 0.15, "seed \(clip.seed): upper half should be warm (R > B), got \(upper)")
            XCTAssertGreaterThan(upper.x, upper.y, "seed \(clip.seed): upper half R > G, got \(upper)")
            // The sun: the brightest pixels in the sky (the horizon is below 50 %).
            let sky = 0..<(size / 2)
            let first = try! XCTUnwrap(centroid(clip.frames[0], rows: sky) { _, _, _, l in l > 0.85 })
            let last = try! XCTUnwrap(centroid(clip.frames[frames - 1], rows: sky) { _, _, _, l in l > 0.85 })
            XCTAssertGreaterThan(last.y - first.y, 0.5, "seed \(clip.seed): the sun should move down (\(first) -> \(last))")
        }
    }

    func testSunriseBrightensAndTheSunRises() {
        for clip in clips(.sunrise) {
            let first = ClipStats.meanLuma(clip.frames[0]), last = ClipStats.meanLuma(clip.frames[frames - 1])
            XCTAssertGreaterThan(last, first + 0.05, "seed \(clip.seed): the sky should brighten (\(first) -> \(last))")
            let a = try! XCTUnwrap(centroid(clip.frames[4]) { r, _, b, l in l > 0.8 && r > b })
            let b = try! XCTUnwrap(centroid(clip.frames[frames - 1]) { r, _, b, l in l > 0.8 && r > b })
            XCTAssertLessThan(b.y, a.y - 1, "seed \(clip.seed): the sun should rise (\(a) -> \(b))")
        }
    }

    func testSnowFallsDown() {
        for clip in clips(.snow) {
            let m = ClipStats.motion(clip)
            XCTAssertGreaterThan(m.y, 0, "seed \(clip.seed): snow should move down, motion \(m)")
            XCTAssertGreaterThan(m.y, abs(m.x), "seed \(clip.seed): mostly vertical, motion \(m)")
        }
    }

    func testLeavesFallDownAndAreWarm() {
        for clip in clips(.leaves) {
            let m = ClipStats.motion(clip)
            XCTAssertGreaterThan(m.y, 0, "seed \(clip.seed): leaves should move down, motion \(m)")
            let f = ClipStats.features(clip)
            // Moving pixels' colour (last three features): orange/red, R well above B.
            XCTAssertGreaterThan(f[f.count - 3], f[f.count - 1] + 0.2, "seed \(clip.seed): moving pixels should be warm")
        }
    }

    func testBubblesRise() {
        for clip in clips(.underwater) {
            let m = ClipStats.motion(clip)
            XCTAssertLessThan(m.y, 0, "seed \(clip.seed): bubbles should move up, motion \(m)")
            let c = ClipStats.meanColor(clip.frames[0], rows: 0..<size)
            XCTAssertGreaterThan(c.z, c.x + 0.1, "seed \(clip.seed): water is blue-green, got \(c)")
            XCTAssertGreaterThan(c.y, c.x + 0.1, "seed \(clip.seed): water is blue-green, got \(c)")
        }
    }

    func testBallHasTheCaptionColourAndMoves() {
        for seed in UInt64(0)..<12 {
            let clip = Scenes.render(family: .ball, seed: seed, size: size, frames: frames)
            let colour = try! XCTUnwrap(clip.attributes.ballColor)
            XCTAssertTrue(clip.caption.contains(colour.rawValue))
            var positions: [SIMD2<Float>] = []
            for frame in clip.frames {
                // The ball region: strongly saturated pixels (the background is near grey).
                let p = ClipStats.rgb(frame)
                var sum = SIMD3<Float>(repeating: 0), pos = SIMD2<Float>(0, 0), n: Float = 0
                for i in 0..<(size * size) {
                    let c = SIMD3(p[3 * i], p[3 * i + 1], p[3 * i + 2])
                    if c.max() - c.min() > 0.4 {
                        sum += c
                        pos += SIMD2(Float(i % size), Float(i / size))
                        n += 1
                    }
                }
                XCTAssertGreaterThan(n, 20, "seed \(seed): ball region too small")
                let mean = sum / max(n, 1)
                let nearest = BallColor.allCases.min {
                    let a = $0.color, b = $1.color
                    let da = SIMD3(a.r, a.g, a.b) - mean, db = SIMD3(b.r, b.g, b.b) - mean
                    return (da * da).sum() < (db * db).sum()
                }
                XCTAssertEqual(nearest, colour, "seed \(seed): ball colour \(mean) vs caption '\(clip.caption)'")
                positions.append(pos / max(n, 1))
            }
            var travelled: Float = 0
            for t in 1..<positions.count {
                let d = positions[t] - positions[t - 1]
                travelled += (d * d).sum().squareRoot()
            }
            XCTAssertGreaterThan(travelled, Float(size) * 0.5, "seed \(seed): the ball should move (path \(travelled) px)")
        }
    }

    func testCloudsMoveInTheCaptionedDirection() {
        for seed in UInt64(0)..<8 {
            let clip = Scenes.render(family: .clouds, seed: seed, size: size, frames: frames)
            let direction = try! XCTUnwrap(clip.attributes.direction)
            let m = ClipStats.motion(clip)
            XCTAssertEqual(m.x * direction.sign > 0, true, "seed \(seed): caption '\(clip.caption)', motion \(m)")
        }
    }

    func testCarHeadlightsMoveInTheCaptionedDirection() {
        for seed in UInt64(0)..<8 {
            let clip = Scenes.render(family: .car, seed: seed, size: size, frames: frames)
            let direction = try! XCTUnwrap(clip.attributes.direction)
            // The headlight: the brightest moving pixel (residual against the static background).
            let residuals = ClipStats.residuals(clip)
            let xs: [Float] = residuals.map { r in Float(r.indices.max { r[$0] < r[$1] }! % size) }
            // Least-squares slope of x over time.
            let n = Float(xs.count), tm = (n - 1) / 2, xm = xs.reduce(0, +) / n
            var num: Float = 0, den: Float = 0
            for (t, x) in xs.enumerated() {
                num += (Float(t) - tm) * (x - xm)
                den += (Float(t) - tm) * (Float(t) - tm)
            }
            let slope = num / den
            XCTAssertGreaterThan(slope * direction.sign, 0.5, "seed \(seed): '\(clip.caption)', headlight x per frame \(slope), xs \(xs)")
        }
    }

    func testStormHasALightningFlash() {
        for clip in clips(.storm) {
            let means = clip.frames.map(ClipStats.meanLuma).sorted()
            let median = means[means.count / 2]
            XCTAssertGreaterThan(means.last! - median, 0.1, "seed \(clip.seed): no flash, frame means \(means)")
            XCTAssertLessThan(median, 0.3, "seed \(clip.seed): a storm is dark between flashes")
        }
    }

    func testAuroraIsGreenAndCampfireIsOrange() {
        for clip in clips(.aurora) {
            let bright = centroidColor(clip) { l in l > 0.25 }
            XCTAssertGreaterThan(bright.y, bright.x + 0.15, "aurora seed \(clip.seed): bright pixels should be green, got \(bright)")
            XCTAssertGreaterThan(bright.y, bright.z, "aurora seed \(clip.seed): got \(bright)")
        }
        for clip in clips(.campfire) {
            let bright = centroidColor(clip) { l in l > 0.35 }
            XCTAssertGreaterThan(bright.x, bright.z + 0.4, "campfire seed \(clip.seed): flames should be orange, got \(bright)")
        }
    }

    func testCityHasNeonAndFireworksAreColourful() {
        for clip in clips(.city) {
            let p = ClipStats.rgb(clip.frames[0])
            var neon = 0
            for i in 0..<(size * size) {
                let r = p[3 * i], g = p[3 * i + 1], b = p[3 * i + 2]
                if (r > 0.5 && b > 0.5 && g < 0.35) || (g > 0.5 && b > 0.5 && r < 0.35) { neon += 1 }
            }
            XCTAssertGreaterThan(neon, 3, "city seed \(clip.seed): no magenta/cyan neon pixels")
        }
        for clip in clips(.fireworks) {
            let bright = clip.frames.suffix(8).map { frame -> Float in
                let p = ClipStats.rgb(frame)
                return Float((0..<(size * size)).filter { i in max(p[3 * i], p[3 * i + 1], p[3 * i + 2]) > 0.5 }.count)
            }
            XCTAssertGreaterThan(bright.max()!, 30, "fireworks seed \(clip.seed): bursts should light up the sky")
        }
    }

    func testShootingStarMoves() {
        for clip in clips(.stars) {
            let residuals = ClipStats.residuals(clip)
            let peaks = residuals.map { $0.max()! }
            XCTAssertGreaterThan(peaks.sorted()[peaks.count / 2], 0.3, "seed \(clip.seed): the meteor should be visible in most frames")
        }
    }

    /// Mean colour over all frames of the pixels whose luma passes `select`.
    private func centroidColor(_ clip: SceneClip, _ select: (Float) -> Bool) -> SIMD3<Float> {
        var sum = SIMD3<Float>(repeating: 0), n: Float = 0
        for frame in clip.frames {
            let p = ClipStats.rgb(frame)
            for i in 0..<(size * size) {
                let c = SIMD3(p[3 * i], p[3 * i + 1], p[3 * i + 2])
                if select(0.299 * c.x + 0.587 * c.y + 0.114 * c.z) {
                    sum += c
                    n += 1
                }
            }
        }
        return sum / max(n, 1)
    }
}
