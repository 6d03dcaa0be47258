import Foundation
import XCTest
@testable import FrameIO

/// VideoReader against the ffmpeg/ffprobe CLIs: RGB conversion, planes, info, timestamps.
final class VideoReaderTests: XCTestCase {
    /// One clip per pixel format / colour tagging; RGB must equal `ffmpeg -pix_fmt rgb24`.
    struct Case {
        let name: String
        let source: String
        let encode: [String]
    }

    static let cases: [Case] = [
        Case(name: "h264_420_untagged.mp4", source: "testsrc2=s=64x48:r=24:d=0.5",
             encode: ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "6"]),
        Case(name: "vp9_444_odd.webm", source: "mandelbrot=s=65x49:r=10,trim=end_frame=5",
             encode: ["-c:v", "libvpx-vp9", "-pix_fmt", "yuv444p", "-deadline", "realtime", "-b:v", "200k"]),
        Case(name: "ffv1_420p10.mkv", source: "testsrc2=s=48x32:r=10:d=0.5",
             encode: ["-c:v", "ffv1", "-pix_fmt", "yuv420p10le"]),
        Case(name: "h264_full_range.mp4", source: "testsrc2=s=64x48:r=10:d=0.5",
             encode: ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-color_range", "pc"]),
        Case(name: "h264_bt709.mp4", source: "testsrc2=s=64x48:r=10:d=0.5",
             encode: ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-colorspace", "bt709", "-color_primaries", "bt709",
                      "-color_trc", "bt709", "-color_range", "tv"]),
        Case(name: "h264_bt601.mkv", source: "testsrc2=s=64x48:r=10:d=0.5",
             encode: ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-colorspace", "smpte170m", "-color_range", "tv"]),
        Case(name: "ffv1_bt2020_444.mkv", source: "mandelbrot=s=33x17:r=10,trim=end_frame=5",
             encode: ["-c:v", "ffv1", "-pix_fmt", "yuv444p", "-colorspace", "bt2020nc", "-color_range", "tv"]),
    ]

    func testRGBMatchesFFmpegCLI() throws {
        let dir = try TestUtils.makeTempDir(self)
        for c in Self.cases {
            let path = try ReaderClips.make(dir, c.name, source: c.source, c.encode)
            let frames = try ReaderClips.readAll(path)
            let probe = try ReaderClips.probe(path)
            let w = probe.stream["width"] as! Int, h = probe.stream["height"] as! Int
            let oracle = try ReaderClips.rawFrames(path, pixFmt: "rgb24", frameBytes: w * h * 3)
            XCTAssertEqual(frames.count, oracle.count, c.name)
            XCTAssertGreaterThan(frames.count, 0, c.name)
            for (i, (frame, expected)) in zip(frames, oracle).enumerated() {
                XCTAssertEqual(frame.width, w, c.name)
                XCTAssertEqual(frame.height, h, c.name)
                // atol 2 levels per channel (the agreed bound); same swscale path, so usually 0.
                let diff = ReaderClips.maxAbsDiff(frame.packedRGB, expected)
                XCTAssertLessThanOrEqual(diff, 2, "\(c.name) frame \(i): max abs diff \(diff)")
            }
            // Timestamps equal ffprobe's best_effort_timestamp_time (atol 1e-6 s).
            let times = try ReaderClips.frameTimes(path)
            XCTAssertEqual(times.count, frames.count, c.name)
            for (t, frame) in zip(times, frames) {
                XCTAssertEqual(frame.time ?? -1, t, accuracy: 1e-6, c.name)
            }
        }
    }

