/// A stream of decoded pictures pulled one at a time, in presentation order: what the metrics
/// compare. `VideoReader` (through `VideoPlanesSource`), in-memory `PlanarImage`s
/// (`PlanarImageSource`) and in-memory `RGBFrame`s (`RGBFrameSource`) provide it.
public protocol PlanarFrameSource: AnyObject {
    /// A short name for messages (a file path, "generated frames").
    var name: String { get }
    /// The next picture, or nil after the last. Throws the source's decode or conversion error.
    func nextPlanes() throws -> PlanarImage?
}

/// Pictures already in memory (or produced lazily by any iterator) as a `PlanarFrameSource`.
public final class PlanarImageSource: PlanarFrameSource {
    /// A short name for messages.
    public let name: String
    private var iterator: AnyIterator<PlanarImage>

    /// Wraps a sequence of pictures; it is consumed lazily, one picture per `nextPlanes()`.
    public init<S: Sequence>(_ images: S, name: String = "pictures") where S.Element == PlanarImage {
        var it = images.makeIterator()
        iterator = AnyIterator { it.next() }
        self.name = name
    }

    /// The next picture, or nil at the end.
    public func nextPlanes() throws -> PlanarImage? { iterator.next() }
}

/// RGB frames in memory (e.g. the generator's output before encoding) as a `PlanarFrameSource`:
/// each frame is converted with `PixelConverter` when pulled, so only one is held at a time.
public final class RGBFrameSource: PlanarFrameSource {
    /// A short name for messages.
    public let name: String
    /// Output pixel format (default `yuv420p`).
    public let pixelFormat: String
    /// YUV matrix used for the conversion.
    public let matrix: PixelConverter.Matrix
    /// Output range used for the conversion.
    public let range: PixelConverter.Range
    private var iterator: AnyIterator<RGBFrame>
    private var converter: PixelConverter?

    /// Wraps a sequence of RGB frames converted to `pixelFormat` with `matrix` and `range`, as an
    /// encoder fed through the ffmpeg CLI's default conversion would see them.
    public init<S: Sequence>(_ frames: S, pixelFormat: String = "yuv420p", matrix: PixelConverter.Matrix = .bt601,
                             range: PixelConverter.Range = .limited, name: String = "frames") where S.Element == RGBFrame {
        var it = frames.makeIterator()
        iterator = AnyIterator { it.next() }
        self.name = name
        self.pixelFormat = pixelFormat
        self.matrix = matrix
        self.range = range
    }

    /// The next frame converted to planes, or nil at the end. Throws `FrameIOError.shapeMismatch`
    /// when a frame's size differs from the first frame's.
    public func nextPlanes() throws -> PlanarImage? {
        guard let frame = iterator.next() else { return nil }
        if converter == nil || converter!.width != frame.width || converter!.height != frame.height {
            if let existing = converter {
                throw FrameIOError.shapeMismatch(
                    "\(name): frame size changed from \(existing.width)x\(existing.height) to \(frame.width)x\(frame.height)")
            }
            converter = try PixelConverter(width: frame.width, height: frame.height, pixelFormat: pixelFormat,
                                           matrix: matrix, range: range)
        }
        return try converter!.convert(frame)
    }
}
