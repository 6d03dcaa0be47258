import AtomicFiles
import ArgumentParser
import Foundation
import Renderer
import FrameIO

/// `t2v-render decode`: a video's frames as headerless raw RGB, streamed to a file or stdout.
struct Decode: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Decode a video to raw frames (rgb24 or f32planar) in a file or on stdout.",
        discussion: """
            Output is headerless, frame after frame: rgb24 is W*H*3 bytes (RGBRGB...), f32planar \
            is 3*H*W little-endian float32 (plane R, G, B) in [-1, 1] (v / 127.5 - 1). Colours \
            match ffmpeg -i FILE -pix_fmt rgb24 (the source's matrix and range tags; BT.601 when \
            untagged). --fps samples by timestamps like ffmpeg's fps filter. FILE may be - (stdin).
            A file output is written to a temporary file and renamed when complete; memory does \
            not grow with the video's length. The frame count and size go to stderr.
            """)

    /// Layout of the raw output frames.
    enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
        case rgb24, f32planar
    }

    @Argument(help: "The video file, or - for stdin.")
    var file: String

    @Option(name: .shortAndLong, help: "Where to write the frames: a file, or - for stdout.")
    var output: String

    @Option(name: .customLong("pix-fmt"), help: "Output layout: rgb24 or f32planar.")
    var pixFmt: OutputFormat = .rgb24

    @Option(help: "Output size WxH (default: the video's size).")
    var size: FrameSize?

    @Option(help: "Sample at this many frames per second (default: every frame).")
    var fps: Double?

    @Option(help: "Start at this time in seconds (frame-accurate).")
    var start: Double?

    @Option(help: "Stop after this many frames.")
    var frames: Int?

    @Option(help: "Scaling filter when resizing: \(VideoReader.Scaling.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scaling: String = VideoReader.Scaling.bicubic.rawValue

    @Option(help: "Decoder threads (0 = automatic).")
    var threads: Int = 0

    @Flag(name: .shortAndLong, help: "Do not print the summary line on stderr.")
    var quiet = false

    func validate() throws {
        if let fps, !(fps > 0 && fps <= 1000) { throw ValidationError("--fps must be in (0, 1000], got \(fps)") }
        if let start, !(start >= 0 && start.isFinite) { throw ValidationError("--start must be >= 0 seconds") }
        if let frames, frames < 0 { throw ValidationError("--frames must be >= 0") }
        if VideoReader.Scaling(rawValue: scaling) == nil {
            throw ValidationError("--scaling must be one of \(VideoReader.Scaling.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if !(0...64).contains(threads) { throw ValidationError("--threads must be 0...64 (0 = automatic)") }
        if output != "-" && file != "-" && URL(fileURLWithPath: output).standardizedFileURL == URL(fileURLWithPath: file).standardizedFileURL {
            throw ValidationError("the output would overwrite the input: \(file)")
        }
    }

    func run() throws {
        let options = VideoReader.Options(
            size: size.map { VideoReader.Size(width: $0.width, height: $0.height) }, scaling: VideoReader.Scaling(rawValue: scaling)!,
            layout: pixFmt == .rgb24 ? .packed : .planarFloat, frameRate: fps, threads: threads, start: start)
        signal(SIGPIPE, SIG_IGN)  // a closed stdout pipe becomes EPIPE and a clear message
        // Before any output exists, so a signal can never leave a temporary file behind.
        let interrupted = SignalFlag.install()
        let reader = try ReaderInput.open(file, options: options)
        let sink = try RawSink(output)
        var count = 0
        var shape = ""
        do {
            try ReaderInput.mapErrors {
                while frames.map({ count < $0 }) ?? true, let frame = try reader.nextFrame() {
                    if interrupted.isSet {
                        throw CommandError("interrupted after \(count) frames; \(output) was not written (partial output removed)")
                    }
                    switch frame.pixels {
                    case let .packed(bytes):
                        try bytes.withUnsafeBytes { try sink.write($0) }
                    case let .planarFloat(values):
                        try values.withUnsafeBytes { try sink.write($0) }
                    }
                    count += 1
                    shape = "\(frame.width)x\(frame.height)"
                }
            }
            try sink.finish()
        } catch {
            sink.abandon()
            throw error
        }
        if !quiet {
            FileHandle.standardError.write(Data("decoded \(count) frames \(shape) \(pixFmt.rawValue) to \(output)\n".utf8))
        }
    }
}

/// Where decoded bytes go: stdout, a device or pipe written in place, or a regular file written to a
/// temporary sibling and renamed by `finish()`.
final class RawSink {
    private let fd: Int32
    private let path: String
    private let temporary: String?

    init(_ path: String) throws {
        self.path = path
        if path == "-" {
            fd = STDOUT_FILENO
            temporary = nil
            return
        }
        var st = stat()
        let exists = stat(path, &st) == 0
        if exists && (st.st_mode & S_IFMT) == S_IFDIR {
            throw CommandError("\(path) is a directory; give a file name for the output")
        }
        if exists && (st.st_mode & S_IFMT) != S_IFREG {
            // A device (/dev/null) or a FIFO: write in place, never rename over it.
            fd = open(path, O_WRONLY)
            temporary = nil
        } else {
            let tmp = AtomicFile.temporaryPath(for: path)
            fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            temporary = tmp
        }
        if fd < 0 {
            throw CommandError("cannot write \(path): \(String(cString: strerror(errno))); check that the directory exists and is writable")
        }
    }

    /// Writes all of `bytes`, retrying short writes.
    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE {
                    throw CommandError("writing \(path == "-" ? "stdout" : path) failed: the reader closed the pipe; output stopped early")
                }
                throw CommandError("writing \(path) failed: \(String(cString: strerror(errno))); check free space")
            }
            offset += n
        }
    }

    /// Closes the output; a file output is committed into place (fsync, rename).
    func finish() throws {
        guard fd != STDOUT_FILENO else { return }
        if close(fd) != 0 {
            throw CommandError("writing \(path) failed: \(String(cString: strerror(errno)))")
        }
        if let temporary {
            do { try AtomicFile.commit(temporary, to: path) } catch { throw CommandError("\(error)") }
        }
    }

    /// Closes and removes a partial file output.
    func abandon() {
        guard fd != STDOUT_FILENO else { return }
        close(fd)
        if let temporary { unlink(temporary) }
    }
}
