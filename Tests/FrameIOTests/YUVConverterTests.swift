import XCTest
@testable import FrameIO

/// The encoder's RGB24 -> YUV 4:2:0 converter runs SIMD lanes and scalar loops; both must give the
/// same bytes, and those bytes must equal the filter's definition computed in Double here
/// (VideoWriterTests check the whole writer against ffprobe/ffmpeg).
final class YUVConverterTests: XCTestCase {
    private func planes(_ conv: YUVConverter, _ rgb: [UInt8]) -> [UInt8] {
        planes(conv) { y, ys, u, us, v, vs in
            rgb.withUnsafeBufferPointer { conv.convert(packed: $0.baseAddress!, y: y, yStride: ys, u: u, uStride: us, v: v, vStride: vs) }
        }
    }

    private func planes(_ conv: YUVConverter, planar: [Float]) -> [UInt8] {
        planes(conv) { y, ys, u, us, v, vs in
            planar.withUnsafeBufferPointer { conv.convert(planar: $0.baseAddress!, y: y, yStride: ys, u: u, uStride: us, v: v, vStride: vs) }
        }
    }

    private func planes(_ conv: YUVConverter, _ run: (UnsafeMutablePointer<UInt8>, Int, UnsafeMutablePointer<UInt8>, Int,
                                                      UnsafeMutablePointer<UInt8>, Int) -> Void) -> [UInt8] {
        let ew = conv.encodedWidth, eh = conv.encodedHeight
        // Strides wider than the row, filled with a sentinel that must survive.
        let ys = ew + 13, cs = ew / 2 + 7
        var y = [UInt8](repeating: 0xA5, count: ys * eh)
        var u = [UInt8](repeating: 0xA5, count: cs * eh / 2)
        var v = [UInt8](repeating: 0xA5, count: cs * eh / 2)
        y.withUnsafeMutableBufferPointer { yp in
            u.withUnsafeMutableBufferPointer { up in
                v.withUnsafeMutableBufferPointer { vp in run(yp.baseAddress!, ys, up.baseAddress!, cs, vp.baseAddress!, cs) }
            }
        }
        return y + u + v
    }

