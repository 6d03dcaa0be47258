import AtomicFiles
import Foundation
import FrameIO
import Generator

/// A batch of renders read from a JSON Lines file, one object per line:
///
/// ```json
/// {"prompt": "a red ball bouncing", "seed": 7}
/// {"prompt": "fireworks", "seed": 1, "steps": 16, "guidance": 2, "frames": 32, "negative_prompt": "smoke", "output": "fw.webm"}
/// ```
///
/// `prompt` is required; `seed`, `steps`, `guidance`, `frames` and `negative_prompt` override the
/// command's options for that line; `output` names the file inside the output folder (default: the
/// line number, six digits, with the batch's extension: `000001.mp4`). Blank lines are skipped
/// but count in the numbering. The whole file is checked before anything renders.
///
/// Shards: line k (1-based) belongs to shard (k - 1) mod N, so N machines given `--shard i/N`
/// split a file evenly and together render exactly its lines, each once.
public struct PromptBatch: Sendable {
    /// One line of the file.
    public struct Job: Sendable, Equatable {
        /// 1-based line number in the file.
        public var line: Int
        public var prompt: String
        public var negativePrompt: String?
        public var seed: UInt64?
        public var steps: Int?
        public var guidance: Float?
        public var frames: Int?
        /// File name inside the output folder.
        public var output: String
    }

    /// A line that cannot be rendered, found while reading the file.
    public struct ParseError: Error, LocalizedError, CustomStringConvertible {
        public let message: String
        public var errorDescription: String? { message }
        public var description: String { message }
    }

    /// The jobs, in file order.
    public let jobs: [Job]

    private struct Line: Decodable {
        var prompt: String?
        var negative_prompt: String?
        var seed: UInt64?
        var steps: Int?
        var guidance: Float?
        var frames: Int?
        var output: String?
    }

    /// Reads and checks `path`. `defaultExtension` (e.g. "mp4") names lines without `output`.
    ///
    /// - Throws: `ParseError` naming the file and line: bad JSON, an unknown key, no prompt, a
    ///   value out of range, an output name that is not a plain file name or is used twice.
    public init(contentsOf path: String, defaultExtension: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ParseError(message: "cannot read the prompts file \(path): \(FileManager.default.fileExists(atPath: path) ? "permission denied or not a file" : "no such file")")
        }
        try self.init(data: data, name: path, defaultExtension: defaultExtension)
    }

    /// Parses JSON Lines `data`; `name` is used in messages.
    public init(data: Data, name: String, defaultExtension: String) throws {
        let known: Set<String> = ["prompt", "negative_prompt", "seed", "steps", "guidance", "frames", "output"]
        var jobs: [Job] = []
        var seen: [String: Int] = [:]
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (i, raw) in lines.enumerated() {
            let number = i + 1
            func fail(_ what: String) -> ParseError { ParseError(message: "\(name) line \(number): \(what)") }
            let text = String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { continue }
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw fail("not a JSON object; each line is one object such as {\"prompt\": \"a sunset\", \"seed\": 1}")
            }
            if let extra = object.keys.filter({ !known.contains($0) }).sorted().first {
                throw fail("unknown key \"\(extra)\"; known keys: \(known.sorted().joined(separator: ", "))")
            }
            let line: Line
            do { line = try JSONDecoder().decode(Line.self, from: Data(text.utf8)) } catch {
                throw fail("a value has the wrong type (prompt, negative_prompt and output are strings; seed, steps and frames non-negative integers; guidance a number)")
            }
            guard let prompt = line.prompt, !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                throw fail("no \"prompt\"")
            }
            if let steps = line.steps, !(1...1000).contains(steps) { throw fail("steps must be in 1...1000, got \(steps)") }
            if let frames = line.frames, !(1...256).contains(frames) { throw fail("frames must be in 1...256, got \(frames)") }
            if let g = line.guidance, !(g.isFinite && (0...50).contains(g)) { throw fail("guidance must be in 0...50, got \(g)") }
            let output = line.output ?? String(format: "%06d.%@", number, defaultExtension)
            guard !output.isEmpty, !output.contains("/"), !output.hasPrefix("."), output != "..",
                  VideoWriter.Container(pathExtension: (output as NSString).pathExtension) != nil else {
                throw fail("output \"\(output)\" must be a plain file name with a video extension (mp4, webm, mkv, mov, gif, ...), not a path")
            }
            if let first = seen[output] { throw fail("output \"\(output)\" is also line \(first)'s") }
            seen[output] = number
            jobs.append(Job(line: number, prompt: prompt, negativePrompt: line.negative_prompt, seed: line.seed,
                            steps: line.steps, guidance: line.guidance, frames: line.frames, output: output))
        }
        guard !jobs.isEmpty else { throw ParseError(message: "\(name): no prompts (one JSON object per line)") }
        self.jobs = jobs
    }

    /// The jobs of shard `index` of `count`: lines whose (line - 1) mod count == index.
    public func shard(_ index: Int, of count: Int) -> [Job] {
        precondition(count > 0 && (0..<count).contains(index), "shard \(index) of \(count)")
        return jobs.filter { ($0.line - 1) % count == index }
    }
}

