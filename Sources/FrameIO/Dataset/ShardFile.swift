import AtomicFiles
import Foundation

/// A dataset shard: a safetensors file holding one UInt8 tensor `clips` of shape
/// `[N, T, H, W, 3]` (N clips of T frames, packed RGB) plus a string metadata map. Python reads it
/// as it is: `safetensors.numpy.load_file(path)["clips"]`.
///
/// Reading never loads the whole file: clips are read one at a time with `pread`.
public final class ShardFile {
    /// Name of the tensor inside the file.
    public static let tensorName = "clips"
    /// Refuse headers larger than this (a hostile file could claim terabytes).
    public static let maxHeaderBytes = 1 << 24

    /// Path of the file.
    public let path: String
    /// Shape `[N, T, H, W, 3]`.
    public let shape: [Int]
    /// The `__metadata__` map.
    public let metadata: [String: String]
    private let dataStart: Int
    private let handle: FileHandle

    /// Number of clips.
    public var count: Int { shape[0] }
    /// Bytes per clip: `T * H * W * 3`.
    public var clipBytes: Int { shape[1] * shape[2] * shape[3] * shape[4] }

    /// Opens and validates a shard. Throws `FrameIOError.notAVideo`-style `.invalidArgument`
    /// errors naming the file for anything that is not a well-formed U8 `[N,T,H,W,3]` shard.
    public init(path: String) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw FrameIOError.fileNotFound(path: path)
        }
        self.handle = handle
        func bad(_ why: String) -> FrameIOError {
            .invalidArgument("\(path): not a valid dataset shard (\(why)). Re-run extract to rebuild it.")
        }
        let fileSize = Int((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.int64Value ?? 0)
        let prefix = try handle.read(upToCount: 8) ?? Data()
        guard prefix.count == 8 else { throw bad("file shorter than 8 bytes") }
        let headerLength = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= UInt64(ShardFile.maxHeaderBytes), Int(headerLength) + 8 <= fileSize else {
            throw bad("header length \(headerLength) is past the end of the \(fileSize)-byte file")
        }
        let headerData = try handle.read(upToCount: Int(headerLength)) ?? Data()
        guard headerData.count == Int(headerLength),
              let json = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw bad("header is not a JSON object")
        }
        metadata = (json["__metadata__"] as? [String: String]) ?? [:]
        guard let entry = json[ShardFile.tensorName] as? [String: Any],
              let dtype = entry["dtype"] as? String,
              let shape = entry["shape"] as? [Int],
              let offsets = entry["data_offsets"] as? [Int], offsets.count == 2 else {
            throw bad("no '\(ShardFile.tensorName)' tensor with dtype, shape and data_offsets")
        }
        guard dtype == "U8" else { throw bad("dtype \(dtype), expected U8") }
        guard shape.count == 5, shape[4] == 3, shape.allSatisfy({ $0 >= 0 }), shape[1...3].allSatisfy({ $0 > 0 }) else {
            throw bad("shape \(shape), expected [N, T, H, W, 3]")
        }
        var (count, overflow) = (1, false)
        for d in shape {
            (count, overflow) = count.multipliedReportingOverflow(by: d)
            if overflow { throw bad("shape \(shape) overflows") }
        }
        guard offsets[0] == 0, offsets[1] == count else {
            throw bad("data_offsets \(offsets) do not match shape \(shape) (\(count) bytes)")
        }
        dataStart = 8 + Int(headerLength)
        guard count == fileSize - dataStart else {
            throw bad("data is \(fileSize - dataStart) bytes, shape \(shape) needs \(count)")
        }
        self.shape = shape
    }

    deinit { try? handle.close() }

    /// The packed RGB bytes of clip `index` (`T*H*W*3` bytes, frame-major).
    public func clip(_ index: Int) throws -> [UInt8] {
        guard index >= 0, index < count else {
            throw FrameIOError.invalidArgument("\(path): clip index \(index) out of range 0..<\(count)")
        }
        let size = clipBytes
        var out = [UInt8](repeating: 0, count: size)
        let fd = handle.fileDescriptor
        var done = 0
        let offset = dataStart + index * size
        try out.withUnsafeMutableBytes { buf in
            while done < size {
                let n = pread(fd, buf.baseAddress! + done, size - done, off_t(offset + done))
                if n <= 0 {
                    throw FrameIOError.invalidArgument("\(path): short read at clip \(index); the shard is truncated")
                }
                done += n
            }
        }
        return out
    }

    /// Writes a shard atomically (temporary file beside `path`, fsync, rename).
    /// `clips` are `T*H*W*3`-byte buffers, all the same size.
    public static func write(path: String, frames: Int, width: Int, height: Int,
                             clips: [[UInt8]], metadata: [String: String] = [:]) throws {
        let clipBytes = frames * width * height * 3
        for (i, c) in clips.enumerated() where c.count != clipBytes {
            throw FrameIOError.shapeMismatch("clip \(i) has \(c.count) bytes, expected \(clipBytes) for \(frames)x\(height)x\(width)x3")
        }
        let total = clipBytes * clips.count
        var header: [String: Any] = [
            tensorName: ["dtype": "U8", "shape": [clips.count, frames, height, width, 3], "data_offsets": [0, total]] as [String: Any],
        ]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var headerData = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        while headerData.count % 8 != 0 { headerData.append(0x20) }
        var prefix = UInt64(headerData.count).littleEndian
        let prefixData = Data(bytes: &prefix, count: 8)
        try writingAtomically {
            try AtomicFile.write(to: path) { handle in
                try handle.write(contentsOf: prefixData)
                try handle.write(contentsOf: headerData)
                for c in clips { try c.withUnsafeBytes { try handle.write(contentsOf: Data($0)) } }
            }
        }
    }
}
