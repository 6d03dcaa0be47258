import Foundation

/// Family 2: a sunset over the ocean. A warm gradient sky, a sun disc sinking towards the
/// horizon, a darker sea with drifting wave lines and a shimmering reflection column.
struct SunsetScene: SceneGenerator {
    struct Wave { var x, y, length, speed: Float; var light: Bool }
    let size, horizon, sunX, sunY0, sunRadius, sinkSpeed: Float
    let skyTop, skyMid, skyLow, seaTop, seaBottom, sunColor: SceneColor
    let waves: [Wave]
    let shimmerPhase: [Float]
    let grain: Float = 0.01

    init(size s: Float, rng: inout SceneRNG) {
        size = s
        horizon = rng.uniform(0.5, 0.62) * s
        sunRadius = rng.uniform(0.065, 0.095) * s
        sunX = rng.uniform(0.3, 0.7) * s
        sunY0 = horizon - rng.uniform(0.13, 0.24) * s
        sinkSpeed = rng.uniform(0.004, 0.007) * s
        let warmth = rng.uniform(-0.04, 0.04)
        skyTop = jitter(SceneColor(0.32, 0.12, 0.38), 0.05, &rng)
        skyMid = SceneColor(hue: 0.04 + warmth, saturation: 0.8, value: 0.95)
        skyLow = SceneColor(hue: 0.11 + warmth, saturation: 0.7, value: 1)
        seaTop = jitter(SceneColor(0.42, 0.2, 0.22), 0.04, &rng)
        seaBottom = jitter(SceneColor(0.04, 0.05, 0.16), 0.02, &rng)
        sunColor = SceneColor(1, 0.88, 0.55)
        let drift = rng.sign() * rng.uniform(0.006, 0.012) * s
        var waves: [Wave] = []
        for _ in 0..<45 {
            let y = horizon + pow(rng.unit(), 1.5) * (s - horizon)
            let depth = (y - horizon) / (s - horizon)
            waves.append(Wave(x: rng.uniform(0, 1.4) * s, y: y, length: s * (0.04 + 0.1 * depth),
                              speed: drift * (0.5 + depth), light: rng.chance(0.5)))
        }
        self.waves = waves
        shimmerPhase = (0..<24).map { _ in rng.uniform(0, 6.28) }
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fillVerticalGradient([(0, skyTop), (0.55, skyMid), (1, skyLow)], top: 0, bottom: horizon)
        let sunY = sunY0 + sinkSpeed * t
        canvas.glow(x: sunX, y: sunY, radius: sunRadius * 2.2, color: SceneColor(1, 0.5, 0.15), intensity: 0.45)
        canvas.fillCircle(x: sunX, y: sunY, radius: sunRadius, color: sunColor, softness: 1.2)
        canvas.fillVerticalGradient([(0, seaTop), (1, seaBottom)], top: horizon, bottom: s)
        // Waves drift sideways, wrapping around.
        for w in waves {
            let x = wrap(w.x + w.speed * t, 1.4 * s) - 0.2 * s
            let c = w.light ? skyMid.scaled(0.8) : seaBottom.scaled(0.6)
            canvas.drawLine(from: SIMD2(x, w.y), to: SIMD2(x + w.length, w.y), width: max(0.7, s * 0.007),
                            color: c, alpha: 0.45)
        }
        // The reflection: horizontal glints under the sun, shimmering, fading with depth.
        let visible = max(0, min(1, (horizon - sunY + sunRadius) / (2 * sunRadius)))
        let rows = shimmerPhase.count
        for k in 0..<rows {
            let depth = Float(k) / Float(rows)
            let y = horizon + (s - horizon) * (depth * 0.95 + 0.02)
            let half = sunRadius * (0.9 + 0.6 * depth) * (0.6 + 0.4 * sin(t * 0.8 + shimmerPhase[k]))
            let dx = sunRadius * 0.35 * sin(t * 0.6 + shimmerPhase[(k + 7) % rows])
            canvas.drawLine(from: SIMD2(sunX + dx - half, y), to: SIMD2(sunX + dx + half, y),
                            width: max(0.8, s * 0.012), color: sunColor, alpha: (0.75 - 0.5 * depth) * (0.35 + 0.65 * visible))
        }
    }
}