    func testSIMDRunsMatchScalarLoop() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        // Widths below, at and across the 16-pixel run; odd sizes padded to even.
        let sizes = [(16, 2), (17, 3), (32, 32), (33, 9), (48, 4), (64, 64), (95, 7), (130, 5), (256, 6)]
        for (w, h) in sizes {
            var rgb = (0..<(w * h * 3)).map { _ in next() }
            // Extremes: the clamps must bite in both paths.
            for i in stride(from: 0, to: min(rgb.count, 48), by: 1) { rgb[i] = i % 2 == 0 ? 0 : 255 }
            for matrix in VideoWriter.ColourMatrix.allCases {
                for range in VideoWriter.ColourRange.allCases {
                    let ew = w + w % 2, eh = h + h % 2
                    for filter in VideoWriter.ChromaFilter.allCases {
                        var simd = YUVConverter(width: w, height: h, encodedWidth: ew, encodedHeight: eh, subsampled: true,
                                                matrix: matrix, range: range, chromaFilter: filter)
                        var scalar = simd
                        scalar.scalarPackedOnly = true
                        simd.scalarPackedOnly = false
                        let a = planes(simd, rgb), b = planes(scalar, rgb)
                        let what = "\(w)x\(h) \(matrix) \(range) \(filter)"
                        XCTAssertEqual(a.count, b.count)
                        let diff = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }
                        XCTAssertNil(diff, "\(what): SIMD and scalar differ first at byte \(diff?.offset ?? -1)")
                        // Against the definition, rounded from Double: exact but for ties at .5.
                        let ref = Self.reference(rgb, w, h, matrix, range, filter)
                        let worst = zip(a, ref).map { abs(Int($0.0) - Int($0.1)) }.max() ?? 0
                        XCTAssertLessThanOrEqual(worst, 1, "\(what): off the Double reference by \(worst)")
                        let exact = zip(a, ref).filter { $0.0 == $0.1 }.count
                        XCTAssertGreaterThan(Double(exact) / Double(a.count), 0.99, "\(what): too many rounding differences")
                    }
                }
            }
        }
    }

    /// The planar Float path applies the same filter; it rounds in Float, so it may differ by one
    /// level from the packed path on ties, never more.
    func testPlanarInputMatchesPackedWithinOneLevel() throws {
        let (w, h) = (37, 11)
        var state: UInt64 = 42
        let rgb: [UInt8] = (0..<(w * h * 3)).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 56)
        }
        var planar = [Float](repeating: 0, count: w * h * 3)
        for i in 0..<(w * h) { for c in 0..<3 { planar[c * w * h + i] = Float(rgb[i * 3 + c]) / 127.5 - 1 } }
        for filter in VideoWriter.ChromaFilter.allCases {
            let conv = YUVConverter(width: w, height: h, encodedWidth: w + 1, encodedHeight: h + 1, subsampled: true,
                                    matrix: .bt709, range: .limited, chromaFilter: filter)
            let a = planes(conv, rgb), b = planes(conv, planar: planar)
            let worst = zip(a, b).map { abs(Int($0.0) - Int($0.1)) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1, "\(filter)")
        }
    }

    /// The definition: Y per pixel; Cb/Cr from RGB filtered by [o i i o]/8 in each direction about
    /// each 2x2 block's centre, taps past the edges (and padding) repeating the last column/row.
    /// Same layout as `planes` (sentinel-filled stride padding included).
    static func reference(_ rgb: [UInt8], _ w: Int, _ h: Int, _ matrix: VideoWriter.ColourMatrix,
                          _ range: VideoWriter.ColourRange, _ filter: VideoWriter.ChromaFilter) -> [UInt8] {
        let ew = w + w % 2, eh = h + h % 2, ys = ew + 13, cs = ew / 2 + 7
        let (kr, kb) = matrix == .bt709 ? (0.2126, 0.0722) : (0.299, 0.114)
        let kg = 1 - kr - kb
        let limited = range == .limited
        let (ysc, csc, yoff) = limited ? (219.0 / 255, 224.0 / 255, 16.0) : (1.0, 1.0, 0.0)
        let (yLo, yHi, cLo, cHi) = limited ? (16.0, 235.0, 16.0, 240.0) : (0.0, 255.0, 0.0, 255.0)
        let taps = filter == .bilinear ? [1.0, 3, 3, 1].map { $0 / 8 } : [0.0, 0.5, 0.5, 0]
        func px(_ x: Int, _ y: Int, _ c: Int) -> Double { Double(rgb[(min(max(y, 0), h - 1) * w + min(max(x, 0), w - 1)) * 3 + c]) }
        func q(_ v: Double, _ lo: Double, _ hi: Double) -> UInt8 { UInt8(min(max((v).rounded(.toNearestOrAwayFromZero), lo), hi)) }
        var y = [UInt8](repeating: 0xA5, count: ys * eh)
        var u = [UInt8](repeating: 0xA5, count: cs * eh / 2)
        var v = [UInt8](repeating: 0xA5, count: cs * eh / 2)
        for row in 0..<eh {
            for x in 0..<ew {
                let lum = kr * px(x, row, 0) + kg * px(x, row, 1) + kb * px(x, row, 2)
                y[row * ys + x] = q(yoff + ysc * lum, yLo, yHi)
            }
        }
        for cy in 0..<(eh / 2) {
            for cx in 0..<(ew / 2) {
                var s = [0.0, 0, 0]
                for j in 0..<4 { for i in 0..<4 { for c in 0..<3 { s[c] += taps[j] * taps[i] * px(2 * cx - 1 + i, 2 * cy - 1 + j, c) } } }
                let lum = kr * s[0] + kg * s[1] + kb * s[2]
                u[cy * cs + cx] = q(128 + csc * (s[2] - lum) / (2 * (1 - kb)), cLo, cHi)
                v[cy * cs + cx] = q(128 + csc * (s[0] - lum) / (2 * (1 - kr)), cLo, cHi)
            }
        }
        return y + u + v
    }
}
