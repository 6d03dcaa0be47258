extension VideoReader {
    /// A single-pass sequence over a reader's remaining frames, for `for frame in reader.frames()`.
    /// Iteration ends at the end of the stream or at the first error, which `error` then holds
    /// (check it after the loop).
    public final class FrameSequence: Sequence, IteratorProtocol {
        private let reader: VideoReader
        /// The error that ended iteration early, nil when the stream simply ended.
        public private(set) var error: Error?

        init(reader: VideoReader) {
            self.reader = reader
        }

        /// The next frame (`VideoReader.nextFrame()`), nil at the end or after an error.
        public func next() -> RGBFrame? {
            guard error == nil else { return nil }
            do {
                return try reader.nextFrame()
            } catch {
                self.error = error
                return nil
            }
        }
    }

    /// The remaining frames as a `Sequence` (see `FrameSequence` for error handling).
    public func frames() -> FrameSequence {
        FrameSequence(reader: self)
    }
}
