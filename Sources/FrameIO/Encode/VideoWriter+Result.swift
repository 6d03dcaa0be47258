extension VideoWriter {
    /// What `finish()` produced.
    public struct Result: Sendable, Codable, Equatable {
        /// The output path as given (`-` for stdout; the pattern for a PNG sequence).
        public var path: String
        /// Frames written.
        public var frameCount: Int
        /// Duration in seconds: `frameCount / frameRate`.
        public var durationSeconds: Double
        /// Bytes written (the file size; the sum over a PNG sequence; the bytes sent to stdout).
        public var bytesWritten: Int64
        /// Frame width given to `init`.
        public var width: Int
        /// Frame height given to `init`.
        public var height: Int
        /// Encoded width (differs from `width` only when padded).
        public var encodedWidth: Int
        /// Encoded height (differs from `height` only when padded).
        public var encodedHeight: Int
        /// True when an odd size was padded to even (`OddSizePolicy.pad`).
        public var padded: Bool
        /// The FFmpeg encoder used, e.g. `libx264`.
        public var codecName: String
        /// The FFmpeg muxer used, e.g. `mp4`, `matroska`, `image2`.
        public var containerName: String
        /// The pixel format the encoder received, e.g. `yuv420p`, `pal8`, `rgb24`.
        public var pixelFormat: String
    }
}
