import Foundation

/// One source for `extract`: a video file with an optional caption and time range.
public struct ExtractInput: Sendable, Codable, Equatable, Hashable {
    /// Path of the video file.
    public var path: String
    /// Caption; nil when none was found (the clip is kept with an empty caption and counted).
    public var caption: String?
    /// Other captions of the same video (nil when none): a sidecar's second and later lines, or a
    /// JSON-lines manifest's `alternatives`. Training draws one of `caption` and these each time
    /// it uses one of the video's clips (`ClipRecord.alternatives`).
    public var alternatives: [String]?
    /// Start of the range to use, seconds.
    public var start: Double?
    /// End of the range to use, seconds.
    public var end: Double?

    /// Creates an input.
    public init(path: String, caption: String? = nil, alternatives: [String]? = nil, start: Double? = nil, end: Double? = nil) {
        self.path = path
        self.caption = caption
        self.alternatives = alternatives?.isEmpty == true ? nil : alternatives
        self.start = start
        self.end = end
    }
}

/// Turns command-line arguments into `ExtractInput`s: files, directories (recursive; a file is a
/// video if FFmpeg can open a video stream in it, whatever its extension), and manifests
/// (`.csv` with a header naming `path` and optionally `caption`, `start`, `end`; or `.jsonl` with
/// those keys and `alternatives`). Captions come from the manifest, else from a sidecar `NAME.txt`
/// beside `NAME.ext`: one caption a line, the first the clip's caption and any others its
/// alternatives. Relative paths in a manifest are relative to the manifest's directory.
public enum ExtractInputs {
    /// Files that could not be used, with the reason (reported, not fatal).
    public struct Rejected: Sendable, Equatable {
        /// The path.
        public var path: String
        /// Why it was rejected.
        public var reason: String
    }

