import ArgumentParser
import Foundation
import Renderer
import FrameIO

/// `t2v-render frames`: evenly spaced frames of a video as one contact-sheet PNG.
struct Frames: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Save evenly spaced frames of a video as a contact sheet (PNG).",
        discussion: """
            Frame i of --count is the first frame at or after start + i * duration / count \
            (frame-accurate seeks), tiled left to right, top to bottom. Tiles are --width pixels \
            wide (default: the video's width, at most 320) with the aspect ratio kept.
            The PNG is written to a temporary file and renamed when complete.
            """)

    @Argument(help: "The video file (seekable: not stdin).")
    var file: String

    @Option(help: "The PNG to write.")
    var sheet: String

    @Option(help: "Number of frames (1...256).")
    var count: Int = 16

    @Option(help: "Tiles per row.")
    var columns: Int = 4

    @Option(help: "Tile width in pixels (8...4096); height follows the aspect ratio.")
    var width: Int?

    func validate() throws {
        if file == "-" { throw ValidationError("frames seeks through the video, so it needs a file, not stdin (-)") }
        guard (1...256).contains(count) else { throw ValidationError("--count must be 1...256, got \(count)") }
        guard columns >= 1 else { throw ValidationError("--columns must be at least 1, got \(columns)") }
        if let width, !(8...4096).contains(width) { throw ValidationError("--width must be 8...4096, got \(width)") }
        guard sheet.lowercased().hasSuffix(".png") else { throw ValidationError("--sheet must name a .png file, got '\(sheet)'") }
    }

    func run() throws {
        let info = try ReaderInput.open(file).info
        guard let duration = info.duration, duration > 0 else {
            throw CommandError("\(file): the duration is unknown, so frames cannot be spaced evenly; remux it "
                               + "(ffmpeg -i \(file) -c copy out.mkv) and try again")
        }
        let tileWidth = width ?? min(info.width, 320)
        // Keep the aspect ratio; even heights keep chroma-subsampled encoders happy downstream.
        let tileHeight = max(2, Int((Double(tileWidth) * Double(info.height) / Double(info.width) / 2).rounded()) * 2)
        let options = VideoReader.Options(size: .init(width: tileWidth, height: tileHeight), scaling: .area)
        let reader = try ReaderInput.open(file, options: options)
        let start = max(0, info.startTime ?? 0)
        var frames: [RGBFrame] = []
        try ReaderInput.mapErrors {
            for i in 0..<count {
                try reader.seek(toSeconds: start + Double(i) * duration / Double(count))
                guard let frame = try reader.nextFrame() else { break }
                frames.append(frame)
            }
            guard !frames.isEmpty else { throw CommandError("\(file): no frame could be decoded") }
            let image = try ContactSheet(columns: columns).compose(frames)
            try PNGImage.write(image, to: sheet)
            FileHandle.standardError.write(Data(
                "wrote \(sheet): \(frames.count) frames of \(tileWidth)x\(tileHeight), \(image.width)x\(image.height)\n".utf8))
        }
    }
}
