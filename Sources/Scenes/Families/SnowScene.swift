import Foundation

/// Family 3: snow falling in a forest. A cold grey-blue sky, rows of dark pines (farther rows
/// paler in the haze), snowy ground, and flakes in three depth layers falling with a sway.
struct SnowScene: SceneGenerator {
    struct Flake { var x, y, radius, speed, swayPhase, swayAmp: Float }
    struct Pine { var x, ground, height: Float; var color: SceneColor }
    let size, groundY, wind: Float
    let skyTop, skyLow, snowColor: SceneColor
    let pines: [Pine]
    let flakes: [Flake]
    let grain: Float = 0.012

    init(size s: Float, rng: inout SceneRNG) {
        size = s
        let dark = rng.uniform(0.5, 1)
        skyTop = jitter(SceneColor(0.24, 0.28, 0.38).scaled(dark), 0.03, &rng)
        skyLow = jitter(SceneColor(0.5, 0.55, 0.64).scaled(dark), 0.03, &rng)
        snowColor = SceneColor(0.86, 0.89, 0.94)
        groundY = rng.uniform(0.78, 0.88) * s
        wind = rng.uniform(-0.006, 0.006) * s
        var pines: [Pine] = []
        let treeColor = jitter(SceneColor(0.04, 0.1, 0.07), 0.02, &rng)
        for row in 0..<3 {
            let haze = Float(2 - row) * 0.3
            let count = 5 + row * 2
            for _ in 0..<count {
                pines.append(Pine(x: rng.uniform(-0.05, 1.05) * s, ground: groundY - Float(2 - row) * 0.04 * s,
                                  height: s * rng.uniform(0.25, 0.45) * (0.6 + 0.2 * Float(row)),
                                  color: treeColor.mix(skyLow, haze)))
            }
        }
        self.pines = pines
        var flakes: [Flake] = []
        // Flakes fall about their own diameter per frame or less, so consecutive frames overlap
        // (inter-frame SSIM stays high: the motion reads as falling, not as flicker).
        for i in 0..<100 {
            let layer = Float(i % 3) / 2
            flakes.append(Flake(x: rng.uniform(0, 1) * s, y: rng.uniform(0, 1.1) * s,
                                radius: s * (0.007 + 0.009 * layer) + 0.35,
                                speed: s * (0.007 + 0.011 * layer) * rng.uniform(0.85, 1.15),
                                swayPhase: rng.uniform(0, 6.28), swayAmp: s * rng.uniform(0.005, 0.02)))
        }
        self.flakes = flakes
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fillVerticalGradient([(0, skyTop), (1, skyLow)], top: 0, bottom: groundY)
        canvas.fillVerticalGradient([(0, snowColor.scaled(0.9)), (1, snowColor)], top: groundY - 1, bottom: s)
        for p in pines { drawPine(&canvas, x: p.x, groundY: p.ground, height: p.height, color: p.color) }
        for f in flakes {
            let y = wrap(f.y + f.speed * t, 1.1 * s) - 0.05 * s
            let x = wrap(f.x + wind * t + f.swayAmp * sin(t * 0.35 + f.swayPhase), s)
            canvas.fillCircle(x: x, y: y, radius: f.radius, color: .white, alpha: 0.92)
        }
    }
}
