import Foundation

/// Family 4: fireworks in the night sky. Rockets rise from the ground, then burst into rings of
/// sparks that expand, droop under gravity and fade; bursts are staggered through the clip.
struct FireworksScene: SceneGenerator {
    struct Burst {
        var x, y, start, maxRadius, life: Float
        var color, secondary: SceneColor
        var angles: [Float]
        var speeds: [Float]
    }
    let size: Float
    let skyTop, skyLow: SceneColor
    let bursts: [Burst]
    let skyline: [SIMD2<Float>]
    let grain: Float = 0.012

    init(size s: Float, frames: Float, rng: inout SceneRNG) {
        size = s
        skyTop = jitter(SceneColor(0.01, 0.01, 0.04), 0.01, &rng)
        skyLow = jitter(SceneColor(0.05, 0.04, 0.12), 0.02, &rng)
        var bursts: [Burst] = []
        let count = rng.int(in: 3...5)
        for i in 0..<count {
            // Spread the starts over the clip so some burst is always expanding.
            let slot = (Float(i) + rng.uniform(0, 0.8)) / Float(count)
            let hue = rng.unit()
            let n = rng.int(in: 22...36)
            var angles: [Float] = [], speeds: [Float] = []
            for k in 0..<n {
                angles.append((Float(k) + rng.uniform(-0.3, 0.3)) / Float(n) * 6.2832)
                speeds.append(rng.uniform(0.75, 1))
            }
            bursts.append(Burst(x: rng.uniform(0.18, 0.82) * s, y: rng.uniform(0.15, 0.5) * s,
                                start: slot * frames * 0.85 - 3, maxRadius: rng.uniform(0.14, 0.26) * s,
                                life: rng.uniform(6, 10),
                                color: SceneColor(hue: hue, saturation: rng.uniform(0.6, 0.9), value: 1),
                                secondary: SceneColor(hue: hue + rng.uniform(-0.15, 0.15), saturation: 0.4, value: 1),
                                angles: angles, speeds: speeds))
        }
        self.bursts = bursts
        var skyline: [SIMD2<Float>] = [SIMD2(-1, s + 1)]
        var x: Float = -1
        while x < s {
            let h = s * rng.uniform(0.04, 0.12)
            let w = s * rng.uniform(0.05, 0.12)
            skyline.append(SIMD2(x, s - h))
            skyline.append(SIMD2(x + w, s - h))
            x += w
        }
        skyline.append(SIMD2(s + 1, s + 1))
        self.skyline = skyline
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fillVerticalGradient([(0, skyTop), (1, skyLow)])
        for b in bursts {
            let age = t - b.start
            if age < 0 {
                // The rocket climbing during the 4 frames before it bursts.
                if age > -4 {
                    let u = 1 + age / 4
                    let y = s - (s - b.y) * u
                    canvas.drawLine(from: SIMD2(b.x, y + s * 0.06), to: SIMD2(b.x, y), width: max(0.8, s * 0.008),
                                    color: SceneColor(1, 0.8, 0.5), alpha: 0, alphaEnd: 0.9, blend: .additive)
                }
                continue
            }
            let fade = exp(-age / b.life)
            let r = b.maxRadius * (1 - exp(-age / 2.2))
            let droop = s * 0.0015 * age * age
            if age < 2 { canvas.glow(x: b.x, y: b.y, radius: s * 0.08, color: b.secondary, intensity: 0.6 * (1 - age / 2)) }
            for k in 0..<b.angles.count {
                let a = b.angles[k], v = b.speeds[k]
                let dx = cos(a) * r * v, dy = sin(a) * r * v + droop
                let tail: Float = 0.75
                canvas.drawLine(from: SIMD2(b.x + dx * tail, b.y + dy * tail - droop * 0.3), to: SIMD2(b.x + dx, b.y + dy),
                                width: max(0.8, s * 0.01), color: b.color, alpha: 0.15 * fade, alphaEnd: 1.1 * fade,
                                blend: .additive)
                canvas.fillCircle(x: b.x + dx, y: b.y + dy, radius: max(0.5, s * 0.006), color: b.secondary,
                                  alpha: 0.8 * fade, blend: .additive)
            }
        }
        canvas.fillPolygon(skyline, color: SceneColor(0.015, 0.015, 0.03))
    }
}
