import ArgumentParser
import Foundation
import Renderer
import FrameIO

/// `t2v-render probe`: a video's container and video stream facts, for people or as JSON.
struct Probe: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a video's container and video stream facts (size, codec, rate, colour tags).",
        discussion: """
            FILE may be - to read stdin (e.g. ffmpeg ... -f nut - | t2v-render probe -).
            --json prints the VideoInfo record to stdout: names are FFmpeg's (ffprobe's) own; \
            untagged colour fields are absent. Exit 1 with a message when FILE is not a readable video.
            """)

    @Argument(help: "The video file, or - for stdin.")
    var file: String

    @Flag(help: "Print JSON to stdout instead of text.")
    var json = false

    func run() throws {
        let reader = try ReaderInput.open(file)
        let info = reader.info
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            FileHandle.standardOutput.write(try encoder.encode(info))
            FileHandle.standardOutput.write(Data("\n".utf8))
            return
        }
        print(Probe.describe(info))
    }

    /// The human-readable summary.
    static func describe(_ info: VideoInfo) -> String {
        func seconds(_ s: Double?) -> String { s.map { String(format: "%.3f s", $0) } ?? "unknown" }
        var rate = info.frameRate.map { String(format: "%.3f fps (%@)", $0.doubleValue, $0.description) } ?? "unknown"
        if let avg = info.averageFrameRate, avg != info.frameRate { rate += ", average \(avg)" }
        let tags = [("space", info.colorSpace), ("range", info.colorRange),
                    ("primaries", info.colorPrimaries), ("transfer", info.colorTransfer)]
            .map { "\($0.0) \($0.1 ?? "unspecified")" }.joined(separator: ", ")
        var lines = [
            "file:       \(info.path)",
            "container:  \(info.formatName)",
            "video:      \(info.codecName), \(info.width)x\(info.height), \(info.pixelFormat)",
            "frame rate: \(rate)",
            "time base:  \(info.timeBase)",
            "start:      \(seconds(info.startTime))",
            "duration:   \(seconds(info.duration))",
            "frames:     \(info.frameCount.map { "\($0) (as the container claims)" } ?? "not stored")",
            "bit rate:   \(info.bitRate.map { String(format: "%.1f kb/s", Double($0) / 1000) } ?? "unknown")",
            "colour:     \(tags)",
            "audio:      \(info.hasAudio ? "yes" : "no")",
        ]
        for key in info.metadata.keys.sorted() {
            lines.append("metadata:   \(key)=\(info.metadata[key]!)")
        }
        return lines.joined(separator: "\n")
    }
}

/// Opening inputs for the reading subcommands: library errors become actionable CommandErrors.
enum ReaderInput {
    /// Opens `path` (`-` = stdin) with `options`; FrameIO's message says what failed and what to do.
    /// FFmpeg's own logging is limited to errors (e.g. "moov atom not found"), which add detail.
    static func open(_ path: String, options: VideoReader.Options = .init()) throws -> VideoReader {
        VideoWriter.setFFmpegLogLevel(.error)
        do {
            return try VideoReader(path: path, options: options)
        } catch let error as FrameIOError {
            throw CommandError(error.description)
        }
    }

    /// Runs `body`, turning FrameIO errors into CommandErrors.
    static func mapErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as FrameIOError {
            throw CommandError(error.description)
        }
    }
}
