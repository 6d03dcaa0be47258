import Foundation

/// Family 1: a cyberpunk city at night. Two parallax layers of towers with lit windows,
/// magenta/cyan neon signs that glow, slanted rain streaks, and a slow horizontal pan.
struct CityScene: SceneGenerator {
    struct Window { var x, y, w, h: Float; var color: SceneColor }
    struct Tower {
        var x, width, top: Float
        var color: SceneColor
        var windows: [Window]
        var neon: (x: Float, y: Float, w: Float, h: Float, color: SceneColor, phase: Float)?
    }
    struct Drop { var x, y, speed, length: Float }

    let size: Float
    let skyTop, skyHorizon: SceneColor
    let far: [Tower], near: [Tower]
    let pan: Float
    let drops: [Drop]
    let slant: Float
    let rainColor: SceneColor
    let grain: Float = 0.015

    init(size s: Float, rng: inout SceneRNG) {
        size = s
        let magenta = SceneColor(hue: rng.uniform(0.82, 0.93), saturation: 0.85, value: 1)
        let cyan = SceneColor(hue: rng.uniform(0.48, 0.55), saturation: 0.85, value: 1)
        skyTop = jitter(SceneColor(0.03, 0.02, 0.08), 0.015, &rng)
        skyHorizon = SceneColor(0.06, 0.03, 0.12).mix(rng.chance(0.5) ? magenta : cyan, rng.uniform(0.15, 0.3))
        pan = rng.sign() * rng.uniform(0.003, 0.006) * s
        func towers(minTop: Float, maxTop: Float, shade: SceneColor, lit: Float, neon: Bool, rng: inout SceneRNG) -> [Tower] {
            var list: [Tower] = []
            var x = -0.25 * s
            while x < 1.25 * s {
                let w = rng.uniform(0.08, 0.17) * s
                let top = rng.uniform(minTop, maxTop) * s
                var windows: [Window] = []
                let pitchX = s * 0.03, pitchY = s * 0.035
                let warm = SceneColor(1, 0.8, 0.45)
                var wy = top + pitchY * 0.6
                while wy < s {
                    var wx = pitchX * 0.5
                    while wx + pitchX * 0.5 < w {
                        if rng.chance(lit) {
                            let c = rng.pick([warm, warm, cyan, magenta]).scaled(rng.uniform(0.45, 0.9))
                            windows.append(Window(x: wx, y: wy, w: pitchX * 0.55, h: pitchY * 0.5, color: c))
                        }
                        wx += pitchX
                    }
                    wy += pitchY
                }
                var sign: (x: Float, y: Float, w: Float, h: Float, color: SceneColor, phase: Float)?
                if neon && rng.chance(0.6) {
                    let vertical = rng.chance(0.5)
                    let sw = vertical ? s * 0.025 : w * 0.7, sh = vertical ? s * rng.uniform(0.12, 0.22) : s * 0.025
                    sign = (rng.uniform(0, max(0, w - sw)), top + rng.uniform(0.05, 0.25) * s, sw, sh,
                            rng.chance(0.5) ? magenta : cyan, rng.uniform(0, 6.28))
                }
                list.append(Tower(x: x, width: w, top: top, color: jitter(shade, 0.01, &rng), windows: windows, neon: sign))
                x += w + rng.uniform(0.0, 0.04) * s
            }
            return list
        }
        far = towers(minTop: 0.15, maxTop: 0.45, shade: SceneColor(0.09, 0.07, 0.16), lit: 0.25, neon: false, rng: &rng)
        near = towers(minTop: 0.35, maxTop: 0.7, shade: SceneColor(0.03, 0.03, 0.06), lit: 0.35, neon: true, rng: &rng)
        slant = rng.uniform(-0.25, 0.25)
        rainColor = SceneColor(0.6, 0.65, 0.85)
        var drops: [Drop] = []
        for _ in 0..<90 {
            drops.append(Drop(x: rng.uniform(-0.2, 1.2) * s, y: rng.uniform(0, 1.3) * s,
                              speed: rng.uniform(0.05, 0.07) * s, length: rng.uniform(0.07, 0.1) * s))
        }
        self.drops = drops
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fillVerticalGradient([(0, skyTop), (0.75, skyHorizon)])
        drawLayer(&canvas, far, offset: pan * t * 0.5, t: t)
        drawLayer(&canvas, near, offset: pan * t, t: t)
        for d in drops {
            let y = wrap(d.y + d.speed * t, 1.3 * s) - 0.15 * s
            let x = d.x + slant * (y + 0.15 * s)
            canvas.drawLine(from: SIMD2(x - slant * d.length, y - d.length), to: SIMD2(x, y),
                            width: max(0.6, s * 0.006), color: rainColor, alpha: 0.1, alphaEnd: 0.45)
        }
    }

    private func drawLayer(_ canvas: inout Canvas, _ towers: [Tower], offset: Float, t: Float) {
        let s = size
        for tower in towers {
            let x0 = tower.x + offset
            if x0 > s || x0 + tower.width < 0 { continue }
            canvas.fillRect(x0: x0, y0: tower.top, x1: x0 + tower.width, y1: s, color: tower.color)
            for w in tower.windows {
                canvas.fillRect(x0: x0 + w.x, y0: w.y, x1: x0 + w.x + w.w, y1: w.y + w.h, color: w.color)
            }
            if let n = tower.neon {
                let flicker: Float = 0.8 + 0.2 * sin(t * 0.9 + n.phase)
                canvas.fillRect(x0: x0 + n.x, y0: n.y, x1: x0 + n.x + n.w, y1: n.y + n.h, color: n.color.scaled(flicker))
                canvas.glow(x: x0 + n.x + n.w / 2, y: n.y + n.h / 2, radius: max(n.w, n.h) * 0.45 + s * 0.02,
                            color: n.color, intensity: 0.35 * flicker)
            }
        }
    }
}
