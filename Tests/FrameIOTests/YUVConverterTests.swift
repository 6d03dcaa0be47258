import XCTest
@testable import FrameIO

/// The encoder's RGB24 -> YUV 4:2:0 converter runs 16-pixel runs in SIMD lanes and the rest in a
/// scalar loop; both must give the same bytes (the scalar loop is the reference; VideoWriterTests
/// check that one against ffprobe/ffmpeg).
final class YUVConverterTests: XCTestCase {
    private func planes(_ conv: YUVConverter, _ rgb: [UInt8]) -> [UInt8] {
        let ew = conv.encodedWidth, eh = conv.encodedHeight
        // Strides wider than the row, filled with a sentinel that must survive.
        let ys = ew + 13, cs = ew / 2 + 7
        var y = [UInt8](repeating: 0xA5, count: ys * eh)
        var u = [UInt8](repeating: 0xA5, count: cs * eh / 2)
        var v = [UInt8](repeating: 0xA5, count: cs * eh / 2)
        rgb.withUnsafeBufferPointer { src in
            y.withUnsafeMutableBufferPointer { yp in
                u.withUnsafeMutableBufferPointer { up in
                    v.withUnsafeMutableBufferPointer { vp in
                        conv.convert(packed: src.baseAddress!, y: yp.baseAddress!, yStride: ys,
                                     u: up.baseAddress!, uStride: cs, v: vp.baseAddress!, vStride: cs)
                    }
                }
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
                    var simd = YUVConverter(width: w, height: h, encodedWidth: ew, encodedHeight: eh, subsampled: true,
                                            matrix: matrix, range: range)
                    var scalar = simd
                    scalar.scalarPackedOnly = true
                    simd.scalarPackedOnly = false
                    let a = planes(simd, rgb), b = planes(scalar, rgb)
                    XCTAssertEqual(a.count, b.count)
                    let diff = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }
                    XCTAssertNil(diff, "\(w)x\(h) \(matrix) \(range): first difference at byte \(diff?.offset ?? -1)")
                }
            }
        }
    }
}
