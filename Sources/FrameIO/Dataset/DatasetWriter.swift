import AtomicFiles
import Foundation

/// Writes clips into a dataset directory: shards of bounded size (`shard-NNNNN.safetensors`), one
/// `manifest.jsonl` line per clip, `inputs.jsonl` recording each finished input, and
/// `errors.jsonl` for inputs that could not be read.
///
/// Crash safety: a shard is renamed into place complete, and only then are its manifest lines
/// appended (and fsync'ed); killing the process loses at most the shard in progress. On reopening,
/// clips already in the manifest (same source and start) are skipped, so a resumed run never
/// duplicates a clip. An exclusive `flock` on `.lock` refuses a second writer on the same
/// directory instead of letting two runs corrupt it.
public final class DatasetWriter {
    /// The dataset directory.
    public let directory: URL
    /// Clip frame count, width and height every clip must have.
    public let frames: Int, width: Int, height: Int
    /// Largest shard in bytes of pixel data (at least one clip per shard).
    public let maxShardBytes: Int

    private var pending: [([UInt8], ClipRecordDraft)] = []
    private var pendingInputs: [String] = []
    private var nextShard: Int
    private var lockFD: Int32
    private(set) var knownClips: Set<String>
    /// Inputs already finished in this directory (by an earlier run or this one).
    public private(set) var finishedInputs: Set<String>
    /// Clips written by this writer (committed to the manifest).
    public private(set) var clipsWritten = 0
    /// Clips queued but not yet in a committed shard.
    public var pendingCount: Int { pending.count }
    /// Pixel bytes written by this writer.
    public private(set) var bytesWritten = 0

    /// What the caller knows about a clip; the writer fills in shard and index.
    public struct ClipRecordDraft: Sendable {
        /// Source path.
        public var source: String
        /// Start time in seconds.
        public var start: Double
        /// Sampling rate, frames per second.
        public var fps: Double
        /// Caption (may be empty).
        public var caption: String
        /// Other captions of the clip (`ClipRecord.alternatives`).
        public var alternatives: [String]?
        /// Creates a draft.
        public init(source: String, start: Double, fps: Double, caption: String, alternatives: [String]? = nil) {
            self.source = source
            self.start = start
            self.fps = fps
            self.caption = caption
            self.alternatives = alternatives
        }
    }

    /// Opens (creating if needed) `directory` for writing clips of `frames x height x width`.
    /// Throws `FrameIOError.unwritable` when the directory cannot be created or is locked by
    /// another run, and `.invalidArgument` when it holds clips of another shape.
    public init(directory: URL, frames: Int, width: Int, height: Int, maxShardBytes: Int = 64 << 20) throws {
        guard frames > 0, width > 0, height > 0 else {
            throw FrameIOError.invalidArgument("clip shape must be positive, got \(frames) frames of \(width)x\(height)")
        }
        self.directory = directory
        self.frames = frames
        self.width = width
        self.height = height
        self.maxShardBytes = max(maxShardBytes, 1)
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw FrameIOError.unwritable(path: directory.path, reason: error.localizedDescription)
        }
        let lockPath = directory.appendingPathComponent(".lock").path
        lockFD = open(lockPath, O_CREAT | O_RDWR, 0o644)
        guard lockFD >= 0 else {
            throw FrameIOError.unwritable(path: directory.path, reason: "cannot create \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(lockFD, LOCK_EX | LOCK_NB) == 0 else {
            Glibc.close(lockFD)
            throw FrameIOError.unwritable(path: directory.path,
                reason: "another extract run is writing to this directory (it holds .lock); wait for it or choose another -o")
        }
        for name in [DatasetManifest.manifestName, DatasetManifest.inputsName, DatasetManifest.errorsName] {
            try DatasetManifest.truncateTornTail(directory.appendingPathComponent(name))
        }
        let existing = try DatasetManifest.readRecords(in: directory)
        if let first = existing.first, first.frames != frames || first.width != width || first.height != height {
            flock(lockFD, LOCK_UN); Glibc.close(lockFD)
            throw FrameIOError.invalidArgument(
                "\(directory.path) already holds clips of \(first.frames) frames at \(first.width)x\(first.height); "
                + "use another output directory for \(frames) frames at \(width)x\(height)")
        }
        knownClips = Set(existing.map(\.clipKey))
        finishedInputs = Set(try DatasetManifest.readFinishedInputs(in: directory))
        // Next shard number: after every shard file present (committed or orphaned by a crash).
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        var maxIndex = -1
        for name in names {
            if let target = AtomicFile.target(ofTemporary: name), target.hasPrefix("shard-") {
                // A temporary file left by a killed run: never referenced by the manifest.
                try? FileManager.default.removeItem(at: directory.appendingPathComponent(name))
            } else if name.hasPrefix("shard-"), name.hasSuffix(".safetensors"),
                      let n = Int(name.dropFirst(6).dropLast(12)) {
                maxIndex = max(maxIndex, n)
            }
        }
        nextShard = maxIndex + 1
    }

