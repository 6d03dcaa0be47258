import FrameIO
import Foundation

/// How a shape's colour combines with what is already on the canvas.
public enum SceneBlend: Sendable {
    /// Alpha compositing: `dst + (src - dst) * alpha * coverage`.
    case normal
    /// Light adds up: `dst + src * alpha * coverage` (glows, sparks, neon, flashes).
    case additive
}

/// A small anti-aliased software rasteriser over a Float RGB image.
///
/// Coordinates are in pixels with the origin at the top-left corner; pixel `(x, y)` covers
/// `[x, x+1) x [y, y+1)` and is sampled at its centre. Edges are anti-aliased by exact area
/// coverage (rectangles), 4 sub-scanlines with exact horizontal coverage (polygons) or a signed
/// distance ramp (circles, ellipses, lines). Channels are kept unclamped while drawing (additive
/// light may exceed 1) and clipped to 0...1 by `rgbFrame()`.
public struct Canvas: Sendable {
    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// `width * height * 3` values, row-major, R G B interleaved.
    public private(set) var pixels: [Float]

    /// A canvas filled with `background`. `width` and `height` must be positive.
    public init(width: Int, height: Int, background: SceneColor = .black) {
        precondition(width > 0 && height > 0, "Canvas size must be positive, got \(width)x\(height)")
        self.width = width
        self.height = height
        pixels = [Float](repeating: 0, count: width * height * 3)
        fill(background)
    }

