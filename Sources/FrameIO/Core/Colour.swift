/// The RGB<->YUV matrix of a video: what the encoder converts with and tags the stream with
/// (`VideoWriter.Options.matrix`), and what `PixelConverter` uses for metrics.
public enum ColourMatrix: String, Sendable, Codable, CaseIterable {
    /// ITU-R BT.709 (HD): tagged bt709 colorspace, primaries and transfer.
    case bt709
    /// ITU-R BT.601 (SD, 525-line; swscale's default): tagged smpte170m colorspace, primaries and transfer.
    case bt601
}

/// Luma/chroma value range.
public enum ColourRange: String, Sendable, Codable, CaseIterable {
    /// Limited ("tv", MPEG) range: Y 16...235, Cb/Cr 16...240. What players expect.
    case limited
    /// Full ("pc", JPEG) range: 0...255.
    case full
}
