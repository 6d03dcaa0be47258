import Foundation

/// Family 8: a starry night with a shooting star. A deep-blue sky with twinkling stars of
/// varied brightness above a black hill silhouette; a meteor with a fading tail crosses the sky
/// diagonally during the clip.
struct StarsScene: SceneGenerator {
    struct Star { var x, y, brightness, radius, phase, rate: Float }
    let size: Float
    let skyTop, skyLow: SceneColor
    let stars: [Star]
    let hills: [SIMD2<Float>]
    let meteorStart: SIMD2<Float>
    let meteorVelocity: SIMD2<Float>
    let meteorTime, tailLength: Float
    let grain: Float = 0.01

    init(size s: Float, frames: Float, rng: inout SceneRNG) {
        size = s
        skyTop = jitter(SceneColor(0.01, 0.015, 0.05), 0.01, &rng)
        skyLow = jitter(SceneColor(0.06, 0.08, 0.18), 0.02, &rng)
        stars = (0..<rng.int(in: 90...150)).map { _ in
            let big = rng.chance(0.1)
            return Star(x: rng.unit() * s, y: rng.unit() * 0.85 * s, brightness: big ? rng.uniform(0.8, 1) : rng.uniform(0.3, 0.8),
                        radius: (big ? 0.009 : 0.004) * s + 0.3, phase: rng.uniform(0, 6.28), rate: rng.uniform(0.4, 1.2))
        }
        hills = ridgePolygon(width: s, bottom: s, base: s * rng.uniform(0.8, 0.88), roughness: s * 0.05, jagged: false, rng: &rng)
        let goingRight = rng.chance(0.5)
        let speed = rng.uniform(0.045, 0.07) * s
        let angle = rng.uniform(0.35, 0.7)
        meteorVelocity = SIMD2((goingRight ? 1 : -1) * cos(angle) * speed, sin(angle) * speed)
        meteorTime = rng.uniform(-2, max(-1, frames * 0.3))
        let startX = goingRight ? rng.uniform(0.05, 0.4) * s : rng.uniform(0.6, 0.95) * s
        meteorStart = SIMD2(startX, rng.uniform(0.05, 0.3) * s)
        tailLength = rng.uniform(4, 6)
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fillVerticalGradient([(0, skyTop), (1, skyLow)])
        for st in stars {
            let b = st.brightness * (0.7 + 0.3 * sin(t * st.rate + st.phase))
            canvas.fillCircle(x: st.x, y: st.y, radius: st.radius, color: SceneColor(0.9, 0.92, 1).scaled(b), blend: .additive)
        }
        let age = t - meteorTime
        if age >= 0 {
            let head = meteorStart + meteorVelocity * age
            let tail = head - meteorVelocity * min(age + 0.5, tailLength)
            let fade = max(0, 1 - age / 18)
            canvas.drawLine(from: tail, to: head, width: max(0.9, s * 0.012), color: SceneColor(0.85, 0.9, 1),
                            alpha: 0, alphaEnd: fade, blend: .additive)
            canvas.glow(x: head.x, y: head.y, radius: s * 0.018, color: .white, intensity: 0.9 * fade)
        }
        canvas.fillPolygon(hills, color: SceneColor(0.005, 0.008, 0.015))
    }
}
