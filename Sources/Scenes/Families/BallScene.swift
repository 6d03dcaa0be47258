import Foundation

/// Family 5: a bouncing ball of the captioned colour on a plain, low-saturation background,
/// with a floor line and a soft contact shadow. The ball follows a bounce arc (|sin|) while
/// moving sideways and reflecting off the side walls.
struct BallScene: SceneGenerator {
    let size, radius, floorY, x0, vx, period, phase, bounceHeight: Float
    let background, floorColor, ballColor: SceneColor
    let grain: Float = 0.006

    init(size s: Float, color: BallColor, rng: inout SceneRNG) {
        size = s
        let hue = rng.unit()
        let value = rng.uniform(0.6, 0.95)
        background = SceneColor(hue: hue, saturation: rng.uniform(0.0, 0.12), value: value)
        floorColor = background.scaled(0.85)
        ballColor = jitter(color.color, 0.04, &rng)
        radius = rng.uniform(0.075, 0.11) * s
        floorY = rng.uniform(0.8, 0.9) * s
        x0 = rng.uniform(0.2, 0.8) * s
        vx = rng.sign() * rng.uniform(0.012, 0.03) * s
        period = rng.uniform(12, 18)
        phase = rng.uniform(0, 1)
        bounceHeight = rng.uniform(0.3, 0.5) * s
    }

    /// The ball centre at time `t`.
    func center(_ t: Float) -> SIMD2<Float> {
        let lo = radius, hi = size - radius
        let span = hi - lo
        var x = wrap(x0 - lo + vx * t, 2 * span)
        if x > span { x = 2 * span - x }
        let hop = abs(sin(Float.pi * (t / period + phase)))
        return SIMD2(lo + x, floorY - radius - bounceHeight * hop)
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fill(background)
        canvas.fillRect(x0: 0, y0: floorY, x1: s, y1: s, color: floorColor)
        let c = center(t)
        let height = (floorY - radius - c.y) / bounceHeight
        canvas.fillEllipse(x: c.x, y: floorY, rx: radius * (1.1 - 0.4 * height), ry: radius * 0.22,
                           color: .black, alpha: 0.25 * (1 - 0.6 * height), softness: max(1, radius * 0.3))
        canvas.fillCircle(x: c.x, y: c.y, radius: radius, color: ballColor)
        canvas.fillCircle(x: c.x + radius * 0.15, y: c.y + radius * 0.2, radius: radius * 0.8,
                          color: ballColor.scaled(0.75), alpha: 0.5, softness: radius * 0.5)
        canvas.fillCircle(x: c.x - radius * 0.35, y: c.y - radius * 0.35, radius: radius * 0.25,
                          color: .white, alpha: 0.45, softness: radius * 0.3)
    }
}
