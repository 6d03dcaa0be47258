import Foundation
import XCTest
@testable import FrameIO

/// Oracle helpers for the metric tests: clips made by the ffmpeg CLI, their raw planes, and the
/// figures FFmpeg's own `ssim` and `psnr` filters print for them.
enum MetricsOracle {
    /// Runs ffmpeg quietly with `args`; fails the test with ffmpeg's stderr on a non-zero exit.
    static func ffmpeg(_ args: [String], file: StaticString = #filePath, line: UInt = #line) throws -> Data {
        let result = try TestUtils.run("ffmpeg", ["-hide_banner", "-loglevel", "error", "-nostdin", "-y"] + args)
        guard result.status == 0 else {
            XCTFail("ffmpeg \(args.joined(separator: " ")) failed: \(result.stderr)", file: file, line: line)
            throw FrameIOError.invalidArgument("ffmpeg failed")
        }
        return result.stdout
    }

    /// Decodes `path` with the ffmpeg CLI into 8-bit planar pictures of `pixelFormat`
    /// (`yuv420p` or `yuv444p`) of size `width`x`height`.
    static func planes(_ path: String, width: Int, height: Int, pixelFormat: String = "yuv420p") throws -> [PlanarImage] {
        let data = try ffmpeg(["-i", path, "-f", "rawvideo", "-pix_fmt", pixelFormat, "-"])
        let cw = pixelFormat == "yuv420p" ? (width + 1) / 2 : width
        let ch = pixelFormat == "yuv420p" ? (height + 1) / 2 : height
        let sizes = [(width, height), (cw, ch), (cw, ch)]
        let frameBytes = sizes.reduce(0) { $0 + $1.0 * $1.1 }
        precondition(data.count % frameBytes == 0, "raw size \(data.count) is not a multiple of \(frameBytes)")
        let bytes = [UInt8](data)
        var images = [PlanarImage]()
        var offset = 0
        while offset < bytes.count {
            var planes = [Plane]()
            for (w, h) in sizes {
                planes.append(try Plane(width: w, height: h, data: Array(bytes[offset..<offset + w * h])))
                offset += w * h
            }
            images.append(PlanarImage(pixelFormat: pixelFormat, planes: planes))
        }
        return images
    }

    /// One line of vf_ssim's stats file: Y, U, V, All and dB.
    struct SSIMLine { var planes: [Double]; var all: Double; var dB: Double }

    /// Runs `ffmpeg -i distorted -i reference -lavfi ssim=stats_file=...` and parses the file.
    static func ffmpegSSIM(_ distorted: String, _ reference: String, extraFilter: String = "") throws -> [SSIMLine] {
        let stats = distorted + ".ssim.log"
        _ = try ffmpeg(["-i", distorted, "-i", reference, "-lavfi", "\(extraFilter)ssim=stats_file=\(stats)", "-f", "null", "-"])
        let text = try String(contentsOfFile: stats, encoding: .utf8)
        return text.split(separator: "\n").map { line in
            var fields = [String: Double]()
            for token in line.split(separator: " ") {
                let parts = token.split(separator: ":")
                if parts.count == 2 { fields[String(parts[0])] = Double(parts[1]) }
            }
            let dBText = line.split(separator: "(").last!.dropLast()
            return SSIMLine(planes: [fields["Y"]!, fields["U"]!, fields["V"]!], all: fields["All"]!,
                            dB: dBText == "inf" ? .infinity : Double(dBText)!)
        }
    }

