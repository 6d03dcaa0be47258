import CFFmpeg

/// Wraps a `PlanarFrameSource` and resizes every picture to `width`x`height` with swscale
/// (bicubic, same pixel format: no RGB round trip), like `ffmpeg -vf scale=W:H` in front of the
/// `ssim`/`psnr` filters. Used to compare a clip against a reference of another size.
public final class ScaledPlanesSource: PlanarFrameSource {
    /// The wrapped source.
    public let source: PlanarFrameSource
    /// Output width in pixels.
    public let width: Int
    /// Output height in pixels.
    public let height: Int
    /// The wrapped source's name.
    public var name: String { source.name }

    private var context: OpaquePointer?
    private var key: (Int, Int, String)?

    /// Resizes `source`'s pictures to `width`x`height`. Throws `FrameIOError.invalidArgument`
    /// for a non-positive size.
    public init(_ source: PlanarFrameSource, width: Int, height: Int) throws {
        guard width > 0, height > 0 else {
            throw FrameIOError.invalidArgument("scaled size must be positive, got \(width)x\(height)")
        }
        self.source = source
        self.width = width
        self.height = height
    }

    deinit { sws_freeContext(context) }

    /// The next picture at the target size (passed through when it already has it).
    /// Throws the source's errors, `FrameIOError.invalidArgument` for a format swscale lacks.
    public func nextPlanes() throws -> PlanarImage? {
        guard let image = try source.nextPlanes() else { return nil }
        guard let first = image.planes.first, first.width != width || first.height != height else { return image }
        let format = av_get_pix_fmt(image.pixelFormat)
        guard format != AV_PIX_FMT_NONE, let desc = av_pix_fmt_desc_get(format) else {
            throw FrameIOError.invalidArgument("\(name): cannot scale pixel format '\(image.pixelFormat)'")
        }
        if key == nil || key! != (first.width, first.height, image.pixelFormat) {
            sws_freeContext(context)
            context = sws_getContext(Int32(first.width), Int32(first.height), format, Int32(width), Int32(height), format,
                                     cff_sws_bicubic(), nil, nil, nil)
            guard context != nil else {
                throw FrameIOError.unsupported("\(name): swscale cannot scale \(image.pixelFormat) \(first.width)x\(first.height) to \(width)x\(height)")
            }
            key = (first.width, first.height, image.pixelFormat)
        }
        let cw = (width + (1 << Int(desc.pointee.log2_chroma_w)) - 1) >> Int(desc.pointee.log2_chroma_w)
        let ch = (height + (1 << Int(desc.pointee.log2_chroma_h)) - 1) >> Int(desc.pointee.log2_chroma_h)
        let outSizes = image.planes.indices.map { $0 == 0 || $0 == 3 ? (width, height) : (cw, ch) }
        // Source and destination planes in aligned scratch buffers (swscale reads in vectors).
        func aligned(_ w: Int) -> Int { (w + 63) & ~63 }
        let srcStrides = image.planes.map { aligned($0.width) }
        let dstStrides = outSizes.map { aligned($0.0) }
        let srcTotal = zip(image.planes, srcStrides).reduce(0) { $0 + $1.1 * ($1.0.height + 1) }
        let dstTotal = zip(outSizes, dstStrides).reduce(0) { $0 + $1.1 * ($1.0.1 + 1) }
        let src = UnsafeMutablePointer<UInt8>.allocate(capacity: srcTotal)
        let dst = UnsafeMutablePointer<UInt8>.allocate(capacity: dstTotal)
        defer {
            src.deallocate()
            dst.deallocate()
        }
        var srcSlices = [UnsafePointer<UInt8>?](), dstSlices = [UnsafeMutablePointer<UInt8>?]()
        var offset = 0
        for (plane, stride) in zip(image.planes, srcStrides) {
            let base = src + offset
            plane.data.withUnsafeBufferPointer { p in
                for row in 0..<plane.height {
                    (base + row * stride).update(from: p.baseAddress! + row * plane.width, count: plane.width)
                    // Repeat the last sample into the padding.
                    (base + row * stride + plane.width).update(repeating: p[row * plane.width + plane.width - 1],
                                                               count: stride - plane.width)
                }
            }
            srcSlices.append(UnsafePointer(base))
            offset += stride * (plane.height + 1)
        }
        offset = 0
        for (size, stride) in zip(outSizes, dstStrides) {
            dstSlices.append(dst + offset)
            offset += stride * (size.1 + 1)
        }
        while srcSlices.count < 4 { srcSlices.append(nil) }
        while dstSlices.count < 4 { dstSlices.append(nil) }
        var srcStride = srcStrides.map(Int32.init) + Array(repeating: 0, count: 4 - srcStrides.count)
        var dstStride = dstStrides.map(Int32.init) + Array(repeating: 0, count: 4 - dstStrides.count)
        let rows = sws_scale(context, &srcSlices, &srcStride, 0, Int32(first.height), &dstSlices, &dstStride)
        guard rows == Int32(height) else {
            throw FrameIOError.unsupported("\(name): swscale produced \(rows) of \(height) rows")
        }
        var planes = [Plane]()
        for (k, size) in outSizes.enumerated() {
            var data = [UInt8](repeating: 0, count: size.0 * size.1)
            data.withUnsafeMutableBufferPointer { out in
                for row in 0..<size.1 {
                    (out.baseAddress! + row * size.0).update(from: dstSlices[k]! + row * dstStrides[k], count: size.0)
                }
            }
            planes.append(try Plane(width: size.0, height: size.1, data: data))
        }
        return PlanarImage(pixelFormat: image.pixelFormat, planes: planes, time: image.time)
    }
}
