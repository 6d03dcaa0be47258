import Foundation

/// Combines datasets written by separate `extract --shard i/N` runs into one directory: shards are
/// hard-linked (copied when linking fails) under new consecutive names and the manifests are
/// concatenated with the new names. A clip present in several inputs (same source and start) is
/// kept once.
public enum DatasetMerger {
    /// What a merge did.
    public struct Summary: Sendable, Equatable {
        /// Clips in the merged manifest.
        public var clips: Int
        /// Shard files in the output.
        public var shards: Int
        /// Clips dropped as duplicates.
        public var duplicates: Int
    }

    /// Merges `sources` into `output` (created if needed; it must not already hold clips).
    public static func merge(_ sources: [URL], into output: URL) throws -> Summary {
        guard !sources.isEmpty else { throw FrameIOError.invalidArgument("merge needs at least one dataset directory") }
        var all: [(URL, [ClipRecord])] = []
        for dir in sources {
            let records = try DatasetManifest.readRecords(in: dir)
            if records.isEmpty && !FileManager.default.fileExists(atPath: dir.appendingPathComponent(DatasetManifest.manifestName).path) {
                throw FrameIOError.invalidArgument("\(dir.path): not a dataset directory (no \(DatasetManifest.manifestName))")
            }
            all.append((dir, records))
        }
        let shape = all.lazy.flatMap(\.1).first
        guard let shape else { throw FrameIOError.invalidArgument("nothing to merge: every manifest is empty") }
        let writer = try DatasetWriter(directory: output, frames: shape.frames, width: shape.width, height: shape.height)
        guard (try DatasetManifest.readRecords(in: output)).isEmpty else {
            throw FrameIOError.invalidArgument("\(output.path) already holds a dataset; merge into an empty directory")
        }
        _ = writer
        var seen = Set<String>()
        var lines: [String] = []
        var shardCount = 0
        var duplicates = 0
        var inputs: [String] = []
        for (dir, records) in all {
            var renamed: [String: String] = [:]
            for r in records {
                guard r.frames == shape.frames, r.width == shape.width, r.height == shape.height else {
                    throw FrameIOError.invalidArgument("\(dir.path): clips are \(r.frames)x\(r.height)x\(r.width), others \(shape.frames)x\(shape.height)x\(shape.width); cannot merge")
                }
                if !seen.insert(r.clipKey).inserted { duplicates += 1; continue }
                let newName: String
                if let n = renamed[r.shard] {
                    newName = n
                } else {
                    newName = String(format: "shard-%05d.safetensors", shardCount)
                    shardCount += 1
                    let src = dir.appendingPathComponent(r.shard).path
                    let dst = output.appendingPathComponent(newName).path
                    if link(src, dst) != 0 {
                        do { try FileManager.default.copyItem(atPath: src, toPath: dst) } catch {
                            throw FrameIOError.unwritable(path: dst, reason: error.localizedDescription)
                        }
                    }
                    renamed[r.shard] = newName
                }
                var m = r
                m.shard = newName
                lines.append(try DatasetManifest.jsonLine(m))
            }
            inputs += try DatasetManifest.readFinishedInputs(in: dir)
        }
        try DatasetManifest.append(lines: lines, to: output.appendingPathComponent(DatasetManifest.manifestName))
        if !inputs.isEmpty {
            try DatasetManifest.append(lines: try inputs.map { try DatasetManifest.jsonLine(["source": $0]) },
                                       to: output.appendingPathComponent(DatasetManifest.inputsName))
        }
        return Summary(clips: lines.count, shards: shardCount, duplicates: duplicates)
    }
}