    /// Per-frame `lavfi.psnr.*` metadata of `ffmpeg -lavfi psnr,metadata=print` (printed with
    /// `%f` of a float, so more digits than the stats file's `%0.2f`).
    static func ffmpegPSNR(_ distorted: String, _ reference: String) throws -> [[String: Double]] {
        let out = distorted + ".psnr.txt"
        _ = try ffmpeg(["-i", distorted, "-i", reference, "-lavfi", "psnr,metadata=print:file=\(out)", "-f", "null", "-"])
        let text = try String(contentsOfFile: out, encoding: .utf8)
        var frames = [[String: Double]]()
        for line in text.split(separator: "\n") {
            if line.hasPrefix("frame:") { frames.append([:]); continue }
            guard line.hasPrefix("lavfi.psnr."), let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[line.index(line.startIndex, offsetBy: 11)..<eq])
            let value = String(line[line.index(after: eq)...])
            frames[frames.count - 1][key] = value == "inf" ? .infinity : Double(value)!
        }
        return frames
    }

    /// The summary line FFmpeg's ssim filter logs at the end (`SSIM Y:... All:... (dB)`), parsed.
    static func ffmpegSSIMSummary(_ distorted: String, _ reference: String) throws -> [String: Double] {
        let result = try TestUtils.run("ffmpeg", ["-hide_banner", "-nostdin", "-i", distorted, "-i", reference,
                                                   "-lavfi", "ssim", "-f", "null", "-"])
        guard let line = result.stderr.split(separator: "\n").last(where: { $0.contains("SSIM Y:") }) else {
            throw FrameIOError.invalidArgument("no SSIM summary in: \(result.stderr)")
        }
        var fields = [String: Double]()
        for token in line[line.range(of: "SSIM ")!.upperBound...].split(separator: " ") {
            let parts = token.split(separator: ":")
            if parts.count == 2 { fields[String(parts[0])] = Double(parts[1]) }
        }
        return fields
    }

    /// The summary line of FFmpeg's psnr filter (`PSNR y:... u:... v:... average:... min:... max:...`).
    static func ffmpegPSNRSummary(_ distorted: String, _ reference: String) throws -> [String: Double] {
        let result = try TestUtils.run("ffmpeg", ["-hide_banner", "-nostdin", "-i", distorted, "-i", reference,
                                                   "-lavfi", "psnr", "-f", "null", "-"])
        guard let line = result.stderr.split(separator: "\n").last(where: { $0.contains("PSNR y:") }) else {
            throw FrameIOError.invalidArgument("no PSNR summary in: \(result.stderr)")
        }
        var fields = [String: Double]()
        for token in line[line.range(of: "PSNR ")!.upperBound...].split(separator: " ") {
            let parts = token.split(separator: ":")
            if parts.count == 2 { fields[String(parts[0])] = parts[1] == "inf" ? .infinity : Double(parts[1]) }
        }
        return fields
    }

    /// The test clips, made once per test run in a temporary directory by the ffmpeg CLI.
    final class Clips {
        /// Shared instance (built lazily on first use).
        static let shared: Clips = try! Clips()
        let dir: URL
        /// testsrc2 96x64, 12 frames, stored losslessly (rawvideo yuv420p in NUT).
        let reference: String
        /// The reference re-encoded by libx264 at crf 18, 30 and 45.
        let x264: [Int: String]
        /// testsrc (not testsrc2, which rounds to even sizes) 65x49 stored losslessly, and the same with temporal noise added.
        let oddReference: String, oddNoisy: String
        /// Different content of the reference's size (mandelbrot).
        let other: String
        /// The reference's negative (`negate`).
        let negative: String
        /// A still clip: one testsrc2 picture repeated 6 times.
        let still: String
        let width = 96, height = 64

        init() throws {
            let base = FileManager.default.temporaryDirectory.appendingPathComponent("t2v-metrics-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: base, withIntermediateDirectories: true)
            dir = base
            func path(_ name: String) -> String { base.appendingPathComponent(name).path }
            reference = path("ref.nut")
            _ = try MetricsOracle.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=24:duration=0.5",
                                          "-pix_fmt", "yuv420p", "-c:v", "rawvideo", reference])
            var x264 = [Int: String]()
            for crf in [18, 30, 45] {
                let p = path("x264_\(crf).mp4")
                _ = try MetricsOracle.ffmpeg(["-i", reference, "-c:v", "libx264", "-preset", "veryfast", "-crf", "\(crf)",
                                              "-pix_fmt", "yuv420p", p])
                x264[crf] = p
            }
            self.x264 = x264
            oddReference = path("odd_ref.nut")
            _ = try MetricsOracle.ffmpeg(["-f", "lavfi", "-i", "testsrc=size=65x49:rate=24:duration=0.25",
                                          "-pix_fmt", "yuv420p", "-c:v", "rawvideo", oddReference])
            oddNoisy = path("odd_noisy.nut")
            _ = try MetricsOracle.ffmpeg(["-i", oddReference, "-vf", "noise=alls=25:allf=t", "-pix_fmt", "yuv420p",
                                          "-c:v", "rawvideo", oddNoisy])
            other = path("other.nut")
            _ = try MetricsOracle.ffmpeg(["-f", "lavfi", "-i", "mandelbrot=size=96x64:rate=24", "-frames:v", "12",
                                          "-pix_fmt", "yuv420p", "-c:v", "rawvideo", other])
            negative = path("negative.nut")
            _ = try MetricsOracle.ffmpeg(["-i", reference, "-vf", "negate", "-pix_fmt", "yuv420p", "-c:v", "rawvideo", negative])
            still = path("still.nut")
            _ = try MetricsOracle.ffmpeg(["-f", "lavfi", "-i", "testsrc2=size=96x64:rate=24", "-vf", "select=eq(n\\,0),loop=loop=5:size=1:start=0",
                                          "-frames:v", "6", "-pix_fmt", "yuv420p", "-c:v", "rawvideo", still])
        }
    }
}
