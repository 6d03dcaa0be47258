import Foundation

/// Family 7: a thunderstorm. Dark layered clouds drifting slowly, dense slanted rain, a dark
/// landscape, and one or two lightning strikes: a jagged bolt plus a sky-wide flash that
/// decays over the following frames.
struct StormScene: SceneGenerator {
    struct Drop { var x, y, speed, length: Float }
    struct Puff { var x, y, rx, ry, shade: Float }
    struct Strike { var time: Float; var path: [SIMD2<Float>]; var branch: [SIMD2<Float>] }
    let size, drift, slant: Float
    let skyTop, skyLow, groundColor: SceneColor
    let puffs: [Puff]
    let drops: [Drop]
    let ground: [SIMD2<Float>]
    let strikes: [Strike]
    let grain: Float = 0.015

    init(size s: Float, frames: Float, rng: inout SceneRNG) {
        size = s
        skyTop = jitter(SceneColor(0.1, 0.11, 0.14), 0.02, &rng)
        skyLow = jitter(SceneColor(0.22, 0.23, 0.27), 0.03, &rng)
        groundColor = jitter(SceneColor(0.05, 0.06, 0.06), 0.01, &rng)
        drift = rng.sign() * rng.uniform(0.002, 0.005) * s
        slant = rng.uniform(-0.3, 0.3)
        puffs = (0..<22).map { _ in
            Puff(x: rng.uniform(-0.2, 1.2) * s, y: rng.uniform(-0.05, 0.3) * s, rx: rng.uniform(0.12, 0.25) * s,
                 ry: rng.uniform(0.06, 0.12) * s, shade: rng.uniform(0.06, 0.2))
        }
        // Streaks are longer than a frame's fall, so consecutive frames overlap (coherent rain).
        drops = (0..<110).map { _ in
            Drop(x: rng.uniform(-0.3, 1.3) * s, y: rng.uniform(0, 1.3) * s, speed: rng.uniform(0.06, 0.08) * s,
                 length: rng.uniform(0.09, 0.13) * s)
        }
        ground = ridgePolygon(width: s, bottom: s, base: s * rng.uniform(0.82, 0.9), roughness: s * 0.03, jagged: false, rng: &rng)
        var strikes: [Strike] = []
        let count = frames >= 10 && rng.chance(0.5) ? 2 : 1
        for i in 0..<count {
            let lo = 1 + Float(i) * frames / Float(count)
            let time = Float(Int(rng.uniform(lo, lo + max(1, frames / Float(count) - 4))))
            var p = SIMD2<Float>(rng.uniform(0.2, 0.8) * s, 0.18 * s)
            var path = [p], branch: [SIMD2<Float>] = []
            let bottom = s * 0.86
            while p.y < bottom {
                p += SIMD2(rng.uniform(-0.06, 0.06) * s, rng.uniform(0.04, 0.09) * s)
                path.append(p)
                if branch.isEmpty && path.count == 4 {
                    var q = p
                    branch.append(q)
                    for _ in 0..<3 {
                        q += SIMD2(rng.sign() * rng.uniform(0.03, 0.07) * s, rng.uniform(0.03, 0.06) * s)
                        branch.append(q)
                    }
                }
            }
            strikes.append(Strike(time: time, path: path, branch: branch))
        }
        self.strikes = strikes
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fillVerticalGradient([(0, skyTop), (1, skyLow)])
        var flash: Float = 0
        for k in strikes where t >= k.time {
            flash = max(flash, pow(0.35, t - k.time))
        }
        for p in puffs {
            let x = wrap(p.x + drift * t + 0.2 * s, 1.4 * s) - 0.2 * s
            canvas.fillEllipse(x: x, y: p.y, rx: p.rx, ry: p.ry, color: SceneColor(p.shade, p.shade, p.shade + 0.03),
                               alpha: 0.85, softness: s * 0.05)
        }
        if flash > 0.02 {
            canvas.fillRect(x0: 0, y0: 0, x1: s, y1: s, color: SceneColor(0.75, 0.8, 1), alpha: 0.25 * flash, blend: .additive)
        }
        for k in strikes where t >= k.time && t < k.time + 2 {
            let a: Float = t == k.time ? 1 : 0.45
            for pts in [k.path, k.branch] where pts.count > 1 {
                for i in 1..<pts.count {
                    canvas.drawLine(from: pts[i - 1], to: pts[i], width: max(1, s * (pts == k.path ? 0.014 : 0.008)),
                                    color: SceneColor(0.95, 0.95, 1), alpha: a)
                }
            }
            canvas.glow(x: k.path[k.path.count / 2].x, y: s * 0.5, radius: s * 0.18, color: SceneColor(0.6, 0.65, 1),
                        intensity: 0.35 * a)
        }
        canvas.fillPolygon(ground, color: groundColor.mix(SceneColor(0.4, 0.42, 0.5), 0.5 * flash))
        for d in drops {
            let y = wrap(d.y + d.speed * t, 1.3 * s) - 0.15 * s
            let x = d.x + slant * (y + 0.15 * s)
            canvas.drawLine(from: SIMD2(x - slant * d.length, y - d.length), to: SIMD2(x, y),
                            width: max(0.6, s * 0.006), color: SceneColor(0.7, 0.72, 0.8), alpha: 0.05, alphaEnd: 0.35)
        }
    }
}
