import Foundation

/// Family 11: a car driving along a road at night. A dark sky over a faint skyline, street
/// lamps, an asphalt road with lane dashes, and a car crossing the frame in the captioned
/// direction with bright headlights (and a light beam) in front and red tail lights behind.
struct CarScene: SceneGenerator {
    let size, direction, speed, startX, roadTop, roadBottom, carY, carLength, carHeight: Float
    let skyTop, skyLow, road, body, dash: SceneColor
    let skyline: [SIMD2<Float>]
    let lamps: [Float]
    let windows: [SIMD2<Float>]
    let grain: Float = 0.012

    init(size s: Float, frames: Float, direction d: SceneDirection, rng: inout SceneRNG) {
        size = s
        direction = d.sign
        speed = rng.uniform(0.028, 0.045) * s
        carLength = rng.uniform(0.26, 0.34) * s
        carHeight = carLength * rng.uniform(0.22, 0.28)
        // Centre the car's path on the frame so it stays in view for most of the clip.
        let travel = speed * max(1, frames - 1)
        startX = s * rng.uniform(0.42, 0.58) - d.sign * travel / 2
        let roadTop = rng.uniform(0.6, 0.68) * s
        self.roadTop = roadTop
        roadBottom = roadTop + rng.uniform(0.2, 0.26) * s
        carY = roadTop + (roadBottom - roadTop) * rng.uniform(0.55, 0.7)
        skyTop = jitter(SceneColor(0.015, 0.02, 0.06), 0.01, &rng)
        skyLow = jitter(SceneColor(0.07, 0.06, 0.14), 0.02, &rng)
        road = jitter(SceneColor(0.1, 0.1, 0.11), 0.015, &rng)
        body = SceneColor(hue: rng.unit(), saturation: rng.uniform(0.2, 0.7), value: rng.uniform(0.3, 0.6))
        dash = rng.chance(0.5) ? SceneColor(0.75, 0.75, 0.7) : SceneColor(0.8, 0.65, 0.2)
        skyline = ridgePolygon(width: s, bottom: roadTop + 1, base: roadTop - s * 0.08, roughness: s * 0.04, jagged: true, rng: &rng)
        lamps = (0..<rng.int(in: 2...3)).map { _ in rng.uniform(0.1, 0.9) * s }
        windows = (0..<20).map { _ in SIMD2(rng.unit() * s, roadTop - rng.uniform(0.01, 0.08) * s) }
    }

    func draw(_ canvas: inout Canvas, t: Float) {
        let s = size
        canvas.fillVerticalGradient([(0, skyTop), (1, skyLow)], top: 0, bottom: roadTop)
        canvas.fillPolygon(skyline, color: SceneColor(0.03, 0.03, 0.05))
        for w in windows {
            canvas.fillRect(x0: w.x, y0: w.y, x1: w.x + max(0.6, s * 0.008), y1: w.y + max(0.6, s * 0.008),
                            color: SceneColor(0.9, 0.75, 0.4), alpha: 0.6)
        }
        canvas.fillRect(x0: 0, y0: roadTop, x1: s, y1: roadBottom, color: road)
        canvas.fillRect(x0: 0, y0: roadBottom, x1: s, y1: s, color: SceneColor(0.03, 0.035, 0.03))
        let laneY = (roadTop + carY) / 2 - s * 0.01
        var x: Float = s * 0.02
        while x < s {
            canvas.fillRect(x0: x, y0: laneY, x1: x + s * 0.08, y1: laneY + max(0.7, s * 0.01), color: dash, alpha: 0.7)
            x += s * 0.16
        }
        for lx in lamps {
            canvas.fillRect(x0: lx - s * 0.006, y0: roadTop - s * 0.3, x1: lx + s * 0.006, y1: roadTop, color: SceneColor(0.12, 0.12, 0.14))
            canvas.glow(x: lx, y: roadTop - s * 0.3, radius: s * 0.03, color: SceneColor(1, 0.8, 0.5), intensity: 0.8)
            canvas.fillEllipse(x: lx, y: roadTop + s * 0.04, rx: s * 0.08, ry: s * 0.02, color: SceneColor(0.6, 0.5, 0.3),
                               alpha: 0.25, softness: s * 0.03, blend: .additive)
        }
        // The car: body, cabin, wheels; the front faces the direction of travel.
        let cx = startX + direction * speed * t
        let half = carLength / 2
        let front = cx + direction * half, back = cx - direction * half
        let bodyTop = carY - carHeight
        canvas.fillRect(x0: cx - half, y0: bodyTop, x1: cx + half, y1: carY, color: body)
        let cabinBack = cx - direction * half * 0.55, cabinFront = cx + direction * half * 0.25
        canvas.fillPolygon([SIMD2(cabinBack - direction * half * 0.1, bodyTop), SIMD2(cabinFront + direction * half * 0.2, bodyTop),
                            SIMD2(cabinFront, bodyTop - carHeight * 0.75), SIMD2(cabinBack, bodyTop - carHeight * 0.75)],
                           color: body.scaled(0.8))
        canvas.fillPolygon([SIMD2(cabinBack + direction * half * 0.05, bodyTop - 1), SIMD2(cabinFront + direction * half * 0.1, bodyTop - 1),
                            SIMD2(cabinFront - direction * half * 0.02, bodyTop - carHeight * 0.62),
                            SIMD2(cabinBack + direction * half * 0.08, bodyTop - carHeight * 0.62)],
                           color: SceneColor(0.25, 0.3, 0.38), alpha: 0.8)
        for wx in [cx - half * 0.6, cx + half * 0.6] {
            canvas.fillCircle(x: wx, y: carY, radius: carHeight * 0.42, color: SceneColor(0.02, 0.02, 0.02))
        }
        // Headlight beam on the road ahead, the lamps themselves, and the tail lights.
        let lightY = carY - carHeight * 0.6
        let reach = s * 0.45
        canvas.fillPolygon([SIMD2(front, lightY - carHeight * 0.15), SIMD2(front + direction * reach, lightY + carHeight * 0.2),
                            SIMD2(front + direction * reach, carY + carHeight * 0.9), SIMD2(front, lightY + carHeight * 0.25)],
                           color: SceneColor(1, 0.95, 0.7), alpha: 0.22, blend: .additive)
        canvas.glow(x: front, y: lightY, radius: s * 0.03, color: SceneColor(1, 0.97, 0.8), intensity: 1.4)
        canvas.fillCircle(x: front, y: lightY, radius: max(0.8, s * 0.012), color: .white)
        canvas.glow(x: back, y: lightY, radius: s * 0.018, color: SceneColor(1, 0.1, 0.05), intensity: 0.9)
    }
}
