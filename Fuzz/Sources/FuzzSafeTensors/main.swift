// libFuzzer target: arbitrary bytes as a safetensors file, through both the in-memory reader
// (`SafeTensors(bytes:name:)`) and, for every 16th input, the mmap path (`SafeTensors(path:)`).
// Every tensor that opens is converted with each accessor; errors are expected, crashes are bugs.
import Foundation
import Generator

private var counter = 0

private func exercise(_ file: SafeTensors) {
    for info in file.tensors {
        _ = try? file.floats(info.name)
        _ = try? file.bytes(info.name)
        _ = try? file.int64s(info.name)
        _ = try? file.data(info.name)
    }
    _ = file.metadata.count
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSafeTensors(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = [UInt8](UnsafeRawBufferPointer(start: start, count: count))
    if let file = try? SafeTensors(bytes: bytes, name: "fuzz") { exercise(file) }
    counter += 1
    if counter % 16 == 0 {
        let path = NSTemporaryDirectory() + "fuzz-safetensors-\(getpid()).safetensors"
        if FileManager.default.createFile(atPath: path, contents: Data(bytes)),
           let file = try? SafeTensors(path: path) {
            exercise(file)
        }
        unlink(path)
    }
    return 0
}

// SwiftPM links executables with `main` aliased to `FuzzSafeTensors_main` (so that tests can call
// them), which `-parse-as-library` never emits; this entry point hands control to libFuzzer's
// driver, as libFuzzer's own `main` would.
@_silgen_name("LLVMFuzzerRunDriver")
private func runFuzzerDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: @convention(c) (UnsafeRawPointer?, Int) -> CInt) -> CInt

/// The process entry point (see above): runs libFuzzer with `fuzzSafeTensors` as the target.
@_cdecl("FuzzSafeTensors_main")
public func FuzzSafeTensorsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv = argv
    return runFuzzerDriver(&argc, &argv) { data, size in
        guard let data else { return 0 }
        return fuzzSafeTensors(data, size)
    }
}
