import Foundation
import XCTest
@testable import FrameIO

/// PNG stills through FFmpeg's png encoder, and contact sheets.
final class VideoReaderPNGTests: XCTestCase {
    func testPNGRoundTripsExactlyThroughFFmpeg() throws {
        let dir = try TestUtils.makeTempDir(self)
        let clip = try ReaderClips.make(dir, "c.webm", source: "mandelbrot=s=65x49:r=10,trim=end_frame=1",
                                        ["-c:v", "libvpx-vp9", "-pix_fmt", "yuv444p", "-deadline", "realtime"])
        let frame = try XCTUnwrap(try VideoReader(path: clip, options: .init(layout: .planarFloat)).nextFrame())
        let png = dir.appendingPathComponent("still.png").path
        try PNGImage.write(frame, to: png)
        // The oracle decodes it: same size, same bytes (PNG is lossless).
        let probe = try ReaderClips.probe(png)
        XCTAssertEqual(probe.stream["codec_name"] as? String, "png")
        XCTAssertEqual(probe.stream["width"] as? Int, 65)
        XCTAssertEqual(probe.stream["height"] as? Int, 49)
        let decoded = try ReaderClips.ffmpeg(["-i", png, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        XCTAssertEqual([UInt8](decoded), frame.packedRGB)
        // No temporary files left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path)
        XCTAssertEqual(names.filter { $0.hasSuffix(".tmp") }, [])
        // A missing directory is a clear error.
        let bad = dir.appendingPathComponent("missing/still.png").path
        XCTAssertThrowsError(try PNGImage.write(frame, to: bad)) { error in
            XCTAssertTrue("\(error)".contains("does not exist"), "\(error)")
            XCTAssertTrue("\(error)".hasPrefix(bad), "\(error)")
        }
    }

    func testContactSheetLayout() throws {
        func tile(_ value: UInt8) throws -> RGBFrame {
            try RGBFrame(width: 4, height: 3, packed: [UInt8](repeating: value, count: 4 * 3 * 3))
        }
        let frames = try (1...5).map { try tile(UInt8($0 * 40)) }
        let sheet = try ContactSheet(columns: 3, spacing: 1, background: [0, 0, 0]).compose(frames)
        XCTAssertEqual(sheet.width, 3 * 4 + 4)
        XCTAssertEqual(sheet.height, 2 * 3 + 3)
        let px = sheet.packedRGB
        func at(_ x: Int, _ y: Int) -> UInt8 { px[(y * sheet.width + x) * 3] }
        XCTAssertEqual(at(0, 0), 0)                // border
        XCTAssertEqual(at(1, 1), 40)               // tile 0 top-left
        XCTAssertEqual(at(4, 3), 40)               // tile 0 bottom-right
        XCTAssertEqual(at(5, 1), 0)                // gap
        XCTAssertEqual(at(6, 1), 80)               // tile 1
        XCTAssertEqual(at(11, 1), 120)             // tile 2
        XCTAssertEqual(at(1, 5), 160)              // tile 3, second row
        XCTAssertEqual(at(6, 5), 200)              // tile 4
        XCTAssertEqual(at(11, 5), 0)               // empty slot
        XCTAssertThrowsError(try ContactSheet().compose([]))
        XCTAssertThrowsError(try ContactSheet().compose([try tile(1), try RGBFrame(width: 2, height: 2, packed: [UInt8](repeating: 0, count: 12))]))
    }
}
