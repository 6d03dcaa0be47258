import Foundation
import XCTest
@testable import FrameIO

/// PixelConverter against the ffmpeg CLI's own RGB -> YUV conversion of the same RGB24 frames.
final class MetricsPixelConverterTests: XCTestCase {
    /// Converts testsrc RGB frames with the CLI (`-pix_fmt <fmt>`, optionally `-vf scale=...`)
    /// and with PixelConverter; the bytes must be identical.
    private func assertMatchesCLI(width: Int, height: Int, pixelFormat: String, matrix: PixelConverter.Matrix,
                                  range: PixelConverter.Range, file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try TestUtils.makeTempDir(self)
        let rgbPath = dir.appendingPathComponent("in.rgb").path
        _ = try MetricsOracle.ffmpeg(["-f", "lavfi", "-i", "testsrc=size=\(width)x\(height):rate=10", "-frames:v", "2",
                                      "-f", "rawvideo", "-pix_fmt", "rgb24", rgbPath])
        var args = ["-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)", "-i", rgbPath]
        if matrix != .bt601 || range != .limited {
            args += ["-vf", "scale=out_color_matrix=\(matrix.rawValue):out_range=\(range == .full ? "pc" : "tv")"]
        }
        let expected = [UInt8](try MetricsOracle.ffmpeg(args + ["-f", "rawvideo", "-pix_fmt", pixelFormat, "-"]))
        let rgb = [UInt8](try Data(contentsOf: URL(fileURLWithPath: rgbPath)))
        let converter = try PixelConverter(width: width, height: height, pixelFormat: pixelFormat, matrix: matrix, range: range)
        var got = [UInt8]()
        let frameBytes = width * height * 3
        for f in 0..<(rgb.count / frameBytes) {
            let frame = try RGBFrame(width: width, height: height, packed: Array(rgb[f * frameBytes..<(f + 1) * frameBytes]))
            for plane in try converter.convert(frame).planes { got += plane.data }
        }
        XCTAssertEqual(got.count, expected.count, file: file, line: line)
        // For odd widths the CLI's last chroma column blends in bytes past the row end (the next
        // row, or memory past the frame): those samples are excluded (see PixelConverter's doc).
        let converter0 = try PixelConverter(width: width, height: height, pixelFormat: pixelFormat)
        let sizes = try converter0.convert(try RGBFrame(width: width, height: height, packed: Array(rgb[0..<width * height * 3])))
            .planes.map { ($0.width, $0.height) }
        var skip = Set<Int>()
        if width % 2 == 1 && pixelFormat == "yuv420p" {
            var offset = 0
            for _ in 0..<(rgb.count / (width * height * 3)) {
                for (p, (w, h)) in sizes.enumerated() {
                    if p > 0 { for row in 0..<h { skip.insert(offset + row * w + w - 1) } }
                    offset += w * h
                }
            }
        }
        let differing = zip(got, expected).enumerated().filter { $0.element.0 != $0.element.1 && !skip.contains($0.offset) }.count
        XCTAssertEqual(differing, 0, "\(differing) of \(got.count) samples differ", file: file, line: line)
    }

    func testYUV420BT601LimitedMatchesCLI() throws {
        try assertMatchesCLI(width: 96, height: 64, pixelFormat: "yuv420p", matrix: .bt601, range: .limited)
    }

    func testOddSizeMatchesCLI() throws {
        try assertMatchesCLI(width: 65, height: 49, pixelFormat: "yuv420p", matrix: .bt601, range: .limited)
    }

    func testBT709FullAnd444MatchCLI() throws {
        try assertMatchesCLI(width: 96, height: 64, pixelFormat: "yuv420p", matrix: .bt709, range: .full)
        try assertMatchesCLI(width: 96, height: 64, pixelFormat: "yuv444p", matrix: .bt709, range: .limited)
    }

    func testRejectsBadFormatAndSize() throws {
        XCTAssertThrowsError(try PixelConverter(width: 8, height: 8, pixelFormat: "nonsense"))
        XCTAssertThrowsError(try PixelConverter(width: 8, height: 8, pixelFormat: "rgb24"))
        let converter = try PixelConverter(width: 8, height: 8)
        XCTAssertThrowsError(try converter.convert(try RGBFrame(width: 4, height: 4, packed: .init(repeating: 0, count: 48))))
    }
}
