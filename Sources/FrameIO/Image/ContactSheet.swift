/// Composes frames into one image: a grid of equally sized tiles, left to right, top to bottom,
/// separated (and framed) by `spacing` pixels of `background`.
public struct ContactSheet: Sendable, Codable, Equatable {
    /// Tiles per row (positive).
    public var columns: Int
    /// Gap between tiles and around the grid, in pixels (>= 0).
    public var spacing: Int
    /// Background colour as R, G, B bytes.
    public var background: [UInt8]

    /// Creates a layout; defaults: 4 columns, 2-pixel dark grey gaps.
    public init(columns: Int = 4, spacing: Int = 2, background: [UInt8] = [32, 32, 32]) {
        self.columns = columns
        self.spacing = spacing
        self.background = background
    }

    /// The sheet for `frames` (all the same size), as a packed RGB frame. With fewer frames than
    /// `columns`, the grid narrows to the frame count; the last row may be partly empty.
    /// Throws `FrameIOError.invalidArgument` for no frames or a bad layout, `.shapeMismatch`
    /// when the frames differ in size.
    public func compose(_ frames: [RGBFrame]) throws -> RGBFrame {
        guard let first = frames.first else { throw FrameIOError.invalidArgument("a contact sheet needs at least one frame") }
        guard columns > 0, spacing >= 0, background.count == 3 else {
            throw FrameIOError.invalidArgument("contact sheet needs columns > 0, spacing >= 0 and an RGB background")
        }
        let tileW = first.width, tileH = first.height
        for (i, f) in frames.enumerated() where f.width != tileW || f.height != tileH {
            throw FrameIOError.shapeMismatch("contact sheet frame \(i) is \(f.width)x\(f.height), expected \(tileW)x\(tileH)")
        }
        let cols = min(columns, frames.count)
        let rows = (frames.count + cols - 1) / cols
        let width = cols * tileW + (cols + 1) * spacing
        let height = rows * tileH + (rows + 1) * spacing
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        pixels.withUnsafeMutableBufferPointer { dst in
            for i in 0..<(width * height) {
                dst[i * 3] = background[0]; dst[i * 3 + 1] = background[1]; dst[i * 3 + 2] = background[2]
            }
            for (i, frame) in frames.enumerated() {
                let x0 = spacing + (i % cols) * (tileW + spacing)
                let y0 = spacing + (i / cols) * (tileH + spacing)
                frame.packedRGB.withUnsafeBufferPointer { src in
                    for y in 0..<tileH {
                        let to = dst.baseAddress! + ((y0 + y) * width + x0) * 3
                        to.update(from: src.baseAddress! + y * tileW * 3, count: tileW * 3)
                    }
                }
            }
        }
        return try RGBFrame(width: width, height: height, packed: pixels)
    }
}