    func testUntaggedUsesBT601LikeTheCLIAndTagsChangeTheResult() throws {
        // The same pixels tagged bt709 vs untagged must convert differently (the tag is honoured),
        // and each must match the CLI (checked above); here: the two differ by more than rounding.
        let dir = try TestUtils.makeTempDir(self)
        let src = "testsrc2=s=64x48:r=10:d=0.1"
        let plain = try ReaderClips.make(dir, "plain.mkv", source: src, ["-c:v", "ffv1", "-pix_fmt", "yuv444p"])
        let tagged = try ReaderClips.make(dir, "tagged.mkv", source: src,
                                          ["-c:v", "ffv1", "-pix_fmt", "yuv444p", "-colorspace", "bt709"])
        let a = try XCTUnwrap(try VideoReader(path: plain).nextFrame())
        let b = try XCTUnwrap(try VideoReader(path: tagged).nextFrame())
        XCTAssertEqual(try VideoReader(path: plain).nextPlanes(pixelFormat: "yuv444p"),
                       try VideoReader(path: tagged).nextPlanes(pixelFormat: "yuv444p").map {
                           PlanarImage(pixelFormat: $0.pixelFormat, planes: $0.planes, time: $0.time) })
        XCTAssertGreaterThan(ReaderClips.maxAbsDiff(a.packedRGB, b.packedRGB), 5)
    }

