import Foundation
import XCTest
@testable import FrameIO

/// Test clips made on the fly by the ffmpeg CLI, and the oracle outputs of ffmpeg/ffprobe.
enum ReaderClips {
    /// Runs ffmpeg with `args` (quiet, overwrite) and fails the test when it fails.
    static func ffmpeg(_ args: [String], input: Data? = nil) throws -> Data {
        let result = try TestUtils.run("ffmpeg", ["-nostdin", "-v", "error", "-y"] + args, input: input)
        guard result.status == 0 else {
            throw FrameIOError.invalidArgument("ffmpeg \(args.joined(separator: " ")) failed: \(result.stderr)")
        }
        return result.stdout
    }

    /// Makes `name` in `dir` from a lavfi source graph and encoder arguments; returns its path.
    static func make(_ dir: URL, _ name: String, source: String, _ encode: [String]) throws -> String {
        let path = dir.appendingPathComponent(name).path
        _ = try ffmpeg(["-f", "lavfi", "-i", source] + encode + [path])
        return path
    }

    /// Every decoded frame of `path` as raw `pixFmt` bytes, one frame per element, timestamps
    /// passed through (no frame-rate conversion by the CLI).
    static func rawFrames(_ path: String, pixFmt: String, frameBytes: Int, filter: String? = nil) throws -> [[UInt8]] {
        var args = ["-i", path]
        if let filter { args += ["-vf", filter] } else { args += ["-fps_mode", "passthrough"] }
        args += ["-f", "rawvideo", "-pix_fmt", pixFmt, "-"]
        let data = try ffmpeg(args)
        guard data.count % frameBytes == 0 else {
            throw FrameIOError.shapeMismatch("ffmpeg gave \(data.count) bytes, not a multiple of \(frameBytes)")
        }
        let bytes = [UInt8](data)
        return stride(from: 0, to: bytes.count, by: frameBytes).map { Array(bytes[$0..<($0 + frameBytes)]) }
    }

    /// ffprobe's JSON for the first video stream and the format.
    static func probe(_ path: String) throws -> (stream: [String: Any], format: [String: Any]) {
        let result = try TestUtils.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_streams",
                                                   "-show_format", "-of", "json", path])
        let json = try JSONSerialization.jsonObject(with: result.stdout) as! [String: Any]
        let streams = json["streams"] as! [[String: Any]]
        return (streams[0], json["format"] as! [String: Any])
    }

    /// ffprobe's pts_time of every frame.
    static func frameTimes(_ path: String) throws -> [Double] {
        let result = try TestUtils.run("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries",
                                                   "frame=best_effort_timestamp_time", "-of", "csv=p=0", path])
        return String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").compactMap {
            Double($0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: ",")))
        }
    }

    /// Largest absolute difference between two byte arrays of equal length.
    static func maxAbsDiff(_ a: [UInt8], _ b: [UInt8]) -> Int {
        precondition(a.count == b.count, "lengths differ: \(a.count) vs \(b.count)")
        var m = 0
        for i in 0..<a.count { m = max(m, abs(Int(a[i]) - Int(b[i]))) }
        return m
    }

    /// Reads every frame with `options`.
    static func readAll(_ path: String, _ options: VideoReader.Options = .init()) throws -> [RGBFrame] {
        let reader = try VideoReader(path: path, options: options)
        var frames: [RGBFrame] = []
        while let f = try reader.nextFrame() { frames.append(f) }
        return frames
    }

    /// A clip whose frame n has luma `16 + 6n` (uniform grey), lossless FFV1, at `rate` frames/s
    /// for `seconds` — the decoded picture says which source frame it is. NUT keeps exact
    /// timestamps (time base 1/(2*rate) or finer); with `setpts` the timestamps are rewritten in
    /// a 1/1000 time base (use a `.mkv` name) to make a variable-frame-rate clip.
    static func indexClip(_ dir: URL, rate: Int, seconds: Double, name: String = "index.nut", setpts: String? = nil) throws -> String {
        var filter = "color=black:s=32x32:r=\(rate):d=\(seconds),format=yuv444p,geq=lum='16+6*N':cb=128:cr=128"
        if let setpts { filter += ",settb=1/1000,setpts='\(setpts)'" }
        var encode = ["-c:v", "ffv1"]
        if setpts != nil { encode = ["-fps_mode", "vfr", "-enc_time_base", "1:1000"] + encode }
        return try make(dir, name, source: filter, encode)
    }

    /// The source index of a picture made by `indexClip`.
    static func index(of image: PlanarImage) -> Int {
        (Int(image.planes[0].data[0]) - 16) / 6
    }
}

/// Checks of the helpers themselves (the oracle plumbing must work for the other tests to mean anything).
final class VideoReaderClipsTests: XCTestCase {
    func testIndexClipEncodesFrameNumbers() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = try ReaderClips.indexClip(dir, rate: 10, seconds: 0.5)
        let frames = try ReaderClips.rawFrames(path, pixFmt: "yuv444p", frameBytes: 3 * 32 * 32)
        XCTAssertEqual(frames.map { (Int($0[0]) - 16) / 6 }, [0, 1, 2, 3, 4])
    }
}
