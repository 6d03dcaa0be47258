import Foundation

/// Family 10: underwater. Blue-green water darkening with depth, swaying shafts of light from
/// the surface, a sandy floor with swaying seaweed, and bubbles rising with a wobble.
struct UnderwaterScene: SceneGenerator {
    struct Bubble { var x, y, radius, speed, wobble, phase: Float }
    struct Ray { var x, width, phase: Float }
    struct Weed { var x, height, phase: Float; var color: SceneColor }
    let size, floorY: Float
    let top, bottom, sand: SceneColor
    let bubbles: [Bubble]
    let rays: [Ray]
    let weeds: [Weed]
    let floor: [SIMD2<Float>]
    let grain: Float = 0.01

    init(size s: Float, rng: inout SceneRNG) {
        size = s
        let hue = rng.uniform(0.45, 0.55)
        top = SceneColor(hue: hue, saturation: rng.uniform(0.6, 0.8), value: rng.uniform(0.6, 0.75))
        bottom = SceneColor(hue: hue + 0.08, saturation: 0.9, value: rng.uniform(0.15, 0.25))
        sand = jitter(SceneColor(0.42, 0.4, 0.28), 0.04, &rng)
        floorY = rng.uniform(0.84, 0.92) * s
        floor = ridgePolygon(width: s, bottom: s, base: floorY, roughness: s * 0.02, jagged: false, rng: &rng)
        bubbles = (0..<rng.int(in: 28...40)).map { _ in
            Bubble(x: rng.uniform(0.05, 0.95) * s, y: rng.uniform(0, 1.2) * s, radius: rng.uniform(0.008, 0.025) * s + 0.4,
                   speed: rng.uniform(0.018, 0.035) * s, wobble: rng.uniform(0.005, 0.02) * s, phase: rng.uniform(0, 6.28))
        }
        rays = (0..<rng.int(in: 3...5)).map { _ in
            Ray(x: rng.uniform(0, 1) * s, width: rng.uniform(0.05, 0.12) * s, phase: rng.uniform(0, 6.28))
        }
        weeds = (0..<rng.int(in: 2...5)).map { _ in
            Weed(x: rng.uniform(0.05, 0.95) * s, height: rng.uniform(0.15, 0.35) * s, phase: rng.uniform(0, 6.28),
                 color: jitter(SceneColor(0.08, 0.3, 0.15), 0.04, &rng))
        }
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fillVerticalGradient([(0, top), (1, bottom)])
        for r in rays {
            let sway = s * 0.06 * sin(t * 0.25 + r.phase)
            let x = r.x + sway
            canvas.fillPolygon([SIMD2(x - r.width / 2, 0), SIMD2(x + r.width / 2, 0),
                                SIMD2(x + r.width * 1.5 + s * 0.25, s), SIMD2(x + r.width * 0.2 + s * 0.25, s)],
                               color: SceneColor(0.7, 0.95, 1), alpha: 0.08, blend: .additive)
        }
        canvas.fillPolygon(floor, color: sand)
        for w in weeds {
            var p = SIMD2<Float>(w.x, floorY + s * 0.01)
            let segments = 6
            for i in 0..<segments {
                let u = Float(i + 1) / Float(segments)
                let bend = s * 0.03 * u * sin(t * 0.4 + w.phase + u * 2)
                let q = SIMD2<Float>(w.x + bend, floorY - w.height * u)
                canvas.drawLine(from: p, to: q, width: max(1, s * 0.018 * (1.2 - u)), color: w.color)
                p = q
            }
        }
        for b in bubbles {
            let y = s * 1.1 - wrap(b.y + b.speed * t, 1.2 * s)
            let x = b.x + b.wobble * sin(t * 0.9 + b.phase)
            canvas.fillCircle(x: x, y: y, radius: b.radius, color: SceneColor(0.85, 0.97, 1), alpha: 0.55)
            canvas.fillCircle(x: x, y: y, radius: b.radius * 0.65, color: top.mix(bottom, y / s), alpha: 0.55)
            canvas.fillCircle(x: x - b.radius * 0.35, y: y - b.radius * 0.35, radius: max(0.4, b.radius * 0.25),
                              color: .white, alpha: 0.8)
        }
    }
}
