import ArgumentParser
import FrameIO
import Foundation
import Renderer

/// The container clips are written in (H.264 in MP4 or Matroska, VP9 in WebM, through FrameIO's
/// `VideoWriter`).
enum ClipFormat: String, CaseIterable, ExpressibleByArgument {
    /// H.264 in MP4 (`FAMILY-SEED.mp4`).
    case mp4
    /// H.264 in Matroska (`FAMILY-SEED.mkv`).
    case mkv
    /// VP9 in WebM (`FAMILY-SEED.webm`).
    case webm

    /// The file extension.
    var fileExtension: String { rawValue }
}

/// Encoding settings for the corpus's clips.
struct ClipEncoding {
    var format: ClipFormat
    var fps: Int
    var crf: Int?
    var preset: String?

    /// Writer options: one encoder thread per clip (clips are tiny; threads only add latency),
    /// constant quality.
    var options: VideoWriter.Options {
        var o = VideoWriter.Options()
        o.frameRate = Rational(Int32(fps), 1)
        o.crf = crf
        if format != .webm { o.preset = preset }
        o.threads = 1
        o.metadata = ["comment": "t2v-scenes procedural corpus"]
        return o
    }
}

/// Streams one clip's frames into `url` with a `VideoWriter` (which writes to a hidden temp file
/// and renames it on `finish()`, so an interrupted run never leaves a partial clip under the
/// final name). Errors name the file.
func writeClip(to url: URL, size: Int, encoding: ClipEncoding, frames: ((RGBFrame) throws -> Void) throws -> Void) throws {
    do {
        let writer = try VideoWriter(path: url.path, width: size, height: size, options: encoding.options)
        do {
            try frames { try writer.write($0) }
            try writer.finish()
        } catch {
            writer.cancel()
            throw error
        }
    } catch let error as FrameIOError {
        throw CommandError("\(url.lastPathComponent): encoding failed: \(error.description)")
    }
}
