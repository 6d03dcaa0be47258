import Foundation

/// Family 6: clouds drifting across a blue sky, all towards the captioned direction (nearer,
/// larger clouds faster). Each cloud is a cluster of soft ellipses with a greyer underside;
/// some clips add green hills at the bottom.
struct CloudsScene: SceneGenerator {
    struct Puff { var dx, dy, rx, ry: Float }
    struct Cloud { var x, y, speed, scale: Float; var puffs: [Puff]; var shade: Float }
    let size: Float
    let skyTop, skyLow: SceneColor
    let clouds: [Cloud]
    let hills: [SIMD2<Float>]?
    let hillColor: SceneColor
    let grain: Float = 0.006

    init(size s: Float, direction: SceneDirection, rng: inout SceneRNG) {
        size = s
        skyTop = jitter(SceneColor(0.16, 0.4, 0.82), 0.05, &rng)
        skyLow = jitter(SceneColor(0.58, 0.77, 0.96), 0.04, &rng)
        let base = rng.uniform(0.014, 0.024) * s
        var clouds: [Cloud] = []
        let count = rng.int(in: 4...6)
        for i in 0..<count {
            let scale = rng.uniform(0.6, 1.2)
            var puffs: [Puff] = []
            let n = rng.int(in: 5...8)
            for _ in 0..<n {
                puffs.append(Puff(dx: rng.uniform(-0.12, 0.12) * s * scale, dy: rng.uniform(-0.04, 0.02) * s * scale,
                                  rx: rng.uniform(0.05, 0.09) * s * scale, ry: rng.uniform(0.035, 0.06) * s * scale))
            }
            clouds.append(Cloud(x: (Float(i) + rng.uniform(0, 0.7)) / Float(count) * 1.6 * s,
                                y: rng.uniform(0.12, 0.62) * s, speed: direction.sign * base * (0.7 + 0.5 * scale),
                                scale: scale, puffs: puffs, shade: rng.uniform(0.78, 0.9)))
        }
        self.clouds = clouds
        hills = rng.chance(0.4)
            ? ridgePolygon(width: s, bottom: s, base: s * rng.uniform(0.85, 0.92), roughness: s * 0.03, jagged: false, rng: &rng)
            : nil
        hillColor = jitter(SceneColor(0.25, 0.55, 0.22), 0.05, &rng)
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fillVerticalGradient([(0, skyTop), (1, skyLow)])
        for c in clouds {
            let x = wrap(c.x + c.speed * t, 1.6 * s) - 0.3 * s
            for p in c.puffs {
                canvas.fillEllipse(x: x + p.dx, y: c.y + p.dy + p.ry * 0.25, rx: p.rx, ry: p.ry,
                                   color: SceneColor(c.shade, c.shade, c.shade + 0.05), alpha: 0.9, softness: s * 0.02)
            }
            for p in c.puffs {
                canvas.fillEllipse(x: x + p.dx, y: c.y + p.dy - p.ry * 0.1, rx: p.rx * 0.9, ry: p.ry * 0.85,
                                   color: SceneColor(0.98, 0.98, 1), alpha: 0.95, softness: s * 0.018)
            }
        }
        if let hills { canvas.fillPolygon(hills, color: hillColor) }
    }
}
