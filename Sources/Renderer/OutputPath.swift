import AtomicFiles
import Foundation
import FrameIO

/// Output paths checked before any work, so one that cannot be written fails at once with a
/// message naming it (not after minutes of denoising or training); and the hidden name under
/// which `render` builds a file before renaming it into place.
public enum OutputPath {
    /// True for `-` and for an existing character device, FIFO or socket (written as a stream).
    public static func isStream(_ path: String) -> Bool {
        if path == "-" { return true }
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        let type = st.st_mode & S_IFMT
        return type == S_IFCHR || type == S_IFIFO || type == S_IFSOCK
    }

    /// Throws an `OutputPathError` naming `option` and `path` unless `path` can be created or
    /// replaced as a file: its folder must exist and be writable, and the path must not be a
    /// folder. `-` and existing devices or FIFOs pass when `streams` is true (written directly);
    /// otherwise they are refused, since the file is built beside the path and renamed onto it,
    /// which would replace the device.
    public static func check(_ path: String, option: String, streams: Bool) throws {
        guard !path.isEmpty else { throw OutputPathError("\(option) is empty; give a file name") }
        if isStream(path) {
            if streams { return }
            throw OutputPathError("\(option) \(path): not a regular file (stdout, a device or a pipe); give a file name, "
                               + "the file is written beside it and renamed into place")
        }
        var st = stat()
        if stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFDIR {
            throw OutputPathError("\(option) \(path) is a directory; give a file name")
        }
        let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
        guard stat(dir, &st) == 0 else {
            let reason = errno == ENOENT ? "does not exist; create it first" : "cannot be used (\(String(cString: strerror(errno))))"
            throw OutputPathError("\(option) \(path): the directory \(dir) \(reason)")
        }
        guard st.st_mode & S_IFMT == S_IFDIR else {
            throw OutputPathError("\(option) \(path): \(dir) is not a directory")
        }
        guard access(dir, W_OK | X_OK) == 0 else {
            throw OutputPathError("\(option) \(path): no permission to write in \(dir)")
        }
    }

    /// The hidden path beside `path` where `render` builds the video, and its container; nil for
    /// streams, PNG sequences and names whose container is unknown (the writer reports those).
    public static func staging(for path: String, format: VideoWriter.Container?) -> (path: String, container: VideoWriter.Container)? {
        guard !isStream(path) else { return nil }
        let url = URL(fileURLWithPath: path)
        guard let container = format ?? VideoWriter.Container(pathExtension: url.pathExtension), container != .png else { return nil }
        return (AtomicFile.temporaryPath(for: path), container)
    }
}

/// An output path that cannot be written: the message names the option, the path and what to do.
public struct OutputPathError: LocalizedError, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var errorDescription: String? { message }
    public var description: String { message }
}
