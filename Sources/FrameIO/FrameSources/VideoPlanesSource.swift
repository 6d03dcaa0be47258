/// A `VideoReader` as a `PlanarFrameSource`: decoded planes in `pixelFormat` (converted only
/// when the stream's own format differs; no RGB round trip).
public final class VideoPlanesSource: PlanarFrameSource {
    /// The reader pulled from.
    public let reader: VideoReader
    /// The planar pixel format requested from the reader (default `yuv420p`).
    public let pixelFormat: String
    /// The reader's path.
    public var name: String { reader.info.path }

    /// Wraps `reader`; pictures come out as `pixelFormat`.
    public init(_ reader: VideoReader, pixelFormat: String = "yuv420p") {
        self.reader = reader
        self.pixelFormat = pixelFormat
    }

    /// Opens `path` with `options` and wraps the reader. Throws the reader's errors
    /// (`FrameIOError.fileNotFound`, `.notAVideo`, `.noVideoStream`, ...).
    public convenience init(path: String, options: VideoReader.Options = .init(), pixelFormat: String = "yuv420p") throws {
        self.init(try VideoReader(path: path, options: options), pixelFormat: pixelFormat)
    }

    /// The next decoded picture, or nil at the end of the stream.
    public func nextPlanes() throws -> PlanarImage? {
        try reader.nextPlanes(pixelFormat: pixelFormat)
    }
}
