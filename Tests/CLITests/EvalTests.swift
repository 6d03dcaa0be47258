import Foundation
import XCTest

/// `t2v-render eval` end to end: figures against the ffmpeg CLI's own ssim/psnr filters,
/// output formats, and error handling.
final class EvalTests: XCTestCase {
    /// Clips made once by the ffmpeg CLI: a lossless testsrc2 reference (96x64, 12 frames),
    /// its libx264 crf 35 re-encode, a 7-frame prefix, a 64x48 version and a still clip.
    final class Clips {
        static let shared: Clips = try! Clips()
        let dir: URL
        let reference: String, distorted: String, short: String, small: String, still: String, noVideo: String, text: String

        init() throws {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-eval-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
            dir = base
            func path(_ name: String) -> String { base.appendingPathComponent(name).path }
            reference = path("ref.nut")
            distorted = path("dist.mp4")
            short = path("short.mp4")
            small = path("small.mp4")
            still = path("still.mp4")
            noVideo = path("novideo.mp4")
            text = path("notes.txt")
            try EvalTests.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=24", "-frames:v", "12",
                                  "-pix_fmt", "yuv420p", "-c:v", "rawvideo", reference])
            try EvalTests.ffmpeg(["-i", reference, "-c:v", "libx264", "-preset", "veryfast", "-crf", "35", distorted])
            try EvalTests.ffmpeg(["-i", reference, "-frames:v", "7", "-c:v", "libx264", "-crf", "30", short])
            try EvalTests.ffmpeg(["-i", reference, "-vf", "scale=64:48", "-c:v", "libx264", "-crf", "20", small])
            try EvalTests.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=24", "-vf", "select=eq(n\\,0),loop=loop=7:size=1:start=0",
                                  "-frames:v", "8", "-c:v", "libx264", "-crf", "20", still])
            try EvalTests.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=64x48:rate=24", "-frames:v", "0", "-c:v", "libx264", noVideo])
            try Data("not a video\n".utf8).write(to: URL(fileURLWithPath: text))
        }
    }

    @discardableResult
    static func ffmpeg(_ args: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ffmpeg", "-hide_banner", "-nostdin", "-y"] + args
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let data = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0 else { throw CocoaError(.fileReadUnknown, userInfo: ["stderr": text]) }
        return text
    }

    /// The numbers after `key:` in a line such as FFmpeg's `SSIM Y:0.9 (10.1) U:...`.
    static func field(_ key: String, in line: String) -> String? {
        guard let range = line.range(of: " \(key):") else { return nil }
        return String(line[range.upperBound...].prefix { !$0.isWhitespace })
    }

    func testTextMatchesFFmpegFilters() throws {
        let clips = Clips.shared
        let result = try CLI.run(["eval", clips.distorted, "--reference", clips.reference])
        XCTAssertEqual(result.status, 0, result.stderr)
        let out = String(decoding: result.stdout, as: UTF8.self)
        let log = try Self.ffmpeg(["-i", clips.distorted, "-i", clips.reference, "-lavfi", "ssim;[0:v][1:v]psnr", "-f", "null", "-"])
        let ffSSIM = log.split(separator: "\n").first { $0.contains("SSIM Y:") }.map(String.init)!
        let ffPSNR = log.split(separator: "\n").first { $0.contains("PSNR y:") }.map(String.init)!
        let ours = out.split(separator: "\n").first { $0.hasPrefix("SSIM (ffmpeg):") }.map(String.init)!
        let oursPSNR = out.split(separator: "\n").first { $0.hasPrefix("PSNR (ffmpeg):") }.map(String.init)!
        // Same printed digits (%f, 6 decimals) for Y, U, V, All and the PSNR figures.
        for key in ["Y", "U", "V", "All"] {
            XCTAssertEqual(Self.field(key, in: ours), Self.field(key, in: ffSSIM), "\(key): \(ours) vs \(ffSSIM)")
        }
        for key in ["y", "u", "v", "average", "min", "max"] {
            XCTAssertEqual(Self.field(key, in: oursPSNR), Self.field(key, in: ffPSNR), "\(key): \(oursPSNR) vs \(ffPSNR)")
        }
        XCTAssertTrue(out.contains("SSIM (gaussian, Y):"), out)
        XCTAssertTrue(out.contains("compared: 12 frames"), out)
        XCTAssertEqual(out.split(separator: "\n").filter { $0.hasPrefix("n:") }.count, 12)
    }

    func testJSONAndCSVAndPlot() throws {
        let clips = Clips.shared
        let dir = clips.dir.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let csv = dir.appendingPathComponent("frames.csv").path, png = dir.appendingPathComponent("ssim.png").path
        let result = try CLI.run(["eval", clips.distorted, "--reference", clips.reference, "--json", "--csv", csv, "--plot", png])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try JSONSerialization.jsonObject(with: result.stdout) as! [String: Any]
        XCTAssertEqual(json["comparedFrames"] as? Int, 12)
        XCTAssertEqual(json["lengthsDiffer"] as? Bool, false)
        XCTAssertEqual((json["frames"] as? [Any])?.count, 12)
        let ssim = json["ssim"] as! [String: Any]
        let all = ssim["All"] as! Double
        XCTAssertGreaterThan(all, 0.5)
        XCTAssertLessThan(all, 1)
        XCTAssertNotNil((json["gaussianSSIM"] as? [String: Any])?["mean"] as? Double)
        XCTAssertNotNil((json["psnr"] as? [String: Any])?["average"] as? Double)
        let lines = try String(contentsOfFile: csv, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 13)
        XCTAssertTrue(lines[0].hasPrefix("frame,time,ssim_y,ssim_u,ssim_v,ssim_all,ssim_db,gssim_y"), String(lines[0]))
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: png)))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        // ffprobe reads the plot as an 800x400 picture.
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", png]
        let pipe = Pipe()
        probe.standardOutput = pipe
        try probe.run()
        let size = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        probe.waitUntilExit()
        XCTAssertEqual(size.trimmingCharacters(in: .whitespacesAndNewlines), "800,400")
    }

    func testIdenticalClipsJSONHasInfinity() throws {
        let clips = Clips.shared
        let result = try CLI.run(["eval", clips.reference, "--reference", clips.reference, "--json", "--metric", "ssim", "--metric", "psnr"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try JSONSerialization.jsonObject(with: result.stdout) as! [String: Any]
        let ssim = json["ssim"] as! [String: Any]
        XCTAssertEqual(ssim["All"] as? Double ?? 0, 1, accuracy: 1e-12)
        XCTAssertEqual(ssim["dB"] as? String, "inf")
        XCTAssertEqual((json["psnr"] as! [String: Any])["average"] as? String, "inf")
        XCTAssertNil(json["gaussianSSIM"])
    }

    func testInterFrameSSIM() throws {
        let clips = Clips.shared
        let still = try CLI.run(["eval", clips.still, "--summary-only"])
        XCTAssertEqual(still.status, 0, still.stderr)
        let text = String(decoding: still.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("inter-frame SSIM (ffmpeg, All): mean 1.000000 min 1.000000 over 7 pairs"), text)
        XCTAssertTrue(text.contains("inter-frame SSIM (gaussian, Y): mean 1.000000"), text)
        let moving = try CLI.run(["eval", clips.reference, "--json", "--metric", "ssim"])
        XCTAssertEqual(moving.status, 0, moving.stderr)
        let json = try JSONSerialization.jsonObject(with: moving.stdout) as! [String: Any]
        let entry = (json["interFrameSSIM"] as! [String: Any])["ssim"] as! [String: Any]
        XCTAssertEqual((entry["pairs"] as! [Double]).count, 11)
        XCTAssertLessThan(entry["mean"] as! Double, 0.999)
    }

    func testLengthMismatchNoteAndStrict() throws {
        let clips = Clips.shared
        let lenient = try CLI.run(["eval", clips.short, "--reference", clips.reference, "--summary-only", "--metric", "ssim"])
        XCTAssertEqual(lenient.status, 0, lenient.stderr)
        XCTAssertTrue(lenient.stderr.contains("has 7 frames") && lenient.stderr.contains("has 12") &&
                      lenient.stderr.contains("compared the first 7"), lenient.stderr)
        let strict = try CLI.run(["eval", clips.short, "--reference", clips.reference, "--strict"])
        XCTAssertEqual(strict.status, 1)
        XCTAssertTrue(strict.stderr.contains("--strict"), strict.stderr)
    }

    func testSizeMismatchAndScale() throws {
        let clips = Clips.shared
        let mismatch = try CLI.run(["eval", clips.small, "--reference", clips.reference])
        XCTAssertEqual(mismatch.status, 1)
        XCTAssertTrue(mismatch.stderr.contains("64x48") && mismatch.stderr.contains("96x64") && mismatch.stderr.contains("--scale"),
                      mismatch.stderr)
        let scaled = try CLI.run(["eval", clips.small, "--reference", clips.reference, "--scale", "--summary-only"])
        XCTAssertEqual(scaled.status, 0, scaled.stderr)
        let out = String(decoding: scaled.stdout, as: UTF8.self)
        XCTAssertTrue(out.contains("compared: 12 frames"), out)
        // Same figures as FFmpeg scaling the distorted clip in the filter graph.
        let log = try Self.ffmpeg(["-i", clips.small, "-i", clips.reference, "-lavfi", "[0:v]scale=96:64[a];[a][1:v]ssim",
                                   "-f", "null", "-"])
        let ffSSIM = log.split(separator: "\n").first { $0.contains("SSIM Y:") }.map(String.init)!
        let ours = out.split(separator: "\n").first { $0.hasPrefix("SSIM (ffmpeg):") }.map(String.init)!
        XCTAssertEqual(Self.field("All", in: ours), Self.field("All", in: ffSSIM), "\(ours) vs \(ffSSIM)")
    }

    func testBadInputsExitOne() throws {
        let clips = Clips.shared
        for (args, needle) in [
            (["eval", "/nonexistent/clip.mp4"], "no such file"),
            (["eval", clips.distorted, "--reference", "/nonexistent/ref.mp4"], "/nonexistent/ref.mp4"),
            (["eval", clips.text], clips.text),
            (["eval", clips.noVideo, "--reference", clips.reference], clips.noVideo),
        ] {
            let result = try CLI.run(args)
            XCTAssertEqual(result.status, 1, "\(args): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(needle), "\(args): \(result.stderr)")
        }
        let plot = try CLI.run(["eval", clips.distorted, "--reference", clips.reference, "--plot",
                                "/nonexistent/dir/plot.png", "--metric", "ssim"])
        XCTAssertEqual(plot.status, 1)
        XCTAssertTrue(plot.stderr.contains("/nonexistent/dir/plot.png"), plot.stderr)
    }

    /// A damaged input (an MP4 cut in half loses its index) on either side: exit 1 and a message
    /// naming the file, with no output on stdout.
    func testTruncatedInputExitsOne() throws {
        let clips = Clips.shared
        let truncated = clips.dir.appendingPathComponent("truncated-\(UUID().uuidString).mp4")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: clips.distorted))
        try bytes.prefix(bytes.count / 2).write(to: truncated)
        for args in [["eval", truncated.path, "--reference", clips.reference, "--metric", "ssim"],
                     ["eval", clips.distorted, "--reference", truncated.path, "--metric", "ssim"]] {
            let result = try CLI.run(args)
            XCTAssertEqual(result.status, 1, "\(args): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(truncated.path) && result.stderr.contains("not a readable video"), result.stderr)
            XCTAssertTrue(result.stdout.isEmpty)
        }
    }

    func testUsageErrorsExitTwo() throws {
        let clips = Clips.shared
        for args in [["eval", clips.reference, "--strict"], ["eval", clips.reference, "--reference", clips.reference, "--plot", "x.txt"],
                     ["eval", clips.reference, "--metric", "vmaf"], ["eval"]] {
            let result = try CLI.run(args)
            XCTAssertEqual(result.status, 2, "\(args): \(result.stderr)")
        }
        let help = try CLI.run(["eval", "--help"])
        XCTAssertEqual(help.status, 0)
        let text = String(decoding: help.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("--reference") && text.contains("--scale") && text.contains("gaussian"), text)
    }
}
