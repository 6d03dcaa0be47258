// libFuzzer target: arbitrary bytes (seeded with small MP4/WebM/MKV clips) written to a file and
// opened by `VideoReader`, which decodes up to 8 frames as packed RGB, then seeks and decodes
// one more, then reads planes. FFmpeg itself is not instrumented; the Swift side (size checks,
// conversion, timestamps, seeking) is. Errors are expected; a crash or sanitizer report is a bug.
import Foundation
import FuzzDriver
import FrameIO

private let path: String = {
    VideoWriter.setFFmpegLogLevel(.quiet)  // damaged input makes FFmpeg log a lot; it slows fuzzing
    return NSTemporaryDirectory() + "fuzz-video-\(getpid()).bin"
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVideoReader(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes: start, count: count)) else { return 0 }
    defer { unlink(path) }
    var options = VideoReader.Options()
    options.threads = 1
    options.maxPixels = 1 << 20
    if let reader = try? VideoReader(path: path, options: options) {
        var n = 0
        while n < 8, let frame = try? reader.nextFrame() { _ = frame; n += 1 }
        try? reader.seek(toSeconds: 0.1)
        _ = try? reader.nextFrame()
    }
    options.size = VideoReader.Size(width: 16, height: 12)
    options.frameRate = 5
    if let reader = try? VideoReader(path: path, options: options) {
        var n = 0
        while n < 4, let planes = try? reader.nextPlanes() { _ = planes; n += 1 }
    }
    return 0
}

/// The process entry point: libFuzzer's driver with `fuzzVideoReader` as the target (FuzzDriver).
@_cdecl("FuzzVideoReader_main")
public func FuzzVideoReaderMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in data.map { fuzzVideoReader($0, size) } ?? 0 }
}