    func testPlanarFloatLayoutAndResize() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = try ReaderClips.make(dir, "clip.mp4", source: "testsrc2=s=64x48:r=10:d=0.3",
                                        ["-c:v", "libx264", "-pix_fmt", "yuv420p"])
        let packed = try ReaderClips.readAll(path)
        let floats = try ReaderClips.readAll(path, .init(layout: .planarFloat))
        XCTAssertEqual(packed.count, floats.count)
        for (p, f) in zip(packed, floats) {
            guard case .planarFloat = f.pixels else { return XCTFail("expected planar floats") }
            // Exactly v / 127.5 - 1 of the packed bytes (atol 0).
            XCTAssertEqual(f.planarFloat, p.planarFloat)
            XCTAssertEqual(f.time, p.time)
        }
        // Resizing: equals the CLI's bicubic scale to 32x24 (atol 2 levels).
        let small = try ReaderClips.readAll(path, .init(size: .init(width: 32, height: 24)))
        let oracle = try ReaderClips.rawFrames(path, pixFmt: "rgb24", frameBytes: 32 * 24 * 3, filter: "scale=32:24")
        XCTAssertEqual(small.count, oracle.count)
        for (frame, expected) in zip(small, oracle) {
            XCTAssertEqual(frame.width, 32)
            XCTAssertLessThanOrEqual(ReaderClips.maxAbsDiff(frame.packedRGB, expected), 2)
        }
    }

    func testPlanesEqualFFmpegExactly() throws {
        let dir = try TestUtils.makeTempDir(self)
        // yuv420p source with odd size: planes copied as decoded, equal to the CLI byte for byte.
        let odd = try ReaderClips.make(dir, "odd.webm", source: "mandelbrot=s=65x49:r=10,trim=end_frame=4",
                                       ["-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p", "-deadline", "realtime"])
        let reader = try VideoReader(path: odd)
        var images: [PlanarImage] = []
        while let image = try reader.nextPlanes() { images.append(image) }
        let frameBytes = 65 * 49 + 2 * 33 * 25
        let oracle = try ReaderClips.rawFrames(odd, pixFmt: "yuv420p", frameBytes: frameBytes)
        XCTAssertEqual(images.count, oracle.count)
        XCTAssertGreaterThan(images.count, 0)
        for (image, expected) in zip(images, oracle) {
            XCTAssertEqual(image.planes.map { [$0.width, $0.height] }, [[65, 49], [33, 25], [33, 25]])
            XCTAssertEqual(image.planes.flatMap { $0.data }, expected)
        }
        // yuv444p source asked for yuv420p: swscale with the CLI's settings, equal to the CLI.
        let full = try ReaderClips.make(dir, "full.mkv", source: "testsrc2=s=64x48:r=10:d=0.3",
                                        ["-c:v", "ffv1", "-pix_fmt", "yuv444p"])
        let r2 = try VideoReader(path: full)
        let oracle2 = try ReaderClips.rawFrames(full, pixFmt: "yuv420p", frameBytes: 64 * 48 * 3 / 2)
        var n = 0
        while let image = try r2.nextPlanes(pixelFormat: "yuv420p") {
            XCTAssertLessThanOrEqual(ReaderClips.maxAbsDiff(image.planes.flatMap { $0.data }, oracle2[n]), 0)
            n += 1
        }
        XCTAssertEqual(n, oracle2.count)
        XCTAssertThrowsError(try VideoReader(path: full).nextPlanes(pixelFormat: "rgb24")) { error in
            XCTAssertTrue("\(error)".contains("not an 8-bit planar format"), "\(error)")
        }
        XCTAssertThrowsError(try VideoReader(path: full).nextPlanes(pixelFormat: "nonsense")) { error in
            XCTAssertTrue("\(error)".contains("unknown pixel format"), "\(error)")
        }
    }

    func testInfoMatchesFFprobe() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = try ReaderClips.make(dir, "tagged.mp4", source: "testsrc2=s=64x48:r=24:d=1",
                                        ["-f", "lavfi", "-i", "sine=d=1", "-c:v", "libx264", "-pix_fmt", "yuv420p",
                                         "-colorspace", "bt709", "-color_primaries", "bt709", "-color_trc", "bt709",
                                         "-color_range", "tv", "-c:a", "aac", "-metadata", "title=hello"])
        let info = try VideoReader(path: path).info
        let (stream, format) = try ReaderClips.probe(path)
        XCTAssertEqual(info.formatName, format["format_name"] as? String)
        XCTAssertEqual(info.codecName, stream["codec_name"] as? String)
        XCTAssertEqual(info.width, stream["width"] as? Int)
        XCTAssertEqual(info.height, stream["height"] as? Int)
        XCTAssertEqual(info.pixelFormat, stream["pix_fmt"] as? String)
        XCTAssertEqual(info.frameRate?.description, (stream["r_frame_rate"] as? String).map { $0.hasSuffix("/1") ? String($0.dropLast(2)) : $0 })
        XCTAssertEqual(info.timeBase.description.replacingOccurrences(of: "/", with: ""),
                       (stream["time_base"] as? String)?.replacingOccurrences(of: "/", with: ""))
        XCTAssertEqual(info.duration ?? -1, Double(stream["duration"] as! String)!, accuracy: 1e-6)
        XCTAssertEqual(info.frameCount, Int(stream["nb_frames"] as! String))
        XCTAssertEqual(info.bitRate, Int(stream["bit_rate"] as! String))
        XCTAssertEqual(info.colorSpace, stream["color_space"] as? String)
        XCTAssertEqual(info.colorRange, stream["color_range"] as? String)
        XCTAssertEqual(info.colorPrimaries, stream["color_primaries"] as? String)
        XCTAssertEqual(info.colorTransfer, stream["color_transfer"] as? String)
        XCTAssertEqual(info.startTime ?? -1, Double(stream["start_time"] as! String)!, accuracy: 1e-6)
        XCTAssertTrue(info.hasAudio)
        XCTAssertEqual(info.metadata["title"], "hello")
        XCTAssertEqual(info.colorSpace, "bt709")
        XCTAssertEqual(info.colorRange, "tv")

        // Untagged, no audio, Matroska (no per-stream duration: the container's is used).
        let plain = try ReaderClips.make(dir, "plain.mkv", source: "testsrc2=s=32x32:r=10:d=1",
                                         ["-c:v", "ffv1"])
        let plainInfo = try VideoReader(path: plain).info
        let (_, plainFormat) = try ReaderClips.probe(plain)
        XCTAssertNil(plainInfo.colorSpace)
        XCTAssertNil(plainInfo.colorRange)
        XCTAssertFalse(plainInfo.hasAudio)
        XCTAssertEqual(plainInfo.duration ?? -1, Double(plainFormat["duration"] as! String)!, accuracy: 1e-6)
        XCTAssertEqual(plainInfo.frameRate, Rational(10, 1))
        // Codable round trip.
        let decoded = try JSONDecoder().decode(VideoInfo.self, from: JSONEncoder().encode(info))
        XCTAssertEqual(decoded, info)
    }
}
