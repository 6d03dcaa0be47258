import CFFmpeg

/// An error returned by an FFmpeg function: the negative `AVERROR` code, the function that
/// returned it, and FFmpeg's own message for the code (from `av_strerror`).
public struct FFmpegError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The negative AVERROR code.
    public let code: Int32
    /// The FFmpeg function that failed, e.g. `avcodec_open2`.
    public let function: String
    /// FFmpeg's message for `code`.
    public let message: String

    /// Creates an error for `code` returned by `function`, looking up FFmpeg's message.
    public init(code: Int32, function: String) {
        self.code = code
        self.function = function
        self.message = FFmpegError.describe(code)
    }

    /// `AVERROR(EAGAIN)`: the codec needs more input (or output must be drained first).
    public static let eagain = cff_averror_eagain()
    /// `AVERROR_EOF`: the stream is finished.
    public static let eof = cff_averror_eof()

    /// True when this is `AVERROR(EAGAIN)`.
    public var isAgain: Bool { code == FFmpegError.eagain }
    /// True when this is `AVERROR_EOF`.
    public var isEOF: Bool { code == FFmpegError.eof }

    /// `function: message (code)`.
    public var description: String { "\(function): \(message) (error \(code))" }

    /// FFmpeg's message for an error code.
    public static func describe(_ code: Int32) -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        return buffer.withUnsafeMutableBufferPointer { buf in
            _ = cff_err2str(code, buf.baseAddress!, buf.count)
            return String(cString: buf.baseAddress!)
        }
    }
}

/// Throws `FFmpegError` when `result` is negative; returns it otherwise.
/// The single place FrameIO turns FFmpeg return codes into Swift errors.
@discardableResult
@inline(__always)
func check(_ result: Int32, function: String) throws -> Int32 {
    if result < 0 { throw FFmpegError(code: result, function: function) }
    return result
}
