import FrameIO
import Foundation
import Renderer

/// Still-image formats `t2v-scenes sheet` writes.
enum ImageFormat: String, CaseIterable {
    /// PNG (RGB, 8-bit), through FrameIO's `PNGImage`.
    case png
    /// Binary PPM (P6, 8-bit).
    case ppm
}

/// Writes single frames as image files (atomically).
enum ImageFile {
    /// Writes `frame` in the format named by `url`'s extension.
    static func write(_ frame: RGBFrame, to url: URL) throws {
        switch ImageFormat(rawValue: url.pathExtension.lowercased()) {
        case .ppm:
            var data = Data("P6\n\(frame.width) \(frame.height)\n255\n".utf8)
            data.append(contentsOf: frame.packedRGB)
            try writeAtomically(data, to: url)
        case .png:
            do { try PNGImage.write(frame, to: url.path) } catch let error as FrameIOError {
                throw CommandError("\(url.path): cannot write the PNG (\(error.description)).")
            }
        case nil:
            throw CommandError("\(url.path): unsupported image type; use .png or .ppm")
        }
    }
}
