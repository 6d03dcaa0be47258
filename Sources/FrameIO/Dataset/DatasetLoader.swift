import Foundation

/// Streams training batches from a dataset directory written by `extract`: clips in a shuffled
/// order that depends only on the seed and the epoch, converted to Float32 in [-1, 1].
///
/// Only the manifest is held in memory; clip pixels are read from the shards on demand, one batch
/// at a time, so memory does not depend on the dataset's size.
public final class DatasetLoader {
    /// One batch: `clips` is `[batch, frames, 3, height, width]` Float32 in [-1, 1] (frame-major,
    /// channel-planar, as the denoiser takes it) and `captions[i]` belongs to clip i.
    public struct Batch: Sendable {
        /// Pixel data, `count * frames * 3 * height * width` values.
        public var clips: [Float]
        /// Captions, one per clip.
        public var captions: [String]
        /// The records the batch came from.
        public var records: [ClipRecord]
    }

    /// The dataset directory.
    public let directory: URL
    /// Every clip, in manifest order.
    public let records: [ClipRecord]
    /// Frames, height and width shared by every clip.
    public let frames: Int, height: Int, width: Int
    private let seed: UInt64
    private var shards: [String: ShardFile] = [:]
    private var order: [Int] = []
    private var cursor = 0
    /// Completed passes over the data.
    public private(set) var epoch = 0

    /// Opens the dataset. Throws when there is no manifest, it is empty, or clips differ in shape.
    public init(directory: URL, seed: UInt64) throws {
        self.directory = directory
        self.seed = seed
        let records = try DatasetManifest.readRecords(in: directory)
        guard let first = records.first else {
            throw FrameIOError.invalidArgument(
                "\(directory.path): no clips (no \(DatasetManifest.manifestName) or it is empty). Create a dataset with `t2v-render extract VIDEOS... -o \(directory.path)`.")
        }
        for r in records where r.frames != first.frames || r.width != first.width || r.height != first.height {
            throw FrameIOError.invalidArgument("\(directory.path): clips differ in shape (\(r.shard)#\(r.index) is \(r.frames)x\(r.height)x\(r.width))")
        }
        self.records = records
        frames = first.frames
        height = first.height
        width = first.width
        reshuffle()
    }

    /// Position in the stream, for checkpoints: (epoch, index within the epoch).
    public var position: (epoch: Int, index: Int) { (epoch, cursor) }

    /// Moves to a position saved from `position`, so a resumed run sees the same batches.
    public func seek(epoch: Int, index: Int) {
        self.epoch = epoch
        reshuffle()
        cursor = min(max(index, 0), order.count)
    }

    /// Clip `index` (in manifest order) as Float32 `[frames, 3, height, width]` in [-1, 1], read
    /// from its shard on demand (random access for trainers that pick their own indices).
    public func clip(at index: Int) throws -> [Float] {
        guard records.indices.contains(index) else {
            throw FrameIOError.invalidArgument("\(directory.path): clip \(index) out of range 0..<\(records.count)")
        }
        return DatasetLoader.planarFloats(try clipBytes(records[index]), frames: frames, height: height, width: width)
    }

    /// The packed bytes of a record's clip, after checking its shard holds clips of the
    /// manifest's shape.
    private func clipBytes(_ record: ClipRecord) throws -> [UInt8] {
        let file = try shard(record.shard)
        guard Array(file.shape[1...3]) == [frames, height, width] else {
            throw FrameIOError.invalidArgument(
                "\(file.path): holds clips of \(file.shape[1])x\(file.shape[2])x\(file.shape[3]) (frames x height x width) "
                + "but the manifest says \(frames)x\(height)x\(width); the dataset is damaged. Re-run extract into a new directory.")
        }
        return try file.clip(record.index)
    }

    /// Packed `[T, H, W, 3]` bytes to planar `[T, 3, H, W]` floats in [-1, 1].
    static func planarFloats(_ bytes: [UInt8], frames: Int, height: Int, width: Int) -> [Float] {
        let plane = height * width
        var out = [Float](repeating: 0, count: frames * 3 * plane)
        out.withUnsafeMutableBufferPointer { dst in
            bytes.withUnsafeBufferPointer { src in
                for f in 0..<frames {
                    let s = f * plane * 3, d = f * 3 * plane
                    for i in 0..<plane {
                        dst[d + i] = Float(src[s + i * 3]) / 127.5 - 1
                        dst[d + plane + i] = Float(src[s + i * 3 + 1]) / 127.5 - 1
                        dst[d + 2 * plane + i] = Float(src[s + i * 3 + 2]) / 127.5 - 1
                    }
                }
            }
        }
        return out
    }

    /// The next `batchSize` clips (wrapping into the next epoch, reshuffled).
    public func nextBatch(_ batchSize: Int) throws -> Batch {
        precondition(batchSize > 0, "batch size must be positive, got \(batchSize)")
        let clipFloats = frames * 3 * height * width
        var out = [Float](repeating: 0, count: batchSize * clipFloats)
        var captions: [String] = []
        var picked: [ClipRecord] = []
        for b in 0..<batchSize {
            if cursor >= order.count {
                epoch += 1
                reshuffle()
            }
            let record = records[order[cursor]]
            cursor += 1
            let floats = DatasetLoader.planarFloats(try clipBytes(record), frames: frames, height: height, width: width)
            out.replaceSubrange((b * clipFloats)..<((b + 1) * clipFloats), with: floats)
            captions.append(record.caption)
            picked.append(record)
        }
        return Batch(clips: out, captions: captions, records: picked)
    }

    private func shard(_ name: String) throws -> ShardFile {
        if let s = shards[name] { return s }
        let s = try ShardFile(path: directory.appendingPathComponent(name).path)
        shards[name] = s
        return s
    }

    /// Fisher-Yates shuffle driven by SplitMix64 seeded from (seed, epoch): the same on every
    /// machine.
    private func reshuffle() {
        order = Array(records.indices)
        var state = seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(epoch + 1)
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        if order.count > 1 {
            for i in stride(from: order.count - 1, to: 0, by: -1) {
                let j = Int(next() % UInt64(i + 1))
                order.swapAt(i, j)
            }
        }
        cursor = 0
    }
}
