import AtomicFiles
/// An error FrameIO reports for a problem that is not a single FFmpeg return code: a bad file,
/// a shape mismatch, an unsupported combination. Each case carries enough to tell the user what
/// failed, on which file, and what to do.
public enum FrameIOError: Error, Equatable, CustomStringConvertible, Sendable {
    /// An FFmpeg call failed while working on `path`.
    case ffmpeg(path: String, FFmpegError)
    /// The input file does not exist.
    case fileNotFound(path: String)
    /// The input is not a video FFmpeg can read (text, random bytes, truncated, a directory...).
    case notAVideo(path: String, reason: String)
    /// The input has no video stream.
    case noVideoStream(path: String)
    /// The output path cannot be written (missing directory, permissions, full disk).
    case unwritable(path: String, reason: String)
    /// The container/codec combination is not supported.
    case unsupported(String)
    /// A frame's size or layout does not match what the writer or reader expects.
    case shapeMismatch(String)
    /// An argument is out of range.
    case invalidArgument(String)

    public var description: String {
        switch self {
        case let .ffmpeg(path, error):
            return "\(path): \(error.function) failed: \(error.message)"
        case let .fileNotFound(path):
            return "\(path): no such file. Check the path."
        case let .notAVideo(path, reason):
            return "\(path): not a readable video (\(reason))."
        case let .noVideoStream(path):
            return "\(path): the file has no video stream."
        case let .unwritable(path, reason):
            return "\(path): cannot write (\(reason))."
        case let .unsupported(message):
            return message
        case let .shapeMismatch(message):
            return message
        case let .invalidArgument(message):
            return message
        }
    }
}

/// Runs a write through `AtomicFile`, reporting the file system's failures as
/// `FrameIOError.unwritable` like the rest of FrameIO.
func writingAtomically<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as AtomicFileError {
        throw FrameIOError.unwritable(path: error.path, reason: error.reason)
    }
}
