import Foundation

/// Family 12: the northern lights. Green (sometimes teal- or violet-edged) curtains of light
/// built from vertical strokes whose base follows travelling waves, so the bands ripple
/// sideways; faint stars above a black landscape of hills or pines.
struct AuroraScene: SceneGenerator {
    struct Band { var baseY, amp, freq, speed, phase, amp2, freq2, speed2, height, intensity: Float; var color, topColor: SceneColor }
    struct Star { var x, y, b: Float }
    let size: Float
    let skyTop, skyLow: SceneColor
    let bands: [Band]
    let stars: [Star]
    let land: [SIMD2<Float>]
    let pines: [SIMD2<Float>]
    let grain: Float = 0.01

    init(size s: Float, rng: inout SceneRNG) {
        size = s
        skyTop = jitter(SceneColor(0.005, 0.02, 0.05), 0.01, &rng)
        skyLow = jitter(SceneColor(0.02, 0.07, 0.1), 0.02, &rng)
        let direction = rng.sign()
        bands = (0..<rng.int(in: 2...3)).map { _ in
            Band(baseY: rng.uniform(0.3, 0.6) * s, amp: rng.uniform(0.04, 0.1) * s, freq: rng.uniform(1.5, 3.5),
                 speed: direction * rng.uniform(0.15, 0.3), phase: rng.uniform(0, 6.28), amp2: rng.uniform(0.01, 0.03) * s,
                 freq2: rng.uniform(5, 9), speed2: -direction * rng.uniform(0.2, 0.4), height: rng.uniform(0.15, 0.3) * s,
                 intensity: rng.uniform(0.5, 0.8),
                 color: SceneColor(hue: rng.uniform(0.3, 0.4), saturation: 0.85, value: 1),
                 topColor: rng.chance(0.4) ? SceneColor(0.6, 0.2, 0.8) : SceneColor(0.2, 0.9, 0.7))
        }
        stars = (0..<70).map { _ in Star(x: rng.unit() * s, y: rng.unit() * 0.8 * s, b: rng.uniform(0.2, 0.7)) }
        let landBase = rng.uniform(0.8, 0.88) * s
        land = ridgePolygon(width: s, bottom: s, base: landBase, roughness: s * 0.04, jagged: rng.chance(0.5), rng: &rng)
        pines = rng.chance(0.5) ? (0..<rng.int(in: 4...9)).map { _ in SIMD2(rng.unit() * s, rng.uniform(0.08, 0.16) * s) } : []
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fillVerticalGradient([(0, skyTop), (1, skyLow)])
        for st in stars {
            canvas.fillCircle(x: st.x, y: st.y, radius: 0.3 + s * 0.003, color: SceneColor(0.9, 0.9, 1).scaled(st.b), blend: .additive)
        }
        let columns = 56
        let step = s / Float(columns)
        for band in bands {
            for i in 0...columns {
                let x = Float(i) * step
                let u = x / s * 6.2832
                let y = band.baseY + band.amp * sin(u * band.freq / 2 + band.speed * t + band.phase)
                    + band.amp2 * sin(u * band.freq2 / 2 + band.speed2 * t)
                let shimmer = 0.6 + 0.4 * sin(u * 3.1 + t * 0.5 + band.phase)
                let h = band.height * (0.7 + 0.3 * shimmer)
                let a = band.intensity * shimmer
                canvas.drawLine(from: SIMD2(x, y), to: SIMD2(x, y - h * 0.6), width: step * 1.6, color: band.color,
                                alpha: 0.55 * a, alphaEnd: 0.25 * a, blend: .additive)
                canvas.drawLine(from: SIMD2(x, y - h * 0.6), to: SIMD2(x, y - h), width: step * 1.6, color: band.topColor,
                                alpha: 0.25 * a, alphaEnd: 0, blend: .additive)
                canvas.drawLine(from: SIMD2(x, y + step), to: SIMD2(x, y), width: step * 1.6, color: band.color,
                                alpha: 0, alphaEnd: 0.4 * a, blend: .additive)
            }
        }
        canvas.fillPolygon(land, color: SceneColor(0.01, 0.015, 0.02))
        for p in pines {
            drawPine(&canvas, x: p.x, groundY: s * 0.95, height: p.y, color: SceneColor(0.01, 0.015, 0.02))
        }
    }
}
