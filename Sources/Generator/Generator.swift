import Foundation

/// The Generator module: the tensor engine with autograd, layers, the text encoder, the video
/// denoiser, noise schedulers and samplers, and training. It never imports FrameIO; the
/// command-line tool joins the two.
public enum GeneratorInfo {
    /// The module's version, stored in the metadata of files it writes.
    public static let version = "0.1.0"
}

/// JSON for file metadata with its keys sorted, so the same configuration always gives the same
/// bytes (Foundation's default key order varies from run to run with dictionary hashing) and a
/// rerun of the same command writes a byte-identical weights file.
func canonicalJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}