    /// The colour at pixel `(x, y)` (unclamped).
    public func color(x: Int, y: Int) -> SceneColor {
        let i = (y * width + x) * 3
        return SceneColor(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Paints every pixel `color`.
    public mutating func fill(_ color: SceneColor) {
        pixels.withUnsafeMutableBufferPointer { p in
            var i = 0
            while i < p.count {
                p[i] = color.r
                p[i + 1] = color.g
                p[i + 2] = color.b
                i += 3
            }
        }
    }

    /// Paints rows `top..<bottom` (pixels; default the whole canvas) with a vertical gradient.
    /// `stops` are `(position, colour)` pairs with positions in 0...1 from `top` to `bottom`,
    /// in increasing order; colours are interpolated linearly between stops and held beyond them.
    public mutating func fillVerticalGradient(_ stops: [(position: Float, color: SceneColor)],
                                              top: Float = 0, bottom: Float? = nil,
                                              alpha: Float = 1) {
        precondition(!stops.isEmpty, "fillVerticalGradient needs at least one stop")
        let bottom = bottom ?? Float(height)
        let y0 = max(0, Int(top.rounded(.down))), y1 = min(height, Int(bottom.rounded(.up)))
        guard y1 > y0, bottom > top else { return }
        let w = width
        pixels.withUnsafeMutableBufferPointer { p in
            for y in y0..<y1 {
                let t = (Float(y) + 0.5 - top) / (bottom - top)
                let c = Canvas.interpolate(stops, t)
                // Rows cut by `top`/`bottom` get fractional coverage.
                let cover = min(Float(y + 1), bottom) - max(Float(y), top)
                let a = alpha * min(1, max(0, cover))
                var i = y * w * 3
                for _ in 0..<w {
                    p[i] += (c.r - p[i]) * a
                    p[i + 1] += (c.g - p[i + 1]) * a
                    p[i + 2] += (c.b - p[i + 2]) * a
                    i += 3
                }
            }
        }
    }

    /// Paints the whole canvas with a radial gradient: `inner` at `(x, y)`, `outer` from
    /// `radius` pixels on, linear in between, composited with `alpha`.
    public mutating func fillRadialGradient(x: Float, y: Float, radius: Float,
                                            inner: SceneColor, outer: SceneColor, alpha: Float = 1) {
        let r = max(radius, 1e-3)
        shade(x0: 0, y0: 0, x1: width, y1: height, color: .black, alpha: alpha, blend: .normal) { _, _ in 1 } colorAt: { px, py in
            let dx = Float(px) + 0.5 - x, dy = Float(py) + 0.5 - y
            let t = min(1, (dx * dx + dy * dy).squareRoot() / r)
            return inner.mix(outer, t)
        }
    }

    /// A filled circle of `radius` pixels centred at `(x, y)`. `softness` is the width in
    /// pixels of the edge ramp (1 = crisp anti-aliasing; larger = blurred edge).
    public mutating func fillCircle(x: Float, y: Float, radius: Float, color: SceneColor,
                                    alpha: Float = 1, softness: Float = 1, blend: SceneBlend = .normal) {
        let soft = max(softness, 0.5)
        let reach = radius + soft
        let inv = 1 / soft
        shade(x0: Int((x - reach).rounded(.down)), y0: Int((y - reach).rounded(.down)),
              x1: Int((x + reach).rounded(.up)) + 1, y1: Int((y + reach).rounded(.up)) + 1,
              color: color, alpha: alpha, blend: blend) { px, py in
            let dx = Float(px) + 0.5 - x, dy = Float(py) + 0.5 - y
            let d = (dx * dx + dy * dy).squareRoot()
            return (radius - d) * inv + 0.5
        }
    }

    /// A filled ellipse centred at `(x, y)` with semi-axes `rx`, `ry` (pixels), rotated by
    /// `angle` radians (clockwise on screen, y points down); `softness` as in `fillCircle`.
    public mutating func fillEllipse(x: Float, y: Float, rx: Float, ry: Float, angle: Float = 0,
                                     color: SceneColor, alpha: Float = 1, softness: Float = 1,
                                     blend: SceneBlend = .normal) {
        let rx = max(rx, 1e-3), ry = max(ry, 1e-3)
        let soft = max(softness, 0.5)
        let reach = max(rx, ry) + soft
        let c = Float(cos(Double(angle))), s = Float(sin(Double(angle)))
        let inv = 1 / soft
        shade(x0: Int((x - reach).rounded(.down)), y0: Int((y - reach).rounded(.down)),
              x1: Int((x + reach).rounded(.up)) + 1, y1: Int((y + reach).rounded(.up)) + 1,
              color: color, alpha: alpha, blend: blend) { px, py in
            let dx = Float(px) + 0.5 - x, dy = Float(py) + 0.5 - y
            let u = (dx * c + dy * s) / rx, v = (-dx * s + dy * c) / ry
            let k = (u * u + v * v).squareRoot()
            let len = (dx * dx + dy * dy).squareRoot()
            // Distance to the boundary along the ray from the centre (exact for circles).
            let outside = k > 1e-6 ? (k - 1) * len / k : -min(rx, ry)
            return -outside * inv + 0.5
        }
    }

    /// An axis-aligned rectangle `[x0, x1) x [y0, y1)` in pixels, with exact area coverage on
    /// its edges.
    public mutating func fillRect(x0: Float, y0: Float, x1: Float, y1: Float, color: SceneColor,
                                  alpha: Float = 1, blend: SceneBlend = .normal) {
        guard x1 > x0, y1 > y0 else { return }
        shade(x0: Int(x0.rounded(.down)), y0: Int(y0.rounded(.down)),
              x1: Int(x1.rounded(.up)), y1: Int(y1.rounded(.up)),
              color: color, alpha: alpha, blend: blend) { px, py in
            let fx = Float(px), fy = Float(py)
            let cx = min(fx + 1, x1) - max(fx, x0)
            let cy = min(fy + 1, y1) - max(fy, y0)
            return max(0, cx) * max(0, cy)
        }
    }

    /// A filled polygon (even-odd rule, any number of vertices, closed implicitly). Coverage is
    /// computed on 4 sub-scanlines per row, each with exact horizontal span coverage.
    public mutating func fillPolygon(_ points: [SIMD2<Float>], color: SceneColor, alpha: Float = 1,
                                     blend: SceneBlend = .normal) {
        guard points.count >= 3 else { return }
        var minY = Float.infinity, maxY = -Float.infinity
        for p in points {
            minY = min(minY, p.y)
            maxY = max(maxY, p.y)
        }
        let y0 = max(0, Int(minY.rounded(.down))), y1 = min(height, Int(maxY.rounded(.up)))
        guard y1 > y0 else { return }
        let w = width
        let subRows = 4
        let weight = 1 / Float(subRows)
        var coverage = [Float](repeating: 0, count: w)
        var crossings: [Float] = []
        crossings.reserveCapacity(16)
        for y in y0..<y1 {
            for k in 0..<w { coverage[k] = 0 }
            var touched = false
            var lo = w, hi = 0
            for s in 0..<subRows {
                let ys = Float(y) + (Float(s) + 0.5) * weight
                crossings.removeAll(keepingCapacity: true)
                var j = points.count - 1
                for i in 0..<points.count {
                    let a = points[j], b = points[i]
                    if (a.y <= ys) != (b.y <= ys) {
                        crossings.append(a.x + (ys - a.y) * (b.x - a.x) / (b.y - a.y))
                    }
                    j = i
                }
                if crossings.count < 2 { continue }
                crossings.sort()
                var c = 0
                while c + 1 < crossings.count {
                    let xa = max(0, crossings[c]), xb = min(Float(w), crossings[c + 1])
                    c += 2
                    if xb <= xa { continue }
                    let pa = Int(xa.rounded(.down)), pb = min(w - 1, Int(xb.rounded(.up)) - 1)
                    if pa > pb { continue }
                    touched = true
                    lo = min(lo, pa)
                    hi = max(hi, pb)
                    for px in pa...pb {
                        let overlap = min(Float(px + 1), xb) - max(Float(px), xa)
                        if overlap > 0 { coverage[px] += overlap * weight }
                    }
                }
            }
            if !touched { continue }
            let row = coverage
            shade(x0: lo, y0: y, x1: hi + 1, y1: y + 1, color: color, alpha: alpha, blend: blend) { px, _ in
                row[px]
            }
        }
    }

    /// A line segment of `width` pixels with round caps (a streak). The opacity ramps linearly
    /// from `alpha` at `from` to `alphaEnd` (default `alpha`) at `to`, which draws fading tails.
    public mutating func drawLine(from a: SIMD2<Float>, to b: SIMD2<Float>, width lineWidth: Float,
                                  color: SceneColor, alpha: Float = 1, alphaEnd: Float? = nil,
                                  blend: SceneBlend = .normal) {
        // Lines thinner than a pixel are drawn one pixel wide at proportionally lower opacity.
        let half = max(lineWidth, 1) / 2
        let thin = min(lineWidth, 1)
        let endAlpha = (alphaEnd ?? alpha) * thin
        let startAlpha = alpha * thin
        let ab = b - a
        let len2 = max((ab * ab).sum(), 1e-6)
        let reach = half + 1
        shade(x0: Int((min(a.x, b.x) - reach).rounded(.down)), y0: Int((min(a.y, b.y) - reach).rounded(.down)),
              x1: Int((max(a.x, b.x) + reach).rounded(.up)) + 1, y1: Int((max(a.y, b.y) + reach).rounded(.up)) + 1,
              color: color, alpha: 1, blend: blend) { px, py in
            let p = SIMD2<Float>(Float(px) + 0.5, Float(py) + 0.5) - a
            let t = min(1, max(0, (p * ab).sum() / len2))
            let d = p - ab * t
            let dist = (d * d).sum().squareRoot()
            let cov = min(1, max(0, half - dist + 0.5))
            return cov * (startAlpha + (endAlpha - startAlpha) * t)
        }
    }

    /// Additive Gaussian light: adds `color * intensity * exp(-d^2 / (2 radius^2))` within
    /// three `radius` of `(x, y)`.
    public mutating func glow(x: Float, y: Float, radius: Float, color: SceneColor, intensity: Float = 1) {
        let sigma = max(radius, 0.3)
        let reach = 3 * sigma
        let k = -1 / (2 * sigma * sigma)
        shade(x0: Int((x - reach).rounded(.down)), y0: Int((y - reach).rounded(.down)),
              x1: Int((x + reach).rounded(.up)) + 1, y1: Int((y + reach).rounded(.up)) + 1,
              color: color, alpha: intensity, blend: .additive) { px, py in
            let dx = Float(px) + 0.5 - x, dy = Float(py) + 0.5 - y
            return Float(exp(Double((dx * dx + dy * dy) * k)))
        }
    }

    /// Adds the same uniform random offset in `[-amount/2, amount/2)` to the three channels of
    /// each pixel (film grain), drawn from `rng`.
    public mutating func addNoise(amount: Float, rng: inout SceneRNG) {
        pixels.withUnsafeMutableBufferPointer { p in
            var i = 0
            while i < p.count {
                let n = (rng.unit() - 0.5) * amount
                p[i] += n
                p[i + 1] += n
                p[i + 2] += n
                i += 3
            }
        }
    }

    /// Multiplies every channel by `factor` (fades, darkening).
    public mutating func scale(by factor: Float) {
        pixels.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count { p[i] *= factor }
        }
    }

    /// The canvas as a packed RGB24 frame: each channel clipped to 0...1, times 255, rounded.
    public func rgbFrame() -> RGBFrame {
        var bytes = [UInt8](repeating: 0, count: pixels.count)
        pixels.withUnsafeBufferPointer { src in
            bytes.withUnsafeMutableBufferPointer { dst in
                for i in 0..<src.count {
                    let v = src[i] * 255
                    dst[i] = UInt8(v < 0 ? 0 : (v > 255 ? 255 : v.rounded()))
                }
            }
        }
        // The byte count matches width * height * 3 and both are positive by construction.
        return try! RGBFrame(width: width, height: height, packed: bytes)
    }

    // MARK: - Internals

    static func interpolate(_ stops: [(position: Float, color: SceneColor)], _ t: Float) -> SceneColor {
        if t <= stops[0].position { return stops[0].color }
        for i in 1..<stops.count where t <= stops[i].position {
            let a = stops[i - 1], b = stops[i]
            let span = b.position - a.position
            return span > 0 ? a.color.mix(b.color, (t - a.position) / span) : b.color
        }
        return stops[stops.count - 1].color
    }

    /// Blends a uniform `color` over the pixels of `[x0, x1) x [y0, y1)` (clipped to the
    /// canvas), weighted by `alpha * clamp(coverage(x, y), 0, 1)`.
    @inline(__always)
    private mutating func shade(x0: Int, y0: Int, x1: Int, y1: Int, color: SceneColor, alpha: Float,
                                blend: SceneBlend, coverage: (Int, Int) -> Float) {
        shade(x0: x0, y0: y0, x1: x1, y1: y1, color: color, alpha: alpha, blend: blend,
              coverage: coverage, colorAt: nil)
    }

    @inline(__always)
    private mutating func shade(x0: Int, y0: Int, x1: Int, y1: Int, color: SceneColor, alpha: Float,
                                blend: SceneBlend, coverage: (Int, Int) -> Float,
                                colorAt: ((Int, Int) -> SceneColor)?) {
        let xa = max(0, x0), xb = min(width, x1), ya = max(0, y0), yb = min(height, y1)
        guard xa < xb, ya < yb, alpha > 0 else { return }
        let w = width
        pixels.withUnsafeMutableBufferPointer { p in
            for y in ya..<yb {
                var i = (y * w + xa) * 3
                for x in xa..<xb {
                    defer { i += 3 }
                    var cov = coverage(x, y)
                    if cov <= 0 { continue }
                    if cov > 1 { cov = 1 }
                    let a = cov * alpha
                    let c = colorAt?(x, y) ?? color
                    switch blend {
                    case .normal:
                        p[i] += (c.r - p[i]) * a
                        p[i + 1] += (c.g - p[i + 1]) * a
                        p[i + 2] += (c.b - p[i + 2]) * a
                    case .additive:
                        p[i] += c.r * a
                        p[i + 1] += c.g * a
                        p[i + 2] += c.b * a
                    }
                }
            }
        }
    }
}
