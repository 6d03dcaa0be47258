/// One RGB picture of a fixed size, as the generator produces it or a reader returns it.
///
/// Two layouts share the type so the generator can hand its output over without a per-pixel
/// copy (Swift arrays are copy-on-write; wrapping one is O(1)):
/// - `.planarFloat`: `[3, height, width]` Float32, channel-major, values in [-1, 1]
///   (the model's convention; values outside are clamped on conversion);
/// - `.packed`: `height * width * 3` UInt8, row-major RGBRGB...
public struct RGBFrame: Sendable, Equatable {
    /// Pixel storage.
    public enum Pixels: Sendable, Equatable {
        /// `height * width * 3` bytes, row-major, R G B interleaved.
        case packed([UInt8])
        /// `3 * height * width` floats, plane R then G then B, in [-1, 1].
        case planarFloat([Float])
    }

    /// Width in pixels.
    public let width: Int
    /// Height in pixels.
    public let height: Int
    /// The pixels.
    public var pixels: Pixels
    /// Presentation time in seconds, when known (set by readers; writers number frames themselves).
    public var time: Double?

    /// Wraps packed RGB24 bytes. Throws `FrameIOError.shapeMismatch` when the count is not
    /// `width * height * 3` or a dimension is not positive.
    public init(width: Int, height: Int, packed: [UInt8], time: Double? = nil) throws {
        guard width > 0, height > 0 else {
            throw FrameIOError.shapeMismatch("frame size must be positive, got \(width)x\(height)")
        }
        guard packed.count == width * height * 3 else {
            throw FrameIOError.shapeMismatch(
                "packed RGB frame \(width)x\(height) needs \(width * height * 3) bytes, got \(packed.count)")
        }
        self.width = width
        self.height = height
        self.pixels = .packed(packed)
        self.time = time
    }

    /// Wraps planar Float32 `[3, height, width]` in [-1, 1]. Throws `FrameIOError.shapeMismatch`
    /// when the count is not `3 * width * height` or a dimension is not positive.
    public init(width: Int, height: Int, planar: [Float], time: Double? = nil) throws {
        guard width > 0, height > 0 else {
            throw FrameIOError.shapeMismatch("frame size must be positive, got \(width)x\(height)")
        }
        guard planar.count == width * height * 3 else {
            throw FrameIOError.shapeMismatch(
                "planar Float32 frame [3,\(height),\(width)] needs \(width * height * 3) values, got \(planar.count)")
        }
        self.width = width
        self.height = height
        self.pixels = .planarFloat(planar)
        self.time = time
    }

    /// The frame as packed RGB24 bytes (converting from planar Float32 when needed:
    /// `round((v + 1) * 127.5)` clamped to 0...255).
    public var packedRGB: [UInt8] {
        switch pixels {
        case let .packed(bytes):
            return bytes
        case let .planarFloat(values):
            let plane = width * height
            var out = [UInt8](repeating: 0, count: plane * 3)
            values.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for c in 0..<3 {
                        let base = c * plane
                        for i in 0..<plane {
                            let v = (src[base + i] + 1) * 127.5
                            let clamped = v < 0 ? 0 : (v > 255 ? 255 : v)
                            dst[i * 3 + c] = UInt8(clamped.rounded())
                        }
                    }
                }
            }
            return out
        }
    }

    /// The frame as planar Float32 `[3, height, width]` in [-1, 1] (`v / 127.5 - 1` from bytes).
    public var planarFloat: [Float] {
        switch pixels {
        case let .planarFloat(values):
            return values
        case let .packed(bytes):
            let plane = width * height
            var out = [Float](repeating: 0, count: plane * 3)
            bytes.withUnsafeBufferPointer { src in
                out.withUnsafeMutableBufferPointer { dst in
                    for i in 0..<plane {
                        dst[i] = Float(src[i * 3]) / 127.5 - 1
                        dst[plane + i] = Float(src[i * 3 + 1]) / 127.5 - 1
                        dst[2 * plane + i] = Float(src[i * 3 + 2]) / 127.5 - 1
                    }
                }
            }
            return out
        }
    }
}
