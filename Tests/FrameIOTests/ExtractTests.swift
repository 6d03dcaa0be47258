import Foundation
import XCTest
@testable import FrameIO

/// Clip extraction against inputs made by the ffmpeg CLI with known content.
final class ExtractTests: XCTestCase {
    /// A lossless (FFV1, yuv444p) clip at 16 fps whose frame k is a flat grey with luma
    /// 16 + 6k (limited range), so the RGB level of frame k is about 6k * 255 / 219.
    func makeCountingClip(_ dir: URL, name: String = "count.mkv", frames: Int = 32) throws -> String {
        let path = dir.appendingPathComponent(name).path
        let r = try TestUtils.run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i",
            "color=black:size=40x24:rate=16,format=yuv444p,geq=lum='16+6*N':cb=128:cr=128",
            "-frames:v", "\(frames)", "-c:v", "ffv1", "-pix_fmt", "yuv444p", "-f", "matroska", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        return path
    }

    /// The source frame index a flat clip frame shows.
    func sourceIndex(_ clip: [UInt8], frame: Int, bytesPerFrame: Int) -> Int {
        let slice = clip[(frame * bytesPerFrame)..<((frame + 1) * bytesPerFrame)]
        let mean = Double(slice.reduce(0) { $0 + Int($1) }) / Double(bytesPerFrame)
        return Int((mean * 219 / 255 / 6).rounded())
    }

    func testRightFramesLandInTheRightClipAtTheRightRate() throws {
        let dir = try TestUtils.makeTempDir(self)
        let path = try makeCountingClip(dir)
        var options = ExtractOptions()
        options.frames = 4
        options.fps = 8
        options.width = 8
        options.height = 8
        var clips: [([UInt8], Double)] = []
        let result = try ClipExtractor(options: options).extract(path: path) { clip, start in
            clips.append((clip, start)); return true
        }
        XCTAssertEqual(result.clips, 4, "2 s at 8 fps = 16 frames = 4 clips of 4")
        XCTAssertEqual(clips.map(\.1), [0, 0.5, 1.0, 1.5])
        for (c, (clip, _)) in clips.enumerated() {
            XCTAssertEqual(clip.count, 4 * 8 * 8 * 3)
            let shown = (0..<4).map { sourceIndex(clip, frame: $0, bytesPerFrame: 8 * 8 * 3) }
            // 16 fps source sampled at 8 fps: every second frame.
            XCTAssertEqual(shown, (0..<4).map { 8 * c + 2 * $0 }, "clip \(c)")
        }

        // Overlapping clips with a stride of 0.25 s (2 sampled frames) and a cap.
        options.stride = 0.25
        options.maxClipsPerVideo = 3
        var starts: [Double] = []
        var firsts: [Int] = []
        try ClipExtractor(options: options).extract(path: path) { clip, start in
            starts.append(start)
            firsts.append(sourceIndex(clip, frame: 0, bytesPerFrame: 8 * 8 * 3))
            return true
        }
        XCTAssertEqual(starts, [0, 0.25, 0.5])
        XCTAssertEqual(firsts, [0, 4, 8])

        // A time range: start 1 s, end 2 s.
        options.stride = nil
        options.maxClipsPerVideo = nil
        var ranged: [Double] = []
        try ClipExtractor(options: options).extract(path: path, start: 1.0, end: 2.0) { _, s in ranged.append(s); return true }
        XCTAssertEqual(ranged, [1.0, 1.5])
    }