extension PromptBatch {
    /// What a batch run did.
    public struct Outcome: Sendable {
        /// Files rendered by this run, skipped because they already existed, and lines that failed.
        public var rendered: [String] = [], skipped: [String] = []
        public var failed: [(line: Int, output: String, message: String)] = []
    }

    /// Progress of a batch run, one event per job.
    public enum Event {
        case skipped(Job, path: String)
        case started(Job, path: String, position: Int, of: Int)
        case rendered(Job, path: String, result: VideoRenderer.Result)
        case failed(Job, path: String, message: String)
    }

    /// Renders `jobs` into the folder `directory` with `renderer`. A line's settings are `base`
    /// with the line's own values; its file is `directory/output`, written whole or not at all.
    /// Files that already exist are skipped (so a stopped run resumes where it stopped, and
    /// shards sharing a folder never redo each other's work); a line that fails is appended to
    /// `errorLog` (JSON Lines: line, output, prompt, error) and the batch goes on. Hidden staging
    /// files a killed run left behind for these jobs are removed first.
    ///
    /// - Throws: `VideoRenderer.Failure.interrupted` when `shouldContinue` returned false (the
    ///   files finished so far are kept); errors writing `errorLog`.
    public static func run(_ jobs: [Job], into directory: String, renderer: VideoRenderer, base: VideoPipeline.Settings,
                           output template: VideoRenderer.Output, errorLog: String,
                           shouldContinue: @escaping () -> Bool = { true }, progress: (Event) -> Void = { _ in }) throws -> Outcome {
        let fm = FileManager.default
        let mine = Set(jobs.map(\.output))
        for name in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] {
            if let target = AtomicFile.target(ofTemporary: name), mine.contains(target) {
                unlink((directory as NSString).appendingPathComponent(name))
            }
        }
        func finished(_ path: String) -> Bool {
            var isDir: ObjCBool = false
            return fm.fileExists(atPath: path, isDirectory: &isDir) && !isDir.boolValue
        }
        var outcome = Outcome()
        let todo = jobs.filter { !finished((directory as NSString).appendingPathComponent($0.output)) }
        var position = 0
        for job in jobs {
            let path = (directory as NSString).appendingPathComponent(job.output)
            if finished(path) {
                outcome.skipped.append(path)
                progress(.skipped(job, path: path))
                continue
            }
            if !shouldContinue() { throw VideoRenderer.Failure.interrupted("interrupted before line \(job.line); \(outcome.rendered.count) files were finished") }
            position += 1
            progress(.started(job, path: path, position: position, of: todo.count))
            var settings = base
            settings.prompt = job.prompt
            if let n = job.negativePrompt { settings.negativePrompt = n }
            if let s = job.seed { settings.seed = s }
            if let s = job.steps { settings.steps = s }
            if let g = job.guidance { settings.guidance = g }
            if let f = job.frames { settings.frames = f }
            var output = template
            output.path = path
            output.format = nil  // from the file name
            do {
                try renderer.validate(output)
                let result = try renderer.render(settings, to: output, shouldContinue: shouldContinue)
                outcome.rendered.append(path)
                progress(.rendered(job, path: path, result: result))
            } catch let failure as VideoRenderer.Failure {
                if case .interrupted = failure { throw failure }
                try logFailure(job, message: failure.description, to: errorLog)
                outcome.failed.append((job.line, job.output, failure.description))
                progress(.failed(job, path: path, message: failure.description))
            } catch {
                let message = VideoRenderer.text(error)
                try logFailure(job, message: message, to: errorLog)
                outcome.failed.append((job.line, job.output, message))
                progress(.failed(job, path: path, message: message))
            }
        }
        return outcome
    }

    /// Appends one JSON line to `path` in a single write (O_APPEND).
    static func logFailure(_ job: Job, message: String, to path: String) throws {
        let record: [String: Any] = ["line": job.line, "output": job.output, "prompt": job.prompt, "error": message]
        var data = try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes])
        data.append(UInt8(ascii: "\n"))
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        guard fd >= 0 else { throw PromptBatch.ParseError(message: "cannot write the error log \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == data.count else { throw PromptBatch.ParseError(message: "cannot write the error log \(path): \(String(cString: strerror(errno)))") }
    }
}
