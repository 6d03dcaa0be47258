import Foundation

/// One family's scene: its layout, palette and motion are sampled once from the clip's RNG in
/// `init`; `draw` is then a pure function of the frame time, which keeps motion coherent.
protocol SceneGenerator {
    /// Amplitude of the per-frame luma grain added after drawing (0 = none).
    var grain: Float { get }
    /// Draws the frame at time `t` (the 0-based frame index) onto a cleared canvas.
    func draw(_ canvas: inout Canvas, t: Float)
}

/// Samples the scene for `family`. `size` is the frame side in pixels; `frames` the clip length.
func makeGenerator(_ family: SceneFamily, size: Float, frames: Int, attributes: SceneAttributes,
                   rng: inout SceneRNG) -> SceneGenerator {
    let n = Float(frames)
    switch family {
    case .city: return CityScene(size: size, rng: &rng)
    case .sunset: return SunsetScene(size: size, rng: &rng)
    case .snow: return SnowScene(size: size, rng: &rng)
    case .fireworks: return FireworksScene(size: size, frames: n, rng: &rng)
    case .ball: return BallScene(size: size, color: attributes.ballColor ?? .red, rng: &rng)
    case .clouds: return CloudsScene(size: size, direction: attributes.direction ?? .right, rng: &rng)
    case .storm: return StormScene(size: size, frames: n, rng: &rng)
    case .stars: return StarsScene(size: size, frames: n, rng: &rng)
    case .campfire: return CampfireScene(size: size, rng: &rng)
    case .underwater: return UnderwaterScene(size: size, rng: &rng)
    case .car: return CarScene(size: size, frames: n, direction: attributes.direction ?? .right, rng: &rng)
    case .aurora: return AuroraScene(size: size, rng: &rng)
    case .leaves: return LeavesScene(size: size, rng: &rng)
    case .sunrise: return SunriseScene(size: size, frames: n, rng: &rng)
    }
}

/// `value` wrapped into `[0, period)`.
@inline(__always)
func wrap(_ value: Float, _ period: Float) -> Float {
    let r = value.truncatingRemainder(dividingBy: period)
    return r < 0 ? r + period : r
}

/// A colour with each channel jittered by up to `amount` (uniform, symmetric).
func jitter(_ color: SceneColor, _ amount: Float, _ rng: inout SceneRNG) -> SceneColor {
    SceneColor(max(0, color.r + rng.uniform(-amount, amount)),
               max(0, color.g + rng.uniform(-amount, amount)),
               max(0, color.b + rng.uniform(-amount, amount)))
}

/// A ridge line across the frame (x from 0 to `width`) closed down to `bottom`: `base` is its
/// mean height (y, pixels); `roughness` the amplitude of its bumps. `jagged` gives sharp peaks
/// (mountains), otherwise rolling hills.
func ridgePolygon(width: Float, bottom: Float, base: Float, roughness: Float, jagged: Bool,
                  rng: inout SceneRNG) -> [SIMD2<Float>] {
    var points: [SIMD2<Float>] = [SIMD2(-1, bottom + 1)]
    if jagged {
        var x: Float = -width * 0.05
        var high = rng.chance(0.5)
        while x < width * 1.05 {
            let y = base + (high ? -1 : 1) * roughness * rng.uniform(0.3, 1)
            points.append(SIMD2(x, y))
            x += width * rng.uniform(0.06, 0.16)
            high.toggle()
        }
        points.append(SIMD2(x, base))
    } else {
        let f1 = rng.uniform(1, 3), f2 = rng.uniform(3, 7)
        let p1 = rng.uniform(0, 6.28), p2 = rng.uniform(0, 6.28)
        let steps = 32
        for i in 0...steps {
            let u = Float(i) / Float(steps)
            let y = base + roughness * (0.7 * sin(u * f1 * 6.28 + p1) + 0.3 * sin(u * f2 * 6.28 + p2))
            points.append(SIMD2(u * (width + 2) - 1, y))
        }
    }
    points.append(SIMD2(width + 1, bottom + 1))
    return points
}

/// The y of a `ridgePolygon`'s top edge at `x` (linear between its vertices).
func ridgeHeight(_ ridge: [SIMD2<Float>], at x: Float) -> Float {
    let top = ridge.dropFirst().dropLast()
    var previous = top.first!
    for p in top.dropFirst() {
        if p.x >= x {
            let span = p.x - previous.x
            return span > 0 ? previous.y + (p.y - previous.y) * (x - previous.x) / span : p.y
        }
        previous = p
    }
    return previous.y
}

/// A pine tree silhouette: a trunk and `tiers` stacked triangles, base at `(x, groundY)`.
func drawPine(_ canvas: inout Canvas, x: Float, groundY: Float, height h: Float, color: SceneColor, tiers: Int = 3) {
    let trunkW = h * 0.07
    canvas.fillRect(x0: x - trunkW / 2, y0: groundY - h * 0.2, x1: x + trunkW / 2, y1: groundY, color: color.scaled(0.8))
    for k in 0..<tiers {
        let f = Float(k) / Float(tiers)
        let baseY = groundY - h * (0.12 + 0.26 * f)
        let topY = baseY - h * 0.45
        let halfW = h * (0.3 - 0.07 * f)
        canvas.fillPolygon([SIMD2(x - halfW, baseY), SIMD2(x + halfW, baseY), SIMD2(x, topY)], color: color)
    }
}
