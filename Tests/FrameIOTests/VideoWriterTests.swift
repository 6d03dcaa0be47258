import FrameIO
import Foundation
import XCTest

/// Helpers for the writer tests: a synthetic moving pattern, and the ffprobe/ffmpeg CLIs as
/// oracles (probe the output, decode it back to rgb24).
enum WriterOracle {
    /// A smooth moving pattern (sine gradients and a drifting soft blob), packed RGB24. Smooth so
    /// that 4:2:0 chroma subsampling alone does not limit PSNR.
    static func pattern(width: Int, height: Int, frame t: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: width * height * 3)
        let cx = Double(width) * (0.3 + 0.03 * Double(t)), cy = Double(height) * 0.5
        for y in 0..<height {
            for x in 0..<width {
                let fx = Double(x) / Double(width), fy = Double(y) / Double(height)
                let dx = Double(x) - cx, dy = Double(y) - cy
                let blob = 90 * exp(-(dx * dx + dy * dy) / (2 * 12 * 12))
                let r = 120 + 80 * sin(2 * .pi * (fx + 0.05 * Double(t))) + blob * 0.5
                let g = 128 + 70 * cos(2 * .pi * fy + 0.3 * Double(t))
                let b = 110 + 60 * sin(2 * .pi * (fx + fy) * 0.7) + blob
                let i = (y * width + x) * 3
                out[i] = UInt8(max(0, min(255, r.rounded())))
                out[i + 1] = UInt8(max(0, min(255, g.rounded())))
                out[i + 2] = UInt8(max(0, min(255, b.rounded())))
            }
        }
        return out
    }

    /// `count` frames of the pattern.
    static func frames(width: Int, height: Int, count: Int) throws -> [RGBFrame] {
        try (0..<count).map { try RGBFrame(width: width, height: height, packed: pattern(width: width, height: height, frame: $0)) }
    }

    /// Writes `frames` with a writer and returns its result.
    static func encode(_ frames: [RGBFrame], to path: String, options: VideoWriter.Options = .init()) throws -> VideoWriter.Result {
        try withVideoWriter(path: path, width: frames[0].width, height: frames[0].height, options: options) { writer in
            for frame in frames { try writer.write(frame) }
        }
    }

    /// ffprobe's JSON (`-show_streams -show_format -count_frames`): (first video stream, format).
    static func probe(_ path: String) throws -> (stream: [String: Any], format: [String: Any]) {
        let r = try TestUtils.run("ffprobe", ["-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        let json = try JSONSerialization.jsonObject(with: r.stdout) as? [String: Any] ?? [:]
        let streams = json["streams"] as? [[String: Any]] ?? []
        return (streams.first ?? [:], json["format"] as? [String: Any] ?? [:])
    }

    /// Decodes `path` with the ffmpeg CLI to packed rgb24 frames of `width` x `height`.
    /// swscale's default YUV->RGB path (no accurate rounding, chroma not fully interpolated) alone
    /// costs ~12 dB on 4:2:0 (ffmpeg's own rgb24->yuv420p->rgb24 round trip of the test pattern
    /// scores 38 dB with it, 50 dB without), so the oracle asks for the accurate conversion.
    static func decode(_ path: String, width: Int, height: Int, extraInput: [String] = []) throws -> [[UInt8]] {
        let r = try TestUtils.run("ffmpeg", ["-v", "error"] + extraInput + ["-i", path, "-sws_flags", "bicubic+accurate_rnd+full_chroma_int",
                                                                   "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let bytes = [UInt8](r.stdout)
        let size = width * height * 3
        XCTAssertEqual(bytes.count % size, 0, "decoded byte count is not a whole number of \(width)x\(height) frames")
        return stride(from: 0, to: bytes.count - size + 1, by: size).map { Array(bytes[$0..<$0 + size]) }
    }

    /// PSNR in dB over all frames (peak 255), and the largest absolute difference.
    static func psnr(_ a: [[UInt8]], _ b: [[UInt8]]) -> (db: Double, maxDiff: Int) {
        var se = 0.0, n = 0, maxDiff = 0
        for (x, y) in zip(a, b) {
            for i in 0..<min(x.count, y.count) {
                let d = Int(x[i]) - Int(y[i])
                se += Double(d * d)
                maxDiff = max(maxDiff, abs(d))
                n += 1
            }
        }
        return (se == 0 ? .infinity : 10 * log10(255 * 255 / (se / Double(max(n, 1)))), maxDiff)
    }

    /// Whether this FFmpeg build has `encoder`.
    static func hasEncoder(_ encoder: String) throws -> Bool {
        let r = try TestUtils.run("ffmpeg", ["-hide_banner", "-encoders"])
        return String(decoding: r.stdout, as: UTF8.self).contains(" \(encoder) ")
    }

    /// Names in `dir` other than `keep`.
    static func otherFiles(in dir: URL, keep: Set<String>) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { !keep.contains($0) }.sorted()
    }
}

/// Each codec/container pair, checked with ffprobe (codec, container, pixel format, colour tags,
/// frame count, rate, duration) and decoded back with the ffmpeg CLI (PSNR).
final class VideoWriterFormatTests: XCTestCase {
    let width = 64, height = 48, count = 16

    /// Encodes the pattern, probes and decodes; returns (stream, format, PSNR, result).
    private func roundTrip(_ name: String, options: VideoWriter.Options, codecName: String, formatName: String,
                           pixFmt: String = "yuv420p", colourTags: Bool = true, minPSNR: Double,
                           file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent(name).path
        let frames = try WriterOracle.frames(width: width, height: height, count: count)
        let result = try WriterOracle.encode(frames, to: path, options: options)
        XCTAssertEqual(result.frameCount, count, file: file, line: line)
        XCTAssertEqual(result.durationSeconds, Double(count) / options.frameRate.doubleValue, accuracy: 1e-9, file: file, line: line)
        XCTAssertEqual(result.bytesWritten, Int64(try Data(contentsOf: URL(fileURLWithPath: path)).count), file: file, line: line)
        XCTAssertFalse(result.padded, file: file, line: line)
        XCTAssertEqual(try WriterOracle.otherFiles(in: dir, keep: [name]), [], "temp files left", file: file, line: line)

        let (stream, format) = try WriterOracle.probe(path)
        XCTAssertEqual(stream["codec_name"] as? String, codecName, file: file, line: line)
        XCTAssertEqual(format["format_name"] as? String, formatName, file: file, line: line)
        XCTAssertEqual(stream["pix_fmt"] as? String, pixFmt, file: file, line: line)
        XCTAssertEqual(stream["width"] as? Int, width, file: file, line: line)
        XCTAssertEqual(stream["height"] as? Int, height, file: file, line: line)
        XCTAssertEqual(stream["nb_read_frames"] as? String, String(count), file: file, line: line)
        XCTAssertEqual(stream["r_frame_rate"] as? String, options.frameRate.description.contains("/") ? options.frameRate.description : "\(options.frameRate.num)/1", file: file, line: line)
        let duration = Double(format["duration"] as? String ?? "") ?? -1
        // NUT stores no packet durations: ffprobe's estimate may be one frame off.
        let slack = formatName == "nut" ? 1 / options.frameRate.doubleValue + 0.01 : 0.06
        XCTAssertEqual(duration, Double(count) / options.frameRate.doubleValue, accuracy: slack, "format duration", file: file, line: line)
        if colourTags {
            XCTAssertEqual(stream["color_range"] as? String, "tv", file: file, line: line)
            XCTAssertEqual(stream["color_space"] as? String, "bt709", file: file, line: line)
            XCTAssertEqual(stream["color_primaries"] as? String, "bt709", file: file, line: line)
            XCTAssertEqual(stream["color_transfer"] as? String, "bt709", file: file, line: line)
            // 4:2:0 chroma is a 2x2 box mean, tagged centre-sited where the stream can say so
            // (H.264's VUI, Matroska's ChromaSiting; MP4's vpcC and AV1 have no "centre").
            if pixFmt == "yuv420p" && (codecName == "h264" || formatName == "matroska,webm") {
                XCTAssertEqual(stream["chroma_location"] as? String, "center", file: file, line: line)
            }
        }
        let decoded = try WriterOracle.decode(path, width: width, height: height)
        XCTAssertEqual(decoded.count, count, file: file, line: line)
        let quality = WriterOracle.psnr(decoded, frames.map(\.packedRGB))
        XCTAssertGreaterThanOrEqual(quality.db, minPSNR, "PSNR of \(name)", file: file, line: line)
    }

    private func options(_ codec: VideoWriter.Codec? = nil, crf: Int? = nil) -> VideoWriter.Options {
        var o = VideoWriter.Options()
        o.codec = codec
        o.crf = crf
        return o
    }

    func testH264InMP4MovMkv() throws {
        try roundTrip("a.mp4", options: options(crf: 4), codecName: "h264", formatName: "mov,mp4,m4a,3gp,3g2,mj2", minPSNR: 40)
        try roundTrip("a.mov", options: options(crf: 4), codecName: "h264", formatName: "mov,mp4,m4a,3gp,3g2,mj2", minPSNR: 40)
        try roundTrip("a.mkv", options: options(crf: 4), codecName: "h264", formatName: "matroska,webm", minPSNR: 40)
    }

    func testMP4IsFaststart() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("fast.mp4").path
        _ = try WriterOracle.encode(try WriterOracle.frames(width: width, height: height, count: 4), to: path)
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let moov = data.range(of: Data("moov".utf8))?.lowerBound, mdat = data.range(of: Data("mdat".utf8))?.lowerBound
        XCTAssertNotNil(moov)
        XCTAssertNotNil(mdat)
        XCTAssertLessThan(moov ?? .max, mdat ?? 0, "faststart puts moov before mdat")
    }

    func testVP9InWebmAndMkv() throws {
        try roundTrip("a.webm", options: options(crf: 4), codecName: "vp9", formatName: "matroska,webm", minPSNR: 40)
        try roundTrip("b.mkv", options: options(.vp9, crf: 4), codecName: "vp9", formatName: "matroska,webm", minPSNR: 40)
    }

    func testVP9InMP4IsAllowed() throws {
        try roundTrip("vp9.mp4", options: options(.vp9, crf: 10), codecName: "vp9", formatName: "mov,mp4,m4a,3gp,3g2,mj2", minPSNR: 36)
    }

    func testAV1InMkvAndWebm() throws {
        guard try WriterOracle.hasEncoder("libaom-av1") || WriterOracle.hasEncoder("libsvtav1") else {
            throw XCTSkip("this FFmpeg build has no AV1 encoder (libsvtav1 / libaom-av1)")
        }
        try roundTrip("av1.mkv", options: options(.av1, crf: 8), codecName: "av1", formatName: "matroska,webm", minPSNR: 40)
        try roundTrip("av1.webm", options: options(.av1, crf: 8), codecName: "av1", formatName: "matroska,webm", minPSNR: 40)
    }

    func testAV1UsesSVTAt64x64() throws {
        guard try WriterOracle.hasEncoder("libsvtav1") else { throw XCTSkip("this FFmpeg build has no libsvtav1") }
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("svt.mkv").path
        var o = VideoWriter.Options()
        o.codec = .av1
        o.crf = 10
        o.speed = 12
        let frames = try WriterOracle.frames(width: 64, height: 64, count: 8)
        let result = try WriterOracle.encode(frames, to: path, options: o)
        XCTAssertEqual(result.codecName, "libsvtav1")
        XCTAssertEqual(try WriterOracle.probe(path).stream["codec_name"] as? String, "av1")
        let quality = WriterOracle.psnr(try WriterOracle.decode(path, width: 64, height: 64), frames.map(\.packedRGB))
        XCTAssertGreaterThanOrEqual(quality.db, 38)
    }

    func testNUTWithH264() throws {
        // NUT has no colour fields; with H.264 the tags travel in the bitstream (VUI).
        try roundTrip("a.nut", options: options(crf: 4), codecName: "h264", formatName: "nut", minPSNR: 40)
    }

    func testFFV1InMkvIsLossless() throws {
        // ffv1 is lossless: only the RGB->YUV 4:4:4 rounding remains.
        var o = options(.ffv1)
        o.pixelFormat = .yuv444p
        try roundTrip("b.mkv", options: o, codecName: "ffv1", formatName: "matroska,webm", pixFmt: "yuv444p", minPSNR: 48)
    }

    func testLosslessH264YUV444IsNearExact() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("lossless.mkv").path
        var o = options(crf: 0)
        o.pixelFormat = .yuv444p
        let frames = try WriterOracle.frames(width: width, height: height, count: 8)
        _ = try WriterOracle.encode(frames, to: path, options: o)
        XCTAssertEqual(try WriterOracle.probe(path).stream["pix_fmt"] as? String, "yuv444p")
        let q = WriterOracle.psnr(try WriterOracle.decode(path, width: width, height: height), frames.map(\.packedRGB))
        // atol 2: 8-bit limited-range YUV cannot hold every RGB triple; x264 itself adds nothing.
        XCTAssertLessThanOrEqual(q.maxDiff, 2)
        XCTAssertGreaterThanOrEqual(q.db, 50)
    }

    func testPlanarFloatInputMatchesPacked() throws {
        // Same pixels as Float32 [-1, 1] planes and as packed bytes, through lossless ffv1 4:4:4:
        // the decoded YUV planes agree within 1 level (atol 1: float vs fixed-point rounding).
        let dir = try TestUtils.makeTempDir(self)
        var o = options(.ffv1)
        o.pixelFormat = .yuv444p
        let packed = try WriterOracle.frames(width: width, height: height, count: 4)
        let planar = try packed.map { try RGBFrame(width: width, height: height, planar: $0.planarFloat) }
        let a = dir.appendingPathComponent("packed.mkv").path, b = dir.appendingPathComponent("planar.mkv").path
        _ = try WriterOracle.encode(packed, to: a, options: o)
        _ = try WriterOracle.encode(planar, to: b, options: o)
        let ya = try TestUtils.run("ffmpeg", ["-v", "error", "-i", a, "-f", "rawvideo", "-"]).stdout
        let yb = try TestUtils.run("ffmpeg", ["-v", "error", "-i", b, "-f", "rawvideo", "-"]).stdout
        XCTAssertEqual(ya.count, width * height * 3 * 4)
        XCTAssertEqual(ya.count, yb.count)
        let maxDiff = zip(ya, yb).map { abs(Int($0) - Int($1)) }.max() ?? 99
        XCTAssertLessThanOrEqual(maxDiff, 1)
    }

    func testChromaFiltersMatchSwscale() throws {
        // Each 4:2:0 chroma filter against swscale doing the same job from the same RGB
        // (`flags=area|bilinear+full_chroma_inp+accurate_rnd`, BT.709 limited range), through
        // lossless ffv1 so the decoded planes are the writer's own: within 1 level (rounding).
        // The pattern gets per-pixel colour noise so that the two filters really differ.
        let dir = try TestUtils.makeTempDir(self)
        var state: UInt64 = 7
        let frames = try (0..<2).map { t -> RGBFrame in
            var rgb = WriterOracle.pattern(width: width, height: height, frame: t)
            for i in rgb.indices {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                rgb[i] = UInt8(clamping: Int(rgb[i]) + Int(state >> 59) * 4 - 64)
            }
            return try RGBFrame(width: width, height: height, packed: rgb)
        }
        let rgbPath = dir.appendingPathComponent("src.rgb").path
        try Data(frames.flatMap(\.packedRGB)).write(to: URL(fileURLWithPath: rgbPath))
        var planes: [[UInt8]] = []
        for filter in VideoWriter.ChromaFilter.allCases {
            var o = options(.ffv1)
            o.chromaFilter = filter
            let path = dir.appendingPathComponent("\(filter).mkv").path
            _ = try WriterOracle.encode(frames, to: path, options: o)
            let ours = try TestUtils.run("ffmpeg", ["-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
            let sws = try TestUtils.run("ffmpeg", ["-v", "error", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", "\(width)x\(height)",
                                                   "-i", rgbPath, "-vf",
                                                   "scale=out_color_matrix=bt709:out_range=tv:flags=\(filter.rawValue)+full_chroma_inp+accurate_rnd",
                                                   "-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
            XCTAssertEqual(sws.status, 0, sws.stderr)
            XCTAssertEqual(ours.stdout.count, width * height * 3 / 2 * 2, "\(filter)")
            XCTAssertEqual(ours.stdout.count, sws.stdout.count, "\(filter)")
            let maxDiff = zip(ours.stdout, sws.stdout).map { abs(Int($0) - Int($1)) }.max() ?? 99
            XCTAssertLessThanOrEqual(maxDiff, 1, "\(filter) against swscale")
            planes.append([UInt8](ours.stdout))
        }
        let changed = zip(planes[0], planes[1]).filter { abs(Int($0) - Int($1)) > 1 }.count
        XCTAssertGreaterThan(changed, width * height / 20, "area and bilinear chroma should differ on noisy colour")
    }

    func testBT601FullRangeTags() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("601.mkv").path
        var o = options(crf: 0)
        o.pixelFormat = .yuv444p
        o.colourMatrix = .bt601
        o.colourRange = .full
        let frames = try WriterOracle.frames(width: width, height: height, count: 4)
        _ = try WriterOracle.encode(frames, to: path, options: o)
        let stream = try WriterOracle.probe(path).stream
        XCTAssertEqual(stream["color_range"] as? String, "pc")
        XCTAssertEqual(stream["color_space"] as? String, "smpte170m")
        // The ffmpeg CLI honours the tags when converting back: still near exact.
        let q = WriterOracle.psnr(try WriterOracle.decode(path, width: width, height: height), frames.map(\.packedRGB))
        XCTAssertLessThanOrEqual(q.maxDiff, 2)
    }

    func testGIFUsesAdaptivePaletteAndLoops() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("a.gif").path
        // Four odd colours no fixed palette (web-safe, 3-3-2) holds, in moving stripes.
        let colours: [[UInt8]] = [[37, 201, 99], [250, 13, 171], [91, 92, 7], [140, 222, 238]]
        let frames = try (0..<12).map { t -> RGBFrame in
            var px = [UInt8](repeating: 0, count: width * height * 3)
            for y in 0..<height { for x in 0..<width {
                let c = colours[((x + t) / 8 + y / 12) % 4]
                px.replaceSubrange((y * width + x) * 3..<(y * width + x) * 3 + 3, with: c)
            } }
            return try RGBFrame(width: width, height: height, packed: px)
        }
        var o = VideoWriter.Options()
        o.frameRate = Rational(10, 1)
        let result = try WriterOracle.encode(frames, to: path, options: o)
        XCTAssertEqual(result.codecName, "gif")
        XCTAssertEqual(result.pixelFormat, "pal8")
        let (stream, format) = try WriterOracle.probe(path)
        XCTAssertEqual(stream["codec_name"] as? String, "gif")
        XCTAssertEqual(format["format_name"] as? String, "gif")
        XCTAssertEqual(stream["nb_read_frames"] as? String, "12")
        XCTAssertEqual(Double(format["duration"] as? String ?? "") ?? -1, 1.2, accuracy: 0.02)
        let q = WriterOracle.psnr(try WriterOracle.decode(path, width: width, height: height), frames.map(\.packedRGB))
        XCTAssertEqual(q.maxDiff, 0, "an adaptive palette reproduces 4 colours exactly")
        // NETSCAPE2.0 application block with loop count 0 = forever.
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let block = data.range(of: Data("NETSCAPE2.0".utf8))
        XCTAssertNotNil(block)
        if let block {
            let loop = data[block.upperBound + 2] | data[block.upperBound + 3]
            XCTAssertEqual(loop, 0, "loop count 0 (forever)")
        }
    }

    func testGIFGradientQuality() throws {
        // A smooth pattern has thousands of colours; a median-cut palette keeps it near 30 dB.
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("b.gif").path
        let frames = try WriterOracle.frames(width: width, height: height, count: 8)
        _ = try WriterOracle.encode(frames, to: path)
        let q = WriterOracle.psnr(try WriterOracle.decode(path, width: width, height: height), frames.map(\.packedRGB))
        XCTAssertGreaterThanOrEqual(q.db, 30)
    }

    func testPNGSequenceIsExact() throws {
        let dir = try TestUtils.makeTempDir(self)
        let pattern = dir.appendingPathComponent("frames_%04d.png").path
        let frames = try WriterOracle.frames(width: width, height: height, count: 5)
        let result = try WriterOracle.encode(frames, to: pattern)
        XCTAssertEqual(result.containerName, "image2")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        XCTAssertEqual(names, (1...5).map { String(format: "frames_%04d.png", $0) }, "the images and nothing else")
        let sizes = try names.map { Int64(try Data(contentsOf: dir.appendingPathComponent($0)).count) }
        XCTAssertEqual(result.bytesWritten, sizes.reduce(0, +))
        XCTAssertEqual(try WriterOracle.probe(dir.appendingPathComponent("frames_0001.png").path).stream["codec_name"] as? String, "png")
        let decoded = try WriterOracle.decode(pattern, width: width, height: height, extraInput: ["-start_number", "1"])
        XCTAssertEqual(decoded, frames.map(\.packedRGB), "PNG is lossless")
    }

    func testOddSizeIsPaddedByEdgeReplication() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = dir.appendingPathComponent("odd.mkv").path
        let frames = try WriterOracle.frames(width: 63, height: 47, count: 4)
        var o = VideoWriter.Options()
        o.crf = 0
        let result = try WriterOracle.encode(frames, to: path, options: o)
        XCTAssertTrue(result.padded)
        XCTAssertEqual(result.encodedWidth, 64)
        XCTAssertEqual(result.encodedHeight, 48)
        let stream = try WriterOracle.probe(path).stream
        XCTAssertEqual(stream["width"] as? Int, 64)
        XCTAssertEqual(stream["height"] as? Int, 48)
        // Decoded, the padding column/row repeat the last ones (atol 3: 4:2:0 chroma rounding).
        let decoded = try WriterOracle.decode(path, width: 64, height: 48)
        var maxDiff = 0
        for f in decoded {
            for y in 0..<48 { for c in 0..<3 { maxDiff = max(maxDiff, abs(Int(f[(y * 64 + 63) * 3 + c]) - Int(f[(y * 64 + 62) * 3 + c]))) } }
            for x in 0..<64 { for c in 0..<3 { maxDiff = max(maxDiff, abs(Int(f[(47 * 64 + x) * 3 + c]) - Int(f[(46 * 64 + x) * 3 + c]))) } }
        }
        XCTAssertLessThanOrEqual(maxDiff, 3)
    }

    func testOddSizeFailPolicyAndYUV444() throws {
        let dir = try TestUtils.makeTempDir(self)
        var o = VideoWriter.Options()
        o.oddSizePolicy = .fail
        XCTAssertThrowsError(try VideoWriter(path: dir.appendingPathComponent("odd.mp4").path, width: 63, height: 47, options: o)) { error in
            XCTAssertTrue("\(error)".contains("63x47 has an odd side"), "\(error)")
        }
        XCTAssertEqual(try WriterOracle.otherFiles(in: dir, keep: []), [])
        // 4:4:4 has no chroma blocks: odd sizes encode as they are.
        o.pixelFormat = .yuv444p
        let path = dir.appendingPathComponent("odd444.mkv").path
        let result = try WriterOracle.encode(try WriterOracle.frames(width: 63, height: 47, count: 3), to: path, options: o)
        XCTAssertFalse(result.padded)
        XCTAssertEqual(try WriterOracle.probe(path).stream["width"] as? Int, 63)
    }

    func testMetadataTags() throws {
        let dir = try TestUtils.makeTempDir(self)
        var o = VideoWriter.Options()
        o.metadata = ["title": "A red fox", "comment": "seed 42"]
        for name in ["m.mp4", "m.mkv"] {
            let path = dir.appendingPathComponent(name).path
            _ = try WriterOracle.encode(try WriterOracle.frames(width: width, height: height, count: 2), to: path, options: o)
            let tags = (try WriterOracle.probe(path).format["tags"] as? [String: String]) ?? [:]
            let lower = Dictionary(tags.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { a, _ in a })
            XCTAssertEqual(lower["title"], "A red fox", name)
            XCTAssertEqual(lower["comment"], "seed 42", name)
        }
    }
}
