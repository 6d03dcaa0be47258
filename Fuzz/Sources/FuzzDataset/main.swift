// libFuzzer target: the dataset readers. The input's first byte picks what the rest is:
// even - a dataset directory's `manifest.jsonl` beside one valid 2-clip shard, read by
//        `DatasetManifest.readRecords` and `DatasetLoader` (which then loads two batches);
// odd  - a shard file, opened by `ShardFile(path:)` and every clip read.
// Errors are expected; a crash, a sanitizer report or a hang is a bug.
import Foundation
import FuzzDriver
import FrameIO

private let root: URL = {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-dataset-\(getpid())")
    try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    // A valid shard of 2 clips, 2 frames of 4x3 pixels, that manifests may point at.
    let clip = (0..<(2 * 3 * 4 * 3)).map { UInt8($0 & 0xFF) }
    try? ShardFile.write(path: url.appendingPathComponent("shard-00000.safetensors").path,
                         frames: 2, width: 4, height: 3, clips: [clip, clip])
    return url
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDataset(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let bytes = UnsafeRawBufferPointer(start: start, count: count)
    let body = Data(bytes[1...])
    if bytes[0] & 1 == 0 {
        let manifest = root.appendingPathComponent(DatasetManifest.manifestName)
        guard FileManager.default.createFile(atPath: manifest.path, contents: body) else { return 0 }
        _ = try? DatasetManifest.readRecords(in: root)
        if let loader = try? DatasetLoader(directory: root, seed: 1) {
            _ = try? loader.nextBatch(1)
            _ = try? loader.nextBatch(2)
        }
    } else {
        let path = root.appendingPathComponent("fuzz.safetensors").path
        guard FileManager.default.createFile(atPath: path, contents: body) else { return 0 }
        if let shard = try? ShardFile(path: path) {
            for i in 0..<min(shard.count, 4) { _ = try? shard.clip(i) }
            _ = try? shard.clip(shard.count)
        }
    }
    return 0
}

/// The process entry point: libFuzzer's driver with `fuzzDataset` as the target (FuzzDriver).
@_cdecl("FuzzDataset_main")
public func FuzzDatasetMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    runLibFuzzer(argc, argv) { data, size in data.map { fuzzDataset($0, size) } ?? 0 }
}
