import CFFmpeg

/// Converts in-memory `RGBFrame`s to 8-bit planar YUV (`yuv420p`, `yuv444p`, ...) with swscale,
/// the way the ffmpeg CLI's auto-inserted conversion does (`scale` with `flags=bicubic`, the
/// chosen matrix and range), so metrics on generated frames see what an encoder would be fed.
/// The output is byte-identical to `ffmpeg -f rawvideo -pix_fmt rgb24 ... -pix_fmt yuv420p`
/// except, for odd widths, the last chroma column: swscale averages the last pixel with the one
/// past the row end, which in the CLI is the next row's first pixel (and past the last row,
/// whatever lies in memory); here the row's last pixel is repeated instead.
///
/// One converter serves one frame size; it owns its `SwsContext` and is not thread-safe (use one
/// per thread).
public final class PixelConverter {
    /// The YUV matrix (colour coefficients) of the output: the package's one `ColourMatrix`.
    public typealias Matrix = ColourMatrix
    /// The output's sample range: the package's one `ColourRange`.
    public typealias Range = ColourRange

    /// Frame width in pixels.
    public let width: Int
    /// Frame height in pixels.
    public let height: Int
    /// FFmpeg's name of the output pixel format.
    public let pixelFormat: String
    /// The YUV matrix.
    public let matrix: Matrix
    /// The output range.
    public let range: Range

    private let context: OpaquePointer
    private let format: AVPixelFormat
    private let planeSizes: [(width: Int, height: Int)]

    /// Creates a converter for `width`x`height` RGB24 frames to `pixelFormat` (an 8-bit planar
    /// YUV or gray format FFmpeg knows). Throws `FrameIOError.invalidArgument` for an unknown or
    /// non-planar format or a non-positive size, `FrameIOError.unsupported` if swscale refuses.
    public init(width: Int, height: Int, pixelFormat: String = "yuv420p", matrix: Matrix = .bt601,
                range: Range = .limited) throws {
        guard width > 0, height > 0 else {
            throw FrameIOError.invalidArgument("pixel converter size must be positive, got \(width)x\(height)")
        }
        let format = av_get_pix_fmt(pixelFormat)
        guard format != AV_PIX_FMT_NONE, let desc = av_pix_fmt_desc_get(format) else {
            throw FrameIOError.invalidArgument("unknown pixel format '\(pixelFormat)'; use e.g. yuv420p or yuv444p")
        }
        let planar = (desc.pointee.flags & UInt64(AV_PIX_FMT_FLAG_PLANAR)) != 0 || desc.pointee.nb_components == 1
        guard planar, desc.pointee.comp.0.depth == 8,
              (desc.pointee.flags & UInt64(AV_PIX_FMT_FLAG_RGB)) == 0 else {
            throw FrameIOError.invalidArgument("'\(pixelFormat)' is not an 8-bit planar YUV or gray format")
        }
        let cw = (width + (1 << Int(desc.pointee.log2_chroma_w)) - 1) >> Int(desc.pointee.log2_chroma_w)
        let ch = (height + (1 << Int(desc.pointee.log2_chroma_h)) - 1) >> Int(desc.pointee.log2_chroma_h)
        let count = Int(desc.pointee.nb_components)
        planeSizes = (0..<count).map { $0 == 0 || $0 == 3 ? (width, height) : (cw, ch) }
        guard let context = sws_getContext(Int32(width), Int32(height), AV_PIX_FMT_RGB24,
                                           Int32(width), Int32(height), format,
                                           cff_sws_bicubic(), nil, nil, nil) else {
            throw FrameIOError.unsupported("swscale cannot convert rgb24 to \(pixelFormat) at \(width)x\(height)")
        }
        let colorspace = matrix == .bt709 ? cff_sws_cs_itu709() : cff_sws_cs_itu601()
        let coefficients = sws_getCoefficients(colorspace)
        // Source: RGB is full range; the matrix only applies to the YUV side.
        _ = sws_setColorspaceDetails(context, coefficients, 1, coefficients, range == .full ? 1 : 0,
                                     0, 1 << 16, 1 << 16)
        self.context = context
        self.format = format
        self.width = width
        self.height = height
        self.pixelFormat = pixelFormat
        self.matrix = matrix
        self.range = range
    }

    deinit { sws_freeContext(context) }

    /// Converts one frame (planar Float32 frames are quantised to RGB24 first, as `packedRGB`
    /// does). Throws `FrameIOError.shapeMismatch` when the frame's size is not the converter's.
    public func convert(_ frame: RGBFrame) throws -> PlanarImage {
        guard frame.width == width, frame.height == height else {
            throw FrameIOError.shapeMismatch(
                "pixel converter is for \(width)x\(height) frames, got \(frame.width)x\(frame.height)")
        }
        let rgb = frame.packedRGB
        // Destination planes with 64-byte aligned strides in one buffer, as swscale prefers.
        let strides = planeSizes.map { ($0.width + 63) & ~63 }
        var offsets = [Int](), total = 0
        for (stride, size) in zip(strides, planeSizes) {
            offsets.append(total)
            total += stride * size.height
        }
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: total + 64)
        defer { buffer.deallocate() }
        // Source rows padded to an aligned stride with the last pixel repeated: for odd widths
        // swscale's horizontal chroma halving reads one pixel past the row.
        let srcStrideBytes = ((width + 1) * 3 + 63) & ~63
        let source = UnsafeMutablePointer<UInt8>.allocate(capacity: srcStrideBytes * height)
        defer { source.deallocate() }
        rgb.withUnsafeBufferPointer { src in
            for row in 0..<height {
                let dst = source + row * srcStrideBytes
                dst.update(from: src.baseAddress! + row * width * 3, count: width * 3)
                (dst + width * 3).update(from: dst + (width - 1) * 3, count: 3)
            }
        }
        let result: Int32 = {
            var srcSlice: [UnsafePointer<UInt8>?] = [UnsafePointer(source), nil, nil, nil]
            var srcStride: [Int32] = [Int32(srcStrideBytes), 0, 0, 0]
            var dstSlice: [UnsafeMutablePointer<UInt8>?] = offsets.map { buffer + $0 }
                + Array(repeating: nil, count: 4 - offsets.count)
            var dstStride = strides.map { Int32($0) } + Array(repeating: 0, count: 4 - strides.count)
            return sws_scale(context, &srcSlice, &srcStride, 0, Int32(height), &dstSlice, &dstStride)
        }()
        guard result == Int32(height) else {
            throw FrameIOError.unsupported("swscale converted \(result) of \(height) rows to \(pixelFormat)")
        }
        var planes = [Plane]()
        for (i, size) in planeSizes.enumerated() {
            var tight = [UInt8](repeating: 0, count: size.width * size.height)
            tight.withUnsafeMutableBufferPointer { dst in
                for row in 0..<size.height {
                    (dst.baseAddress! + row * size.width)
                        .update(from: buffer + offsets[i] + row * strides[i], count: size.width)
                }
            }
            planes.append(try Plane(width: size.width, height: size.height, data: tight))
        }
        return PlanarImage(pixelFormat: pixelFormat, planes: planes, time: frame.time)
    }
}
