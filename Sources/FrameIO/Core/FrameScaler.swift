import CFFmpeg

/// Resizes packed RGB24 frames with swscale (e.g. the generator's 32x32 output up to 256x256
/// before encoding). One scaler serves one input and one output size; it owns its `SwsContext`
/// and is not thread-safe.
public final class FrameScaler {
    /// The interpolation filter.
    public enum Filter: String, Sendable, Codable, CaseIterable {
        /// Lanczos (sharpest; the default for upscaling generated frames).
        case lanczos
        /// Bicubic.
        case bicubic
        /// Bilinear.
        case bilinear
        /// Area averaging (for reductions).
        case area
        /// Nearest neighbour (blocky; useful to look at pixels).
        case point

        var flags: Int32 {
            switch self {
            case .lanczos: return cff_sws_lanczos()
            case .bicubic: return cff_sws_bicubic()
            case .bilinear: return cff_sws_bilinear()
            case .area: return cff_sws_area()
            case .point: return cff_sws_point()
            }
        }
    }

    /// Input size.
    public let inputWidth: Int, inputHeight: Int
    /// Output size.
    public let outputWidth: Int, outputHeight: Int
    /// The filter.
    public let filter: Filter
    private let context: OpaquePointer

    /// Creates a scaler from `inputWidth`x`inputHeight` to `outputWidth`x`outputHeight`.
    /// Throws `FrameIOError.invalidArgument` for non-positive or huge sizes.
    public init(inputWidth: Int, inputHeight: Int, outputWidth: Int, outputHeight: Int, filter: Filter = .lanczos) throws {
        for (w, h) in [(inputWidth, inputHeight), (outputWidth, outputHeight)] {
            guard w > 0, h > 0, w <= 16384, h <= 16384 else {
                throw FrameIOError.invalidArgument("scaler size \(w)x\(h) is out of range (1...16384 per side)")
            }
        }
        guard let context = sws_getContext(Int32(inputWidth), Int32(inputHeight), AV_PIX_FMT_RGB24,
                                           Int32(outputWidth), Int32(outputHeight), AV_PIX_FMT_RGB24,
                                           filter.flags | cff_sws_accurate_rnd() | cff_sws_full_chr_h_int(), nil, nil, nil) else {
            throw FrameIOError.unsupported("swscale cannot scale \(inputWidth)x\(inputHeight) to \(outputWidth)x\(outputHeight)")
        }
        self.context = context
        self.inputWidth = inputWidth
        self.inputHeight = inputHeight
        self.outputWidth = outputWidth
        self.outputHeight = outputHeight
        self.filter = filter
    }

    deinit { sws_freeContext(context) }

    /// The frame resized to the output size, as packed RGB24 (time kept). Throws
    /// `FrameIOError.shapeMismatch` when the frame is not of the input size.
    public func scale(_ frame: RGBFrame) throws -> RGBFrame {
        guard frame.width == inputWidth, frame.height == inputHeight else {
            throw FrameIOError.shapeMismatch("scaler expects \(inputWidth)x\(inputHeight) frames, got \(frame.width)x\(frame.height)")
        }
        if inputWidth == outputWidth && inputHeight == outputHeight { return frame }
        let src = frame.packedRGB
        var dst = [UInt8](repeating: 0, count: outputWidth * outputHeight * 3)
        src.withUnsafeBufferPointer { s in
            dst.withUnsafeMutableBufferPointer { d in
                var srcPlanes: [UnsafePointer<UInt8>?] = [s.baseAddress, nil, nil, nil]
                var dstPlanes: [UnsafeMutablePointer<UInt8>?] = [d.baseAddress, nil, nil, nil]
                var srcStrides: [Int32] = [Int32(inputWidth * 3), 0, 0, 0]
                var dstStrides: [Int32] = [Int32(outputWidth * 3), 0, 0, 0]
                _ = sws_scale(context, &srcPlanes, &srcStrides, 0, Int32(inputHeight), &dstPlanes, &dstStrides)
            }
        }
        return try RGBFrame(width: outputWidth, height: outputHeight, packed: dst, time: frame.time)
    }
}
