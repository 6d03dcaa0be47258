import ArgumentParser
import FrameIO
import Foundation
import Renderer

extension VideoWriter.Codec: ExpressibleByArgument {}
extension VideoWriter.Container: ExpressibleByArgument {}
extension VideoWriter.PixelFormat: ExpressibleByArgument {}
extension VideoWriter.OddSizePolicy: ExpressibleByArgument {}
extension VideoWriter.ColourMatrix: ExpressibleByArgument {}
extension VideoWriter.ColourRange: ExpressibleByArgument {}
extension VideoWriter.ChromaFilter: ExpressibleByArgument {}

/// `t2v-render encode`: raw frames from a file or stdin -> a video file or stdout.
struct Encode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "encode",
        abstract: "Encode raw RGB frames (from a file or stdin) into a video, a GIF or a PNG sequence.",
        discussion: """
            Input is headerless: frame after frame of --size pixels, either rgb24 (W*H*3 bytes, \
            RGBRGB...) or f32planar (3*H*W little-endian float32, plane R then G then B, values in \
            [-1, 1]). Frames stream through: memory does not grow with the clip length.
            The container comes from the output's extension (.mp4 .mov .mkv .webm .gif .nut, or a \
            pattern such as frames_%04d.png) or --format. `-o -` writes NUT (H.264) to stdout unless \
            --format says webm, mkv or mp4 (fragmented); e.g.
              t2v-render encode --size 512x512 -i frames.rgb -o - | ffmpeg -i - out.mkv
            Files are written to a hidden temp file and renamed when complete.
            """)

    /// Layout of the raw input frames.
    enum InputFormat: String, ExpressibleByArgument, CaseIterable {
        case rgb24, f32planar
    }

    @Option(help: "Frame size, WxH (e.g. 512x512).")
    var size: FrameSize

    @Option(name: .customLong("pix-fmt"), help: "Input layout: rgb24 or f32planar.")
    var pixFmt: InputFormat = .rgb24

    @Option(help: "Frames per second: 8, 30000/1001 or 29.97.")
    var fps: Rational = Rational(8, 1)

    @Option(help: "Constant quality (h264 0...51, default 20; vp9/av1 0...63, default 32/35).")
    var crf: Int?

    @Option(help: "x264 preset (ultrafast ... veryslow); default medium.")
    var preset: String?

    @Option(help: "vp9 cpu-used (default 4) or AV1 speed preset.")
    var speed: Int?

    @Option(help: "Codec; default from the container (mp4/mov/mkv/nut: h264, webm: vp9).")
    var codec: VideoWriter.Codec?

    @Option(help: "Container; default from the output's extension (nut for -).")
    var format: VideoWriter.Container?

    @Option(name: .customLong("out-pix-fmt"), help: "YUV layout given to the encoder.")
    var outPixFmt: VideoWriter.PixelFormat = .yuv420p

    @Option(help: "Target bitrate in bits/s (default: constant quality).")
    var bitrate: Int?

    @Option(help: "Maximum frames between keyframes.")
    var keyint: Int?

    @Option(help: "Encoder threads (0 = automatic).")
    var threads: Int = 0

    @Option(name: .customLong("color-matrix"), help: "RGB->YUV matrix and colour tags.")
    var colourMatrix: VideoWriter.ColourMatrix = .bt709

    @Option(name: .customLong("color-range"), help: "YUV range: limited (tv) or full (pc).")
    var colourRange: VideoWriter.ColourRange = .limited

    @Option(name: .customLong("chroma-filter"), help: "4:2:0 chroma filter: area (2x2 mean, sharpest) or bilinear ([1 3 3 1]/8, softer, fewer bits).")
    var chromaFilter: VideoWriter.ChromaFilter = .area

    @Option(name: .customLong("odd-size"), help: "Odd width/height with yuv420p: pad (repeat the edge) or fail.")
    var oddSize: VideoWriter.OddSizePolicy = .pad

    @Option(parsing: .upToNextOption, help: "Container metadata, key=value (e.g. title=Sunset comment=...).")
    var metadata: [String] = []

    @Option(name: .customLong("encoder-option"), parsing: .upToNextOption,
            help: "Extra encoder AVOption, key=value (e.g. tune=film); unknown names are an error.")
    var encoderOptions: [String] = []

    @Option(name: .short, help: "Input raw frames: a file, or - for stdin.")
    var input: String

    @Option(name: .short, help: "Output: a file, a PNG pattern, or - for stdout.")
    var output: String

    @Flag(help: "Print the result as JSON on stdout (not with -o -).")
    var json = false

    @Flag(name: .shortAndLong, help: "Print no summary.")
    var quiet = false

    @Flag(help: "Let FFmpeg print its own messages (encoder statistics).")
    var verbose = false

    func validate() throws {
        guard fps.doubleValue > 0, fps.doubleValue.isFinite else {
            throw ValidationError("--fps must be a positive number or ratio such as 8, 29.97 or 30000/1001; got '\(fps)'")
        }
        for item in metadata + encoderOptions where Self.keyValue(item) == nil {
            throw ValidationError("'\(item)' is not key=value (e.g. title=Sunset)")
        }
        if json && output == "-" {
            throw ValidationError("--json writes to stdout, which -o - already uses for the video")
        }
        if input != "-" && input == output {
            throw ValidationError("input and output are the same file: \(input)")
        }
        if threads < 0 { throw ValidationError("--threads must be >= 0 (0 = automatic)") }
    }

    private var parsedSize: (Int, Int)? { (size.width, size.height) }

    private static func keyValue(_ item: String) -> (String, String)? {
        guard let eq = item.firstIndex(of: "="), eq != item.startIndex else { return nil }
        return (String(item[..<eq]), String(item[item.index(after: eq)...]))
    }

    /// The encoder's options from the flags.
    private var writerOptions: VideoWriter.Options {
        var options = VideoWriter.Options()
        options.format = format
        options.codec = codec
        options.frameRate = fps
        options.crf = crf
        options.preset = preset
        options.speed = speed
        options.bitrate = bitrate
        options.keyframeInterval = keyint
        options.pixelFormat = outPixFmt
        options.threads = threads
        options.colourMatrix = colourMatrix
        options.colourRange = colourRange
        options.chromaFilter = chromaFilter
        options.oddSizePolicy = oddSize
        for item in metadata { let (k, v) = Self.keyValue(item)!; options.metadata[k] = v }
        for item in encoderOptions { let (k, v) = Self.keyValue(item)!; options.encoderOptions[k] = v }
        return options
    }

    /// The raw input's file descriptor (0 for stdin), or a message naming the file.
    private func openInput() throws -> Int32 {
        if input == "-" { return 0 }
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: input, isDirectory: &isDir) else {
            throw CommandError("input \(input): no such file. Check the path, or use -i - for stdin.")
        }
        guard !isDir.boolValue else { throw CommandError("input \(input) is a directory; give a raw frame file") }
        let fd = open(input, O_RDONLY)
        guard fd >= 0 else {
            throw CommandError("input \(input): cannot open (\(String(cString: strerror(errno))))")
        }
        return fd
    }

    /// The result as JSON on stdout (--json) or the summary line on stderr.
    private func report(_ result: VideoWriter.Result, seconds: Double) throws {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            FileHandle.standardOutput.write(try encoder.encode(result))
            FileHandle.standardOutput.write(Data("\n".utf8))
        } else if !quiet {
            let (width, height) = parsedSize!
            let padNote = result.padded ? ", padded to \(result.encodedWidth)x\(result.encodedHeight)" : ""
            let line = String(
                format: "encode: %d frames %dx%d%@ -> %@ (%@, %@, %@), %.2f s of video, %lld bytes, %.1f frames/s\n",
                result.frameCount, width, height, padNote, output == "-" ? "stdout" : output, result.codecName,
                result.containerName, result.pixelFormat, result.durationSeconds, result.bytesWritten,
                Double(result.frameCount) / max(seconds, 1e-9))
            FileHandle.standardError.write(Data(line.utf8))
        }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)  // a closed stdout pipe becomes EPIPE: "output pipe closed"
        // Before any output exists, so a signal can never leave a temporary file behind.
        let interrupted = SignalFlag.install()
        VideoWriter.setFFmpegLogLevel(verbose ? .info : .error)
        if !verbose { setenv("SVT_LOG", "1", 0) }  // SVT-AV1 logs on its own: errors only
        let (width, height) = parsedSize!
        let options = writerOptions
        let fd = try openInput()
        defer { if fd != 0 { close(fd) } }

        let start = DispatchTime.now().uptimeNanoseconds
        let writer: VideoWriter
        do {
            writer = try VideoWriter(path: output, width: width, height: height, options: options)
        } catch {
            throw CommandError("encode: \(error)")
        }
        let inputName = input == "-" ? "stdin" : input
        let pixels = width * height * 3
        let frameBytes = pixFmt == .rgb24 ? pixels : pixels * 4
        var bytes = [UInt8](repeating: 0, count: pixFmt == .rgb24 ? pixels : 0)
        var floats = [Float](repeating: 0, count: pixFmt == .f32planar ? pixels : 0)
        do {
            while true {
                if interrupted.isSet {
                    throw CommandError("interrupted after \(writer.frameCount) frames; \(output == "-" ? "stdout" : output) was not completed (partial file output removed)")
                }
                let got: Int
                if pixFmt == .rgb24 {
                    got = bytes.withUnsafeMutableBytes { Self.readFully(fd, $0) }
                } else {
                    got = floats.withUnsafeMutableBytes { Self.readFully(fd, $0) }
                }
                if got < 0 {
                    throw CommandError("reading \(inputName) failed: \(String(cString: strerror(errno)))")
                }
                if got == 0 { break }
                if got < frameBytes {
                    throw CommandError(
                        "\(inputName) ended inside frame \(writer.frameCount + 1): got \(got) of \(frameBytes) bytes; check --size \(size) and --pix-fmt \(pixFmt.rawValue)")
                }
                let frame = pixFmt == .rgb24
                    ? try RGBFrame(width: width, height: height, packed: bytes)
                    : try RGBFrame(width: width, height: height, planar: floats)
                try writer.write(frame)
            }
            guard writer.frameCount > 0 else {
                throw CommandError(
                    "\(inputName) holds no frames; expected \(frameBytes) bytes per \(width)x\(height) \(pixFmt.rawValue) frame")
            }
            let result = try writer.finish()
            try report(result, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        } catch let error as CommandError {
            writer.cancel()
            throw error
        } catch {
            writer.cancel()
            throw CommandError("encode: \(error)")
        }
    }

    /// Reads until `buffer` is full or end of input; returns the bytes read, or -1 on error.
    private static func readFully(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer) -> Int {
        var total = 0
        while total < buffer.count {
            let n = read(fd, buffer.baseAddress! + total, buffer.count - total)
            if n < 0 {
                if errno == EINTR { continue }
                return -1
            }
            if n == 0 { break }
            total += n
        }
        return total
    }
}
