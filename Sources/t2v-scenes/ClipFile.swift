import ArgumentParser
import FrameIO
import Foundation

/// The file format of rendered clips.
enum ClipFormat: String, CaseIterable, ExpressibleByArgument {
    /// Raw RGB24 frames back to back (`FAMILY-SEED.rgb`); read with
    /// `ffmpeg -f rawvideo -pix_fmt rgb24 -video_size SxS -framerate FPS -i FILE`.
    case rgb

    /// The file extension.
    var fileExtension: String { rawValue }
}

/// Streams one clip's frames into a temporary file and moves it into place on `finish()`, so an
/// interrupted run never leaves a partial clip under the final name.
final class ClipFile {
    let url: URL
    private let tmp: URL
    private var handle: FileHandle?

    /// Opens a temporary file beside `url`. Throws `ScenesCommandError` when it cannot be created.
    init(url: URL, format: ClipFormat, width: Int, height: Int, fps: Int) throws {
        self.url = url
        tmp = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(getpid()).tmp")
        guard FileManager.default.createFile(atPath: tmp.path, contents: nil), let h = FileHandle(forWritingAtPath: tmp.path) else {
            throw ScenesCommandError("\(tmp.path): cannot create the clip file. Check that the output folder is writable.")
        }
        handle = h
    }

    /// Appends one frame.
    func write(_ frame: RGBFrame) throws {
        do { try handle?.write(contentsOf: frame.packedRGB) } catch {
            throw ScenesCommandError("\(tmp.path): write failed (\(error.localizedDescription)). Is the disk full?")
        }
    }

    /// Closes the file and renames it to its final name.
    func finish() throws {
        try handle?.close()
        handle = nil
        try moveReplacing(tmp, url)
    }

    deinit {
        if handle != nil {
            try? handle?.close()
            try? FileManager.default.removeItem(at: tmp)
        }
    }
}
