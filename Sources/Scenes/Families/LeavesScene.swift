import Foundation

/// Family 13: autumn leaves falling. A soft, warm background (hazy sky over an autumn
/// treeline, or a blurred park), tree trunks, a carpet of fallen leaves, and orange, red and
/// yellow leaves tumbling down: each spins and sways as it falls.
struct LeavesScene: SceneGenerator {
    struct Leaf { var x, y, length, speed, sway, phase, spin, angle: Float; var color: SceneColor }
    struct Blob { var x, y, r: Float; var color: SceneColor }
    let size, groundY: Float
    let skyTop, skyLow, groundColor, trunkColor: SceneColor
    let blobs: [Blob]
    let trunks: [SIMD2<Float>]
    let leaves: [Leaf]
    let wind: Float
    let grain: Float = 0.008

    init(size s: Float, rng: inout SceneRNG) {
        size = s
        skyTop = jitter(SceneColor(0.66, 0.72, 0.78), 0.05, &rng)
        skyLow = jitter(SceneColor(0.86, 0.74, 0.55), 0.05, &rng)
        groundColor = jitter(SceneColor(0.5, 0.28, 0.1), 0.05, &rng)
        trunkColor = jitter(SceneColor(0.22, 0.15, 0.1), 0.03, &rng)
        groundY = rng.uniform(0.82, 0.9) * s
        let foliage = [SceneColor(0.85, 0.45, 0.12), SceneColor(0.75, 0.25, 0.1), SceneColor(0.9, 0.68, 0.2), SceneColor(0.6, 0.3, 0.12)]
        blobs = (0..<14).map { _ in
            Blob(x: rng.unit() * s, y: rng.uniform(0.05, 0.45) * s, r: rng.uniform(0.1, 0.2) * s,
                 color: rng.pick(foliage).mix(SceneColor(0.85, 0.78, 0.7), 0.45))
        }
        trunks = (0..<rng.int(in: 1...3)).map { _ in SIMD2(rng.unit() * s, rng.uniform(0.03, 0.07) * s) }
        wind = rng.uniform(-0.008, 0.008) * s
        let palette = [SceneColor(0.95, 0.45, 0.08), SceneColor(0.85, 0.15, 0.06), SceneColor(0.98, 0.7, 0.12),
                       SceneColor(0.7, 0.2, 0.05), SceneColor(0.92, 0.32, 0.05)]
        leaves = (0..<rng.int(in: 26...38)).map { _ in
            Leaf(x: rng.unit() * s, y: rng.uniform(0, 1.15) * s, length: rng.uniform(0.025, 0.045) * s + 0.6,
                 speed: rng.uniform(0.012, 0.026) * s, sway: rng.uniform(0.02, 0.05) * s, phase: rng.uniform(0, 6.28),
                 spin: rng.uniform(-0.35, 0.35), angle: rng.uniform(0, 6.28), color: jitter(rng.pick(palette), 0.05, &rng))
        }
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fillVerticalGradient([(0, skyTop), (1, skyLow)])
        for b in blobs {
            canvas.fillCircle(x: b.x, y: b.y, radius: b.r, color: b.color, alpha: 0.6, softness: b.r * 0.8)
        }
        for tr in trunks {
            canvas.fillRect(x0: tr.x - tr.y / 2, y0: 0, x1: tr.x + tr.y / 2, y1: groundY + 1, color: trunkColor, alpha: 0.85)
        }
        canvas.fillRect(x0: 0, y0: groundY, x1: s, y1: s, color: groundColor)
        for leaf in leaves {
            let y = wrap(leaf.y + leaf.speed * t, 1.15 * s) - 0.08 * s
            let x = wrap(leaf.x + wind * t + leaf.sway * sin(t * 0.45 + leaf.phase), s)
            let angle = leaf.angle + leaf.spin * t
            canvas.fillEllipse(x: x, y: y, rx: leaf.length, ry: leaf.length * 0.45, angle: angle, color: leaf.color)
            let c = cos(angle), sn = sin(angle)
            canvas.drawLine(from: SIMD2(x - c * leaf.length, y - sn * leaf.length), to: SIMD2(x + c * leaf.length, y + sn * leaf.length),
                            width: max(0.4, s * 0.003), color: leaf.color.scaled(0.6), alpha: 0.6)
        }
    }
}