    /// Expands `arguments` into inputs sorted by path (deterministic across runs and machines),
    /// and the files rejected while scanning directories. Throws for a missing argument path or
    /// a malformed manifest (naming the file and line).
    public static func expand(_ arguments: [String], isVideo: (String) -> Bool) throws -> (inputs: [ExtractInput], rejected: [Rejected]) {
        var inputs: [ExtractInput] = []
        var rejected: [Rejected] = []
        let fm = FileManager.default
        for arg in arguments {
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: arg, isDirectory: &isDir) else {
                throw FrameIOError.fileNotFound(path: arg)
            }
            if isDir.boolValue {
                guard let walker = fm.enumerator(atPath: arg) else { continue }
                var files: [String] = []
                while let rel = walker.nextObject() as? String {
                    let full = (arg as NSString).appendingPathComponent(rel)
                    var sub: ObjCBool = false
                    if fm.fileExists(atPath: full, isDirectory: &sub), !sub.boolValue,
                       !(rel as NSString).lastPathComponent.hasPrefix(".") {
                        files.append(full)
                    }
                }
                let set = Set(files)
                for file in files.sorted() {
                    // A caption sidecar of a video beside it is not an input, nor is a manifest
                    // (.csv, .jsonl) found in a folder: manifests are read when named.
                    if file.hasSuffix(".txt"), set.contains(where: { sidecar(for: $0) == file && $0 != file }) { continue }
                    if file.hasSuffix(".csv") || file.hasSuffix(".jsonl") { continue }
                    if isVideo(file) {
                        inputs.append(sidecarInput(file))
                    } else {
                        rejected.append(Rejected(path: file, reason: "not a video FFmpeg can read"))
                    }
                }
            } else if arg.hasSuffix(".csv") {
                inputs += try readCSVManifest(arg)
            } else if arg.hasSuffix(".jsonl") {
                inputs += try readJSONLManifest(arg)
            } else {
                inputs.append(sidecarInput(arg))
            }
        }
        // Deterministic order; the same path listed twice is one input.
        var seen = Set<ExtractInput>()
        inputs = inputs.filter { seen.insert($0).inserted }
        return (inputs.sorted { ($0.path, $0.start ?? 0) < ($1.path, $1.start ?? 0) }, rejected)
    }

    /// `dir/NAME.txt` for `dir/NAME.ext`.
    static func sidecar(for path: String) -> String {
        ((path as NSString).deletingPathExtension as String) + ".txt"
    }

    /// The captions in the sidecar, one a line (trimmed, blank lines skipped); nil without a
    /// sidecar, and `[""]` for an empty one (a caption that is empty, not missing).
    static func readSidecar(_ path: String) -> [String]? {
        let side = sidecar(for: path)
        guard side != path, let text = try? String(contentsOfFile: side, encoding: .utf8) else { return nil }
        let lines = text.split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        return lines.isEmpty ? [""] : lines
    }

    /// `path` with the captions of its sidecar (if any).
    static func sidecarInput(_ path: String, start: Double? = nil, end: Double? = nil) -> ExtractInput {
        let captions = readSidecar(path)
        return ExtractInput(path: path, caption: captions?.first, alternatives: captions.map { Array($0.dropFirst()) },
                            start: start, end: end)
    }

    static func resolve(_ path: String, relativeTo manifest: String) -> String {
        if path.hasPrefix("/") { return path }
        return ((manifest as NSString).deletingLastPathComponent as NSString).appendingPathComponent(path)
    }

    /// Parses a JSON-lines manifest: one object per line with `path` and optional `caption`,
    /// `alternatives` (more captions of the same video), `start`, `end`.
    static func readJSONLManifest(_ path: String) throws -> [ExtractInput] {
        struct Line: Decodable { var path: String; var caption: String?; var alternatives: [String]?; var start: Double?; var end: Double? }
        var out: [ExtractInput] = []
        let lines = try DatasetManifest.readLines(URL(fileURLWithPath: path), keepTornTail: true)
        for (n, data) in lines.enumerated() {
            guard let line = try? JSONDecoder().decode(Line.self, from: data) else {
                throw FrameIOError.invalidArgument("\(path):\(n + 1): expected a JSON object with a string \"path\" (and optional caption, alternatives, start, end)")
            }
            let file = resolve(line.path, relativeTo: path)
            if let caption = line.caption {
                out.append(ExtractInput(path: file, caption: caption, alternatives: line.alternatives, start: line.start, end: line.end))
            } else {
                var input = sidecarInput(file, start: line.start, end: line.end)
                if let more = line.alternatives, !more.isEmpty { input.alternatives = (input.alternatives ?? []) + more }
                out.append(input)
            }
        }
        return out
    }

    /// Largest CSV manifest read, in bytes (CSV is parsed whole; a JSON-lines manifest is read a
    /// line at a time with lines of at most `DatasetManifest.maxLineBytes`).
    public static let maxCSVBytes = 64 << 20

    /// Parses a CSV manifest (RFC 4180 quoting) whose header names `path` and optionally
    /// `caption`, `start`, `end`.
    static func readCSVManifest(_ path: String) throws -> [ExtractInput] {
        // The whole file is parsed in memory: refuse a hostile size before reading it.
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
        guard size <= Int64(maxCSVBytes) else {
            throw FrameIOError.invalidArgument("\(path): the CSV manifest is \(size) bytes, more than the \(maxCSVBytes)-byte limit; split it or use a .jsonl manifest")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw FrameIOError.invalidArgument("\(path): cannot read the manifest as UTF-8 text")
        }
        let rows = CSV.parse(text)
        guard let header = rows.first?.map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }),
              let pathColumn = header.firstIndex(of: "path") else {
            throw FrameIOError.invalidArgument("\(path): the first line must be a header naming a 'path' column (and optionally caption,start,end)")
        }
        let captionColumn = header.firstIndex(of: "caption")
        let startColumn = header.firstIndex(of: "start")
        let endColumn = header.firstIndex(of: "end")
        var out: [ExtractInput] = []
        for (n, row) in rows.dropFirst().enumerated() where !(row.count == 1 && row[0].isEmpty) {
            guard pathColumn < row.count, !row[pathColumn].isEmpty else {
                throw FrameIOError.invalidArgument("\(path):\(n + 2): missing path")
            }
            func number(_ column: Int?) throws -> Double? {
                guard let column, column < row.count, !row[column].isEmpty else { return nil }
                guard let v = Double(row[column]) else {
                    throw FrameIOError.invalidArgument("\(path):\(n + 2): '\(row[column])' is not a number of seconds")
                }
                return v
            }
            let file = resolve(row[pathColumn], relativeTo: path)
            let start = try number(startColumn), end = try number(endColumn)
            if let caption = captionColumn.flatMap({ $0 < row.count ? row[$0] : nil }) {
                out.append(ExtractInput(path: file, caption: caption, start: start, end: end))
            } else {
                out.append(sidecarInput(file, start: start, end: end))
            }
        }
        return out
    }
}