    deinit {
        flock(lockFD, LOCK_UN)
        Glibc.close(lockFD)
    }

    /// True when a clip with this source and start is already in the dataset.
    public func contains(source: String, start: Double) -> Bool {
        knownClips.contains(ClipRecord(shard: "", index: 0, source: source, start: start, fps: 0,
                                       frames: 0, width: 0, height: 0, caption: "").clipKey)
    }

    /// Queues one clip (`frames*height*width*3` packed RGB bytes); writes a shard when the
    /// queue reaches `maxShardBytes`. Clips already present are ignored (returns false).
    @discardableResult
    public func add(clip: [UInt8], _ draft: ClipRecordDraft) throws -> Bool {
        let clipBytes = frames * width * height * 3
        guard clip.count == clipBytes else {
            throw FrameIOError.shapeMismatch("clip from \(draft.source) has \(clip.count) bytes, expected \(clipBytes)")
        }
        if contains(source: draft.source, start: draft.start) { return false }
        pending.append((clip, draft))
        knownClips.insert(ClipRecord(shard: "", index: 0, source: draft.source, start: draft.start, fps: 0,
                                     frames: 0, width: 0, height: 0, caption: "").clipKey)
        if (pending.count + 1) * clipBytes > maxShardBytes { try flush() }
        return true
    }

    /// Marks `source` finished: recorded once every clip queued so far is committed.
    public func finishInput(_ source: String) throws {
        pendingInputs.append(source)
        if pending.isEmpty { try flush() }
    }

    /// Records an input that could not be read in `errors.jsonl` (not marked finished, so a
    /// later run retries it).
    public func recordError(source: String, message: String) throws {
        try DatasetManifest.recordError(source: source, message: message, in: directory)
    }

    /// Writes the queued clips as a shard, then appends their manifest lines and the finished
    /// inputs. A no-op for an empty queue (beyond recording finished inputs).
    public func flush() throws {
        var lines: [String] = []
        if !pending.isEmpty {
            let name = String(format: "shard-%05d.safetensors", nextShard)
            let path = directory.appendingPathComponent(name).path
            try ShardFile.write(path: path, frames: frames, width: width, height: height,
                                clips: pending.map(\.0), metadata: ["format": "t2v-render clips [N,T,H,W,3] uint8 RGB"])
            nextShard += 1
            for (i, (_, d)) in pending.enumerated() {
                let record = ClipRecord(shard: name, index: i, source: d.source, start: d.start, fps: d.fps,
                                        frames: frames, width: width, height: height, caption: d.caption,
                                        alternatives: d.alternatives)
                lines.append(try DatasetManifest.jsonLine(record))
            }
            clipsWritten += pending.count
            bytesWritten += pending.count * frames * width * height * 3
            pending.removeAll(keepingCapacity: true)
        }
        if !lines.isEmpty {
            try DatasetManifest.append(lines: lines, to: directory.appendingPathComponent(DatasetManifest.manifestName))
        }
        if !pendingInputs.isEmpty {
            let inputLines = try pendingInputs.map { try DatasetManifest.jsonLine(["source": $0]) }
            try DatasetManifest.append(lines: inputLines, to: directory.appendingPathComponent(DatasetManifest.inputsName))
            finishedInputs.formUnion(pendingInputs)
            pendingInputs.removeAll()
        }
    }

    /// Flushes what is queued. Call at the end of a run.
    public func close() throws { try flush() }
}
