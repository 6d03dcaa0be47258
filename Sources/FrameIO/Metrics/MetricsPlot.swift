import Foundation

/// Draws per-frame metric curves into an `RGBFrame` (white background, grid, y-axis labels,
/// one coloured polyline per series) for writing as a PNG. A tiny rasteriser: no font beyond
/// the digits and '.' needed for the axis labels; the legend is a coloured swatch per series
/// (see `Series.color`; the CLI documents which colour is which).
public enum MetricsPlot {
    /// One curve.
    public struct Series: Sendable {
        /// Values per frame (nan and infinities are skipped).
        public var values: [Double]
        /// Line colour, RGB.
        public var color: (UInt8, UInt8, UInt8)

        /// Creates a curve.
        public init(values: [Double], color: (UInt8, UInt8, UInt8)) {
            self.values = values
            self.color = color
        }
    }

    /// Renders `series` on one chart of `width`x`height` pixels. The y range is `yRange` when
    /// given, otherwise from the finite values (rounded out to a tenth, at most 1 at the top for
    /// SSIM-like data in [0, 1]). Throws `FrameIOError.invalidArgument` for a size under 64x48.
    public static func render(_ series: [Series], width: Int = 800, height: Int = 400,
                              yRange: ClosedRange<Double>? = nil) throws -> RGBFrame {
        guard width >= 64, height >= 48 else {
            throw FrameIOError.invalidArgument("plot size must be at least 64x48, got \(width)x\(height)")
        }
        var canvas = Canvas(width: width, height: height)
        let finite = series.flatMap(\.values).filter(\.isFinite)
        var lo = yRange?.lowerBound ?? (finite.min() ?? 0)
        var hi = yRange?.upperBound ?? (finite.max() ?? 1)
        if yRange == nil {
            lo = (lo * 10).rounded(.down) / 10
            hi = (hi * 10).rounded(.up) / 10
        }
        if hi - lo < 1e-9 { lo -= 0.05; hi += 0.05 }
        // Enough decimals to tell the grid lines apart (a loss curve near 0.005 needs three).
        let decimals = min(6, max(2, Int((-log10((hi - lo) / 5)).rounded(.up))))
        let labels = (0...5).map { label(lo + (hi - lo) * Double($0) / 5, decimals: decimals) }
        let left = max(44, 8 * (labels.map(\.count).max() ?? 0) + 4), right = width - 10, top = 10, bottom = height - 20
        let frames = max(2, series.map(\.values.count).max() ?? 2)
        func px(_ i: Int) -> Int { left + Int((Double(i) / Double(frames - 1) * Double(right - left)).rounded()) }
        func py(_ v: Double) -> Int { bottom - Int(((v - lo) / (hi - lo) * Double(bottom - top)).rounded()) }
        // Grid and y labels: 5 intervals.
        for k in 0...5 {
            let v = lo + (hi - lo) * Double(k) / 5
            let y = py(v)
            canvas.line(left, y, right, y, (225, 225, 225))
            canvas.text(labels[k], x: 2, y: y - 3, (90, 90, 90))
        }
        canvas.line(left, top, left, bottom, (0, 0, 0))
        canvas.line(left, bottom, right, bottom, (0, 0, 0))
        // Frame ticks every 10% of the clip.
        for k in 0...10 {
            let x = px(Int((Double(frames - 1) * Double(k) / 10).rounded()))
            canvas.line(x, bottom, x, bottom + 4, (0, 0, 0))
        }
        // Curves, drawn 2 px thick.
        for s in series {
            var last: (Int, Int)?
            for (i, v) in s.values.enumerated() {
                guard v.isFinite else { last = nil; continue }
                let point = (px(i), py(min(max(v, lo), hi)))
                if let last {
                    canvas.line(last.0, last.1, point.0, point.1, s.color)
                    canvas.line(last.0, last.1 + 1, point.0, point.1 + 1, s.color)
                } else {
                    canvas.fill(point.0 - 1, point.1 - 1, 3, 3, s.color)
                }
                last = point
            }
        }
        // Legend swatches, top right, left to right in series order.
        for (k, s) in series.enumerated() {
            canvas.fill(right - 14 - 20 * (series.count - 1 - k), top + 4, 14, 8, s.color)
        }
        return try RGBFrame(width: width, height: height, packed: canvas.pixels)
    }

    /// A y label with `decimals` digits after the point (two for SSIM-like or dB ranges).
    static func label(_ v: Double, decimals: Int = 2) -> String {
        var scale = 1
        for _ in 0..<decimals { scale *= 10 }
        let scaled = Int((abs(v) * Double(scale)).rounded())
        let fraction = String(scaled % scale)
        let text = "\(scaled / scale)." + String(repeating: "0", count: decimals - fraction.count) + fraction
        return v < 0 && scaled != 0 ? "-" + text : text
    }

    /// A packed RGB24 drawing surface.
    struct Canvas {
        let width: Int, height: Int
        var pixels: [UInt8]

        init(width: Int, height: Int) {
            self.width = width
            self.height = height
            pixels = [UInt8](repeating: 255, count: width * height * 3)
        }

        mutating func set(_ x: Int, _ y: Int, _ c: (UInt8, UInt8, UInt8)) {
            guard x >= 0, y >= 0, x < width, y < height else { return }
            let i = (y * width + x) * 3
            pixels[i] = c.0
            pixels[i + 1] = c.1
            pixels[i + 2] = c.2
        }

        mutating func fill(_ x: Int, _ y: Int, _ w: Int, _ h: Int, _ c: (UInt8, UInt8, UInt8)) {
            for yy in y..<(y + h) { for xx in x..<(x + w) { set(xx, yy, c) } }
        }

        /// Bresenham's line from (x0, y0) to (x1, y1), both ends included.
        mutating func line(_ x0: Int, _ y0: Int, _ x1: Int, _ y1: Int, _ c: (UInt8, UInt8, UInt8)) {
            var x = x0, y = y0
            let dx = abs(x1 - x0), dy = -abs(y1 - y0)
            let sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1
            var err = dx + dy
            while true {
                set(x, y, c)
                if x == x1 && y == y1 { break }
                let e2 = 2 * err
                if e2 >= dy { err += dy; x += sx }
                if e2 <= dx { err += dx; y += sy }
            }
        }

        /// 3x5 glyphs for digits, '.' and '-', each row 3 bits (MSB left).
        static let glyphs: [Character: [UInt8]] = [
            "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7],
            "4": [5, 5, 7, 1, 1], "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 1, 1],
            "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7], ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0],
        ]

        /// Draws `text` with 3x5 glyphs scaled 2x (so 8 px per character) at (x, y) top left.
        mutating func text(_ text: String, x: Int, y: Int, _ c: (UInt8, UInt8, UInt8)) {
            var cx = x
            for ch in text {
                if let rows = Canvas.glyphs[ch] {
                    for (r, bits) in rows.enumerated() {
                        for b in 0..<3 where bits & (4 >> b) != 0 { fill(cx + 2 * b, y + 2 * r - 2, 2, 2, c) }
                    }
                }
                cx += 8
            }
        }
    }
}
