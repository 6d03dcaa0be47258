import Foundation

/// Reading and appending the JSON-lines files of a dataset directory.
public enum DatasetManifest {
    /// One `ClipRecord` per line.
    public static let manifestName = "manifest.jsonl"
    /// One `{"source": ...}` per finished input.
    public static let inputsName = "inputs.jsonl"
    /// One `{"source": ..., "error": ...}` per unreadable input.
    public static let errorsName = "errors.jsonl"
    /// Longest accepted line (a hostile 100 MB line is refused, not parsed).
    public static let maxLineBytes = 1 << 20

    /// The clip records of the dataset in `directory` (empty when there is no manifest yet).
    /// A final line cut short by a crash is ignored; any other bad line is an error naming the
    /// file and line number.
    /// Every record is checked with `validate(_:)`, so a hostile manifest cannot point outside
    /// the directory or claim absurd clip sizes.
    public static func readRecords(in directory: URL) throws -> [ClipRecord] {
        let url = directory.appendingPathComponent(manifestName)
        return try readLines(url).enumerated().map { i, line in
            let record = try JSONDecoder().decode(ClipRecord.self, from: line)
            if let problem = validate(record) {
                throw FrameIOError.invalidArgument("\(url.path): record \(i + 1): \(problem); the manifest is damaged. Re-run extract into a new directory.")
            }
            return record
        }
    }

    /// Largest clip a record may claim, in bytes of packed RGB (frames * height * width * 3).
    public static let maxClipBytes = 1 << 31

    /// Why `record` cannot be a clip of a dataset directory, or nil when it can: the shard must be
    /// a plain file name inside the directory (no `/`, not `.` or `..`), the index non-negative
    /// and frames, width and height positive with at most `maxClipBytes` bytes per clip.
    public static func validate(_ record: ClipRecord) -> String? {
        let s = record.shard
        if s.isEmpty || s == "." || s == ".." || s.contains("/") || s.contains("\0") {
            return "shard name '\(s)' is not a file name inside the dataset directory"
        }
        if record.index < 0 { return "clip index \(record.index) is negative" }
        guard record.frames > 0, record.width > 0, record.height > 0 else {
            return "clip size \(record.frames)x\(record.height)x\(record.width) is not positive"
        }
        var bytes = 3, overflow = false
        for d in [record.frames, record.height, record.width] where !overflow {
            (bytes, overflow) = bytes.multipliedReportingOverflow(by: d)
        }
        if overflow || bytes > maxClipBytes {
            return "clip size \(record.frames)x\(record.height)x\(record.width) is larger than \(maxClipBytes) bytes"
        }
        return nil
    }

    /// Sources recorded as finished in `inputs.jsonl`.
    public static func readFinishedInputs(in directory: URL) throws -> [String] {
        struct Line: Decodable { var source: String }
        return try readLines(directory.appendingPathComponent(inputsName)).map { try JSONDecoder().decode(Line.self, from: $0).source }
    }

    /// Non-empty lines of a JSON-lines file as Data; a missing file gives none. A line longer
    /// than `maxLineBytes` throws. A last line without a newline (torn write) is dropped.
    static func readLines(_ url: URL, keepTornTail: Bool = false) throws -> [Data] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw FrameIOError.invalidArgument("\(url.path): cannot open for reading")
        }
        defer { try? handle.close() }
        var lines: [Data] = []
        var current = Data()
        var lineNumber = 1
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            var start = chunk.startIndex
            while let nl = chunk[start...].firstIndex(of: 0x0A) {
                current.append(chunk[start..<nl])
                if current.count > maxLineBytes {
                    throw FrameIOError.invalidArgument("\(url.path):\(lineNumber): line longer than \(maxLineBytes) bytes")
                }
                if !current.allSatisfy({ $0 == 0x20 || $0 == 0x0D }) { lines.append(current) }
                current = Data()
                lineNumber += 1
                start = chunk.index(after: nl)
            }
            current.append(chunk[start...])
            if current.count > maxLineBytes {
                throw FrameIOError.invalidArgument("\(url.path):\(lineNumber): line longer than \(maxLineBytes) bytes")
            }
        }
        // `current` holds a final line without a newline: a torn write in files we append to
        // (ignored by design), a normal last line in manifests people write (kept).
        if keepTornTail, !current.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x0A }) { lines.append(current) }
        return lines
    }

    /// Cuts a torn final line (bytes after the last newline, left by a killed run) off `url`, so
    /// appends start on a fresh line. No-op for a missing file.
    static func truncateTornTail(_ url: URL) throws {
        guard let handle = FileHandle(forUpdatingAtPath: url.path) else { return }
        defer { try? handle.close() }
        let size = try handle.seekToEnd()
        guard size > 0 else { return }
        var end = size
        let block: UInt64 = 4096
        while end > 0 {
            let start = end > block ? end - block : 0
            try handle.seek(toOffset: start)
            let data = try handle.read(upToCount: Int(end - start)) ?? Data()
            if let nl = data.lastIndex(of: 0x0A) {
                let keep = start + UInt64(nl - data.startIndex) + 1
                if keep != size { try handle.truncate(atOffset: keep) }
                return
            }
            end = start
        }
        try handle.truncate(atOffset: 0)
    }

    /// Appends `{"source", "error"}` to the `errors.jsonl` of the dataset in `directory`.
    public static func recordError(source: String, message: String, in directory: URL) throws {
        try append(lines: [try jsonLine(["source": source, "error": message])],
                   to: directory.appendingPathComponent(errorsName))
    }

    /// Encodes a value as one compact JSON line (sorted keys, no newline).
    static func jsonLine<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Appends lines (each followed by a newline) to a file and fsyncs it.
    static func append(lines: [String], to url: URL) throws {
        if !FileManager.default.fileExists(atPath: url.path) {
            guard FileManager.default.createFile(atPath: url.path, contents: nil) else {
                throw FrameIOError.unwritable(path: url.path, reason: String(cString: strerror(errno)))
            }
        }
        guard let handle = FileHandle(forWritingAtPath: url.path) else {
            throw FrameIOError.unwritable(path: url.path, reason: "cannot open for appending")
        }
        defer { try? handle.close() }
        do {
            try handle.seekToEnd()
            try handle.write(contentsOf: Data((lines.joined(separator: "\n") + "\n").utf8))
            try handle.synchronize()
        } catch {
            throw FrameIOError.unwritable(path: url.path, reason: error.localizedDescription)
        }
    }
}
