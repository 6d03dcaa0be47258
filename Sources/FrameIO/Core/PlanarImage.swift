/// One 8-bit image plane, tightly packed (row stride == width).
public struct Plane: Sendable, Equatable {
    /// Width in samples.
    public let width: Int
    /// Height in rows.
    public let height: Int
    /// `width * height` samples, row-major.
    public var data: [UInt8]

    /// Wraps `data`; throws `FrameIOError.shapeMismatch` when `data.count != width * height`.
    public init(width: Int, height: Int, data: [UInt8]) throws {
        guard width > 0, height > 0, data.count == width * height else {
            throw FrameIOError.shapeMismatch("plane \(width)x\(height) needs \(width * height) samples, got \(data.count)")
        }
        self.width = width
        self.height = height
        self.data = data
    }
}

/// A picture as the codec sees it: its planes in an 8-bit planar pixel format (e.g. `yuv420p`:
/// Y at full size, U and V at half width and height, rounded up). Metrics that must match
/// FFmpeg's filters (ssim, psnr) work on these, not on RGB.
public struct PlanarImage: Sendable, Equatable {
    /// FFmpeg's name of the pixel format, e.g. `yuv420p`, `yuv444p`, `gray`.
    public let pixelFormat: String
    /// The planes in FFmpeg's order (Y, U, V for YUV formats).
    public var planes: [Plane]
    /// Presentation time in seconds, when known.
    public var time: Double?

    /// Groups planes under a pixel format name.
    public init(pixelFormat: String, planes: [Plane], time: Double? = nil) {
        self.pixelFormat = pixelFormat
        self.planes = planes
        self.time = time
    }
}
