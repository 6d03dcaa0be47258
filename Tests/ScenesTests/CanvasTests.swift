@testable import Scenes
import XCTest

/// The rasteriser against analytic areas and blend formulas: painting white at alpha 1 on black
/// makes each pixel's red channel its coverage, so the sum is the shape's area in pixels.
final class CanvasTests: XCTestCase {
    private func area(_ canvas: Canvas) -> Float {
        stride(from: 0, to: canvas.pixels.count, by: 3).map { canvas.pixels[$0] }.reduce(0, +)
    }

    func testRectangleCoverageIsExactArea() {
        var c = Canvas(width: 6, height: 6)
        c.fillRect(x0: 1.25, y0: 0.5, x1: 3.5, y1: 2, color: .white)
        assertClose(c.color(x: 1, y: 0).r, 0.75 * 0.5, atol: 1e-6, "partial corner pixel")
        assertClose(c.color(x: 2, y: 1).r, 1, atol: 1e-6, "inner pixel")
        assertClose(c.color(x: 3, y: 1).r, 0.5, atol: 1e-6, "right edge pixel")
        assertClose(area(c), 2.25 * 1.5, atol: 1e-5, "area")
    }

    func testCircleAreaIsPiRSquared() {
        var c = Canvas(width: 64, height: 64)
        c.fillCircle(x: 31.3, y: 30.7, radius: 10, color: .white)
        assertClose(area(c), Float.pi * 100, rtol: 0.01, atol: 0, "circle area")
        XCTAssertEqual(c.color(x: 31, y: 30).r, 1)
        XCTAssertEqual(c.color(x: 45, y: 30).r, 0)
    }

    func testRotatedEllipseAreaIsPiAB() {
        var c = Canvas(width: 64, height: 64)
        c.fillEllipse(x: 32, y: 32, rx: 20, ry: 8, angle: 0.6, color: .white)
        assertClose(area(c), Float.pi * 160, rtol: 0.02, atol: 0, "ellipse area")
        // The major axis points along (cos 0.6, sin 0.6).
        let along = SIMD2<Float>(32 + 15 * cos(0.6), 32 + 15 * sin(0.6))
        let across = SIMD2<Float>(32 - 15 * sin(0.6), 32 + 15 * cos(0.6))
        XCTAssertEqual(c.color(x: Int(along.x), y: Int(along.y)).r, 1)
        XCTAssertEqual(c.color(x: Int(across.x), y: Int(across.y)).r, 0)
    }

    func testPolygonAreaMatchesShoelace() {
        // A concave (arrow-head) polygon.
        let pts: [SIMD2<Float>] = [SIMD2(3.2, 4.1), SIMD2(50.7, 10.3), SIMD2(28, 24), SIMD2(20.4, 55.5)]
        var shoelace: Float = 0
        for i in 0..<pts.count {
            let a = pts[i], b = pts[(i + 1) % pts.count]
            shoelace += a.x * b.y - b.x * a.y
        }
        var c = Canvas(width: 64, height: 64)
        c.fillPolygon(pts, color: .white)
        assertClose(area(c), abs(shoelace) / 2, rtol: 0.005, atol: 0, "polygon area")
        XCTAssertEqual(c.color(x: 40, y: 40).r, 0, "the concave notch stays empty")
    }

    func testLineAreaIsCapsule() {
        var c = Canvas(width: 64, height: 64)
        c.drawLine(from: SIMD2(10, 20.5), to: SIMD2(40, 20.5), width: 3, color: .white)
        assertClose(area(c), 30 * 3 + Float.pi * 1.5 * 1.5, rtol: 0.02, atol: 0, "capsule area")
    }

    func testLineAlphaRamp() {
        var c = Canvas(width: 64, height: 8)
        c.drawLine(from: SIMD2(2, 4), to: SIMD2(62, 4), width: 2, color: .white, alpha: 0, alphaEnd: 1)
        let left = c.color(x: 12, y: 3).r, right = c.color(x: 52, y: 3).r
        assertClose(left, (12.5 - 2) / 60, atol: 0.01, "ramp at x=12")
        assertClose(right, (52.5 - 2) / 60, atol: 0.01, "ramp at x=52")
    }

    func testGlowSumsToGaussianIntegral() {
        var c = Canvas(width: 64, height: 64)
        c.glow(x: 32, y: 32, radius: 4, color: .white, intensity: 0.5)
        // Integral of exp(-r^2/2s^2) over the plane is 2 pi s^2; the 3-sigma square keeps > 98.9 %.
        assertClose(area(c), 0.5 * 2 * Float.pi * 16, rtol: 0.012, atol: 0, "glow integral")
    }

    func testBlendModes() {
        var c = Canvas(width: 2, height: 2, background: SceneColor(0.2, 0.4, 0.6))
        c.fillRect(x0: 0, y0: 0, x1: 1, y1: 1, color: SceneColor(1, 0, 0), alpha: 0.5)
        let n = c.color(x: 0, y: 0)
        assertClose(n.r, 0.6, atol: 1e-6, "normal r")
        assertClose(n.g, 0.2, atol: 1e-6, "normal g")
        c.fillRect(x0: 1, y0: 0, x1: 2, y1: 1, color: SceneColor(1, 1, 1), alpha: 0.5, blend: .additive)
        let a = c.color(x: 1, y: 0)
        assertClose(a.r, 0.7, atol: 1e-6, "additive r")
        assertClose(a.b, 1.1, atol: 1e-6, "additive b stays unclamped while drawing")
        XCTAssertEqual(c.color(x: 1, y: 1), SceneColor(0.2, 0.4, 0.6), "untouched pixel")
    }

    func testVerticalGradientIsLinearInRowCentres() {
        var c = Canvas(width: 3, height: 10)
        c.fillVerticalGradient([(0, SceneColor(0, 0, 0)), (1, SceneColor(1, 0.5, 0))])
        for y in 0..<10 {
            assertClose(c.color(x: 1, y: y).r, (Float(y) + 0.5) / 10, atol: 1e-6, "row \(y)")
            assertClose(c.color(x: 1, y: y).g, 0.5 * (Float(y) + 0.5) / 10, atol: 1e-6, "row \(y)")
        }
    }

    func testFrameConversionClipsAndRounds() throws {
        var c = Canvas(width: 2, height: 1, background: SceneColor(1.5, -0.2, 0.5))
        c.fillRect(x0: 1, y0: 0, x1: 2, y1: 1, color: SceneColor(0.25, 0.999, 0.002))
        let frame = c.rgbFrame()
        XCTAssertEqual(frame.width, 2)
        XCTAssertEqual(frame.packedRGB, [255, 0, 128, 64, 255, 1])
    }

    func testHSV() {
        XCTAssertEqual(SceneColor(hue: 0, saturation: 1, value: 1), SceneColor(1, 0, 0))
        let g = SceneColor(hue: 1.0 / 3, saturation: 1, value: 1)
        assertClose(g.g, 1, atol: 1e-6, "green")
        assertClose(g.r, 0, atol: 1e-5, "green has no red")
        let b = SceneColor(hue: 2.0 / 3, saturation: 0.5, value: 0.8)
        assertClose(b.b, 0.8, atol: 1e-6, "blue value")
        assertClose(b.r, 0.4, atol: 1e-5, "blue at half saturation")
    }
}