    func testResizeModes() throws {
        let dir = try TestUtils.makeTempDir(self)
        // 64x32: the left quarter red, the rest green; lossless RGB.
        let path = dir.appendingPathComponent("split.mkv").path
        let r = try TestUtils.run("ffmpeg", ["-v", "error", "-y", "-f", "lavfi", "-i",
            "color=0x00ff00:size=64x32:rate=8,drawbox=x=0:y=0:w=16:h=32:color=0xff0000:t=fill",
            "-frames:v", "8", "-c:v", "ffv1", "-pix_fmt", "bgr0", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        func firstFrame(_ mode: ExtractOptions.Resize) throws -> [UInt8] {
            var o = ExtractOptions()
            o.frames = 2; o.fps = 8; o.width = 32; o.height = 32; o.resize = mode
            var out: [UInt8] = []
            try ClipExtractor(options: o).extract(path: path) { clip, _ in out = Array(clip.prefix(32 * 32 * 3)); return false }
            return out
        }
        func px(_ f: [UInt8], _ x: Int, _ y: Int) -> [Int] { (0..<3).map { Int(f[(y * 32 + x) * 3 + $0]) } }
        func near(_ a: [Int], _ b: [Int], _ tol: Int = 12) -> Bool { zip(a, b).allSatisfy { abs($0 - $1) <= tol } }
        let red = [255, 0, 0], green = [0, 255, 0], black = [0, 0, 0]

        let crop = try firstFrame(.crop)  // centre 32 columns of 64: all green
        for (x, y) in [(0, 0), (2, 16), (31, 31), (16, 5)] { XCTAssertTrue(near(px(crop, x, y), green), "crop \(x),\(y): \(px(crop, x, y))") }

        let pad = try firstFrame(.pad)    // 32x16 picture letterboxed into rows 8..<24
        XCTAssertTrue(near(px(pad, 3, 16), red), "pad \(px(pad, 3, 16))")
        XCTAssertTrue(near(px(pad, 20, 16), green), "pad \(px(pad, 20, 16))")
        for (x, y) in [(3, 2), (20, 29), (16, 0), (16, 31)] { XCTAssertTrue(near(px(pad, x, y), black, 2), "pad bar \(x),\(y): \(px(pad, x, y))") }

        let stretch = try firstFrame(.stretch) // left quarter (x < 8) red over the full height
        XCTAssertTrue(near(px(stretch, 3, 2), red), "stretch \(px(stretch, 3, 2))")
        XCTAssertTrue(near(px(stretch, 3, 29), red), "stretch \(px(stretch, 3, 29))")
        XCTAssertTrue(near(px(stretch, 20, 16), green), "stretch \(px(stretch, 20, 16))")
    }

    func testStoppedRunResumesToTheSameDataset() throws {
        let dir = try TestUtils.makeTempDir(self)
        var inputs: [ExtractInput] = []
        for i in 0..<5 { inputs.append(ExtractInput(path: try makeCountingClip(dir, name: "c\(i).mkv", frames: 16 + 8 * i), caption: "clip \(i)")) }
        var options = ExtractOptions()
        options.frames = 4; options.fps = 8; options.width = 8; options.height = 8
        options.maxShardBytes = 3 * 4 * 8 * 8 * 3
        let job = ExtractJob(options: options)
        let whole = try job.run(inputs: inputs, into: dir.appendingPathComponent("whole"))
        XCTAssertEqual(whole.videosRead, 5)
        // Stop after two inputs, then run again.
        let resumed = dir.appendingPathComponent("resumed")
        let first = try job.run(inputs: inputs, into: resumed) { $0.inputsDone < 2 }
        XCTAssertEqual(first.videosRead, 2)
        let second = try job.run(inputs: inputs, into: resumed)
        XCTAssertEqual(second.videosSkipped, 2)
        XCTAssertEqual(second.videosRead, 3)
        XCTAssertEqual(first.clipsWritten + second.clipsWritten, whole.clipsWritten)
        func content(_ d: URL) throws -> [String: [UInt8]] {
            var out: [String: [UInt8]] = [:]
            for r in try DatasetManifest.readRecords(in: d) {
                out[r.clipKey] = try ShardFile(path: d.appendingPathComponent(r.shard).path).clip(r.index)
            }
            return out
        }
        XCTAssertEqual(try content(resumed), try content(dir.appendingPathComponent("whole")))
        // A third run is a no-op.
        let third = try job.run(inputs: inputs, into: resumed)
        XCTAssertEqual(third.clipsWritten, 0)
        XCTAssertEqual(third.videosSkipped, 5)
    }

    func testInputDiscoveryProbesAndReadsCaptionsAndManifests() throws {
        let dir = try TestUtils.makeTempDir(self)
        let sub = dir.appendingPathComponent("sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let a = try makeCountingClip(sub, name: "a.weird", frames: 8)
        try "a caption".write(toFile: sub.appendingPathComponent("a.txt").path, atomically: true, encoding: .utf8)
        try "not a video".write(toFile: dir.appendingPathComponent("notes.txt").path, atomically: true, encoding: .utf8)
        FileManager.default.createFile(atPath: dir.appendingPathComponent("empty.mp4").path, contents: Data())
        let isVideo: (String) -> Bool = { (try? VideoReader(path: $0)) != nil }
        let (inputs, rejected) = try ExtractInputs.expand([dir.path], isVideo: isVideo)
        XCTAssertEqual(inputs.map(\.path), [a])
        XCTAssertEqual(inputs.first?.caption, "a caption")
        XCTAssertEqual(Set(rejected.map { URL(fileURLWithPath: $0.path).lastPathComponent }), ["notes.txt", "empty.mp4"])

        let csv = dir.appendingPathComponent("m.csv").path
        try "path,caption,start,end\nsub/a.weird,\"quoted, with comma\",0.5,1\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let fromCSV = try ExtractInputs.expand([csv], isVideo: isVideo).inputs
        XCTAssertEqual(fromCSV, [ExtractInput(path: a, caption: "quoted, with comma", start: 0.5, end: 1)])
        let jsonl = dir.appendingPathComponent("m.jsonl").path
        try "{\"path\": \"sub/a.weird\", \"start\": 0.25}\n".write(toFile: jsonl, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ExtractInputs.expand([jsonl], isVideo: isVideo).inputs, [ExtractInput(path: a, caption: "a caption", start: 0.25)])
        // A sidecar with several lines: the first is the caption, the others its alternatives
        // (blank lines and surrounding spaces dropped); a manifest line may add more.
        try "a caption\n\n  another wording \nthird\n".write(toFile: sub.appendingPathComponent("a.txt").path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ExtractInputs.expand([dir.path], isVideo: isVideo).inputs,
                       [ExtractInput(path: a, caption: "a caption", alternatives: ["another wording", "third"])])
        try "{\"path\": \"sub/a.weird\", \"alternatives\": [\"fourth\"]}\n{\"path\": \"sub/a.weird\", \"caption\": \"own\", \"alternatives\": [\"x\"], \"start\": 1}\n"
            .write(toFile: jsonl, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ExtractInputs.expand([jsonl], isVideo: isVideo).inputs,
                       [ExtractInput(path: a, caption: "a caption", alternatives: ["another wording", "third", "fourth"]),
                        ExtractInput(path: a, caption: "own", alternatives: ["x"], start: 1)])
        try "".write(toFile: sub.appendingPathComponent("a.txt").path, atomically: true, encoding: .utf8)
        XCTAssertEqual(try ExtractInputs.expand([dir.path], isVideo: isVideo).inputs, [ExtractInput(path: a, caption: "")],
                       "an empty sidecar is an empty caption, not a missing one")
        try "a caption".write(toFile: sub.appendingPathComponent("a.txt").path, atomically: true, encoding: .utf8)
        let badCSV = dir.appendingPathComponent("bad.csv").path
        try "file,caption\nx.mp4,y\n".write(toFile: badCSV, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try ExtractInputs.expand([badCSV], isVideo: isVideo)) { XCTAssertTrue("\($0)".contains("'path' column"), "\($0)") }
        XCTAssertThrowsError(try ExtractInputs.expand([dir.appendingPathComponent("missing.mp4").path], isVideo: isVideo))
        // Manifests lying in a folder (t2v-scenes writes manifest.csv beside its clips) are not
        // inputs of that folder: neither read nor reported.
        let again = try ExtractInputs.expand([dir.path], isVideo: isVideo)
        XCTAssertEqual(again.inputs.map(\.path), [a])
        XCTAssertEqual(Set(again.rejected.map { URL(fileURLWithPath: $0.path).lastPathComponent }), ["notes.txt", "empty.mp4"])
    }

    func testSkipCutsDropsClipsSpanningACut() throws {
        let dir = try TestUtils.makeTempDir(self)
        // 2 s of testsrc2 then 2 s of mandelbrot: one hard cut at 2 s.
        let path = dir.appendingPathComponent("cut.mkv").path
        let r = try TestUtils.run("ffmpeg", ["-v", "error", "-y",
            "-f", "lavfi", "-i", "testsrc2=size=64x64:rate=8:duration=2",
            "-f", "lavfi", "-i", "mandelbrot=size=64x64:rate=8", "-filter_complex",
            "[1]trim=duration=2,setpts=PTS-STARTPTS[b];[0][b]concat=n=2:v=1", "-c:v", "ffv1", path])
        XCTAssertEqual(r.status, 0, r.stderr)
        var o = ExtractOptions()
        o.frames = 4; o.fps = 8; o.width = 32; o.height = 32; o.stride = 0.25
        let plain = try ClipExtractor(options: o).extract(path: path) { _, _ in true }
        o.skipCuts = true
        var kept: [Double] = []
        let filtered = try ClipExtractor(options: o, similarity: ClipExtractor.lumaSSIM).extract(path: path) { _, s in kept.append(s); return true }
        XCTAssertGreaterThan(filtered.droppedAtCuts, 0)
        XCTAssertEqual(filtered.clips + filtered.droppedAtCuts, plain.clips)
        // Every kept clip lies entirely before or after the cut at 2 s.
        for s in kept { XCTAssertTrue(s + 0.375 < 2.0 || s >= 2.0, "clip at \(s) spans the cut") }
    }
}
