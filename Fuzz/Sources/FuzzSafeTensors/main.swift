// libFuzzer target: arbitrary bytes as a safetensors file, through both the in-memory reader
// (`SafeTensors(bytes:name:)`) and, for every 16th input, the mmap path (`SafeTensors(path:)`).
// Every tensor that opens is converted with each accessor; errors are expected, crashes are bugs.
import Foundation
import FuzzDriver
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

/// The process entry point: libFuzzer's driver with `fuzzSafeTensors` as the target (FuzzDriver).
@_cdecl("FuzzSafeTensors_main")
public func FuzzSafeTensorsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in data.map { fuzzSafeTensors($0, size) } ?? 0 }
}
