import Foundation

/// Reads a latent dataset written by `LatentDatasetWriter` (`t2v-render encode-latents`): each
/// clip's latents `[T, C, h, w]` (already multiplied by the autoencoder's scale factor) and its
/// caption, by index in manifest order. Shards are opened once; a clip is read when asked for.
public final class LatentDatasetReader {
    /// One manifest record.
    public struct Record: Sendable {
        public var caption: String
        public var shard: String
        public var index: Int
        /// The clip's other captions (the source record's `alternatives`; empty when none).
        public var alternatives: [String] = []
        /// `caption` and its alternatives, the caption first.
        public var allCaptions: [String] { [caption] + alternatives }
    }

    /// The folder.
    public let directory: URL
    /// The records, in manifest order.
    public let records: [Record]
    /// Frames, latent channels, latent height and width of every clip.
    public let frames: Int, channels: Int, height: Int, width: Int
    /// SHA-256 of the autoencoder the clips were coded with (from the shards' metadata).
    public let autoencoderSHA256: String
    private var shards: [String: SafeTensors] = [:]

    /// Whether `directory` holds a latent dataset (its first shard has a `latents` tensor).
    public static func isLatentDataset(_ directory: URL) -> Bool {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path),
              let shard = names.filter({ $0.hasSuffix(".safetensors") }).sorted().first,
              let file = try? SafeTensors(contentsOf: directory.appendingPathComponent(shard)) else { return false }
        return file.tensors.contains { $0.name == LatentDatasetWriter.tensorName }
    }

    /// Opens `directory`.
    ///
    /// - Throws: `AutoencoderError.badLatentDataset` naming the file: no or unreadable manifest, a
    ///   record without caption, shard or index, a shard without `latents` or of another shape or
    ///   autoencoder than the others, an index past the shard's end.
    public init(directory: URL) throws {
        self.directory = directory
        let manifest = directory.appendingPathComponent(LatentDatasetWriter.manifestName)
        func fail(_ path: String, _ message: String) -> AutoencoderError { .badLatentDataset(path: path, message: message) }
        guard let data = FileManager.default.contents(atPath: manifest.path) else {
            throw fail(manifest.path, "no manifest; make the dataset with `t2v-render encode-latents`")
        }
        var records: [Record] = []
        for (n, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() where !line.allSatisfy({ $0 == 32 }) {
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any],
                  let shard = object["shard"] as? String, let index = object["index"] as? Int else {
                throw fail(manifest.path, "line \(n + 1) has no shard and index")
            }
            guard !shard.contains("/"), !shard.hasPrefix(".") else { throw fail(manifest.path, "line \(n + 1): shard '\(shard)' is not a file name") }
            records.append(Record(caption: object["caption"] as? String ?? "", shard: shard, index: index,
                                  alternatives: object["alternatives"] as? [String] ?? []))
        }
        guard !records.isEmpty else { throw fail(manifest.path, "no clips") }
        var shape: [Int]? = nil
        var sha: String? = nil
        var counts: [String: Int] = [:]
        for name in Set(records.map(\.shard)).sorted() {
            let url = directory.appendingPathComponent(name)
            let file: SafeTensors
            do { file = try SafeTensors(contentsOf: url) } catch { throw fail(url.path, error.localizedDescription) }
            guard let info = file.tensors.first(where: { $0.name == LatentDatasetWriter.tensorName }), info.shape.count == 5,
                  info.dtype == .f32 else {
                throw fail(url.path, "no F32 [N, T, C, h, w] tensor '\(LatentDatasetWriter.tensorName)'; is this a pixel dataset? (train on it without --autoencoder)")
            }
            let clipShape = Array(info.shape.dropFirst())
            if let shape, shape != clipShape { throw fail(url.path, "clips are \(clipShape), other shards hold \(shape)") }
            shape = clipShape
            let digest = file.metadata[LatentDatasetWriter.sha256Key] ?? ""
            if let sha, sha != digest { throw fail(url.path, "coded by another autoencoder than the other shards") }
            sha = digest
            counts[name] = info.shape[0]
            shards[name] = file
        }
        for (n, r) in records.enumerated() where !(0..<counts[r.shard]!).contains(r.index) {
            throw fail(manifest.path, "line \(n + 1): clip \(r.index) of \(r.shard), which holds \(counts[r.shard]!)")
        }
        self.records = records
        (frames, channels, height, width) = (shape![0], shape![1], shape![2], shape![3])
        autoencoderSHA256 = sha ?? ""
    }

    /// Clips in the dataset.
    public var count: Int { records.count }

    /// Clip `i`'s latents, `frames * channels * height * width` values, frame-major.
    public func clip(at i: Int) throws -> [Float] {
        let r = records[i]
        let size = frames * channels * height * width
        return try shards[r.shard]!.withUnsafeBytes(LatentDatasetWriter.tensorName) { raw in
            // F32 little-endian (checked when the writer made it); copy only this clip's bytes.
            [Float](unsafeUninitializedCapacity: size) { buffer, count in
                UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: raw.baseAddress! + r.index * size * 4, byteCount: size * 4)
                count = size
            }
        }
    }
}
