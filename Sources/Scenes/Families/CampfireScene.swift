import Foundation

/// Family 9: a campfire flickering in the dark. Crossed logs on dark ground, layered flame
/// tongues (red, orange, yellow) whose heights flicker smoothly, a warm glow that pulses with
/// them, and sparks drifting up.
struct CampfireScene: SceneGenerator {
    struct Tongue { var dx, width, height, rate, phase, rate2, phase2: Float }
    struct Spark { var dx, y, speed, sway, phase: Float }
    let size, fireX, baseY, scale: Float
    let background, groundColor, logColor: SceneColor
    let tongues: [Tongue]
    let sparks: [Spark]
    let logAngles: [Float]
    let grain: Float = 0.012

    init(size s: Float, rng: inout SceneRNG) {
        size = s
        let scale = rng.uniform(0.8, 1.15)
        self.scale = scale
        fireX = rng.uniform(0.38, 0.62) * s
        baseY = rng.uniform(0.72, 0.82) * s
        background = jitter(SceneColor(0.02, 0.015, 0.02), 0.01, &rng)
        groundColor = jitter(SceneColor(0.07, 0.045, 0.03), 0.015, &rng)
        logColor = jitter(SceneColor(0.28, 0.16, 0.08), 0.04, &rng)
        tongues = (0..<rng.int(in: 5...7)).map { _ in
            Tongue(dx: rng.uniform(-0.08, 0.08) * s * scale, width: rng.uniform(0.04, 0.07) * s * scale,
                   height: rng.uniform(0.16, 0.3) * s * scale, rate: rng.uniform(0.7, 1.4), phase: rng.uniform(0, 6.28),
                   rate2: rng.uniform(1.8, 3), phase2: rng.uniform(0, 6.28))
        }
        sparks = (0..<16).map { _ in
            Spark(dx: rng.uniform(-0.08, 0.08) * s, y: rng.uniform(0, 0.6) * s, speed: rng.uniform(0.02, 0.04) * s,
                  sway: rng.uniform(0.01, 0.03) * s, phase: rng.uniform(0, 6.28))
        }
        logAngles = [rng.uniform(0.25, 0.45), -rng.uniform(0.25, 0.45)]
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fill(background)
        let pulse = 0.85 + 0.1 * sin(t * 1.1) + 0.05 * sin(t * 2.7 + 1)
        canvas.fillRect(x0: 0, y0: baseY + s * 0.03, x1: s, y1: s, color: groundColor)
        canvas.glow(x: fireX, y: baseY - s * 0.08, radius: s * 0.22 * scale, color: SceneColor(0.9, 0.35, 0.08), intensity: 0.45 * pulse)
        for a in logAngles {
            canvas.fillEllipse(x: fireX, y: baseY + s * 0.015, rx: s * 0.16 * scale, ry: s * 0.028 * scale, angle: a,
                               color: logColor)
        }
        // Flame tongues, outer to inner: red, orange, yellow; heights flicker smoothly.
        let layers: [(SceneColor, Float, Float)] = [(SceneColor(0.85, 0.18, 0.03), 1, 0.85),
                                                    (SceneColor(1, 0.5, 0.05), 0.72, 0.9),
                                                    (SceneColor(1, 0.88, 0.4), 0.42, 0.95)]
        for (color, k, alpha) in layers {
            for tg in tongues {
                let h = tg.height * k * (1 + 0.22 * sin(t * tg.rate + tg.phase) + 0.1 * sin(t * tg.rate2 + tg.phase2))
                let lean = s * 0.012 * sin(t * 0.7 + tg.phase2)
                canvas.fillEllipse(x: fireX + tg.dx * k + lean, y: baseY - h * 0.45, rx: tg.width * k, ry: h * 0.5,
                                   angle: lean / max(1, h) * 2, color: color, alpha: alpha, softness: max(1, s * 0.012))
            }
        }
        canvas.glow(x: fireX, y: baseY - s * 0.05, radius: s * 0.05 * scale, color: SceneColor(1, 0.8, 0.4), intensity: 0.5 * pulse)
        for sp in sparks {
            let rise = wrap(sp.y + sp.speed * t, 0.6 * s)
            let fade = 1 - rise / (0.6 * s)
            canvas.fillCircle(x: fireX + sp.dx + sp.sway * sin(t * 0.8 + sp.phase), y: baseY - s * 0.1 - rise,
                              radius: max(0.5, s * 0.005), color: SceneColor(1, 0.7, 0.25), alpha: fade, blend: .additive)
        }
    }
}
