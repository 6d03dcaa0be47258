import Foundation

/// Runs an extraction: every input is cut into clips by a `ClipExtractor` and stored by a
/// `DatasetWriter`. Inputs are decoded in parallel (one worker per core) but committed in input
/// order, so the dataset is the same whatever the timing, and a resumed run continues exactly
/// where an interrupted one stopped (finished inputs are skipped, committed clips never repeat).
public final class ExtractJob {
    /// Progress after each input, for bars and ETAs.
    public struct Progress: Sendable {
        /// Inputs done (read, skipped or failed) out of `totalInputs`.
        public var inputsDone: Int
        /// Inputs this run processes (after `--shard` filtering).
        public var totalInputs: Int
        /// Clips written so far in this run.
        public var clipsWritten: Int
        /// The input just finished.
        public var lastInput: String
    }

    /// What a run did.
    public struct Summary: Sendable, Codable, Equatable {
        /// Inputs read successfully in this run.
        public var videosRead = 0
        /// Inputs skipped because an earlier run finished them.
        public var videosSkipped = 0
        /// Clips written in this run.
        public var clipsWritten = 0
        /// Clips dropped at scene cuts.
        public var clipsDroppedAtCuts = 0
        /// Clips written without a caption.
        public var clipsWithoutCaption = 0
        /// Inputs that failed, with messages (also in `errors.jsonl`).
        public var errors: [String: String] = [:]
        /// Pixel bytes written.
        public var bytesWritten = 0
        /// Inputs left to another `--shard`.
        public var inputsInOtherShards = 0
    }

    /// Clip shape and sampling.
    public let options: ExtractOptions
    /// Scene-cut similarity for `options.skipCuts`.
    public var similarity: (([UInt8], [UInt8], Int, Int) -> Double)?
    /// Worker threads decoding inputs (default: one per core, at least 1).
    public var workers = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Creates a job.
    public init(options: ExtractOptions, similarity: (([UInt8], [UInt8], Int, Int) -> Double)? = nil) {
        self.options = options
        self.similarity = similarity
    }

    /// Extracts `inputs` into `directory`. `shard` = (index, count) keeps only the inputs whose
    /// stable path hash falls in that shard. `progress` returns false to stop after the current
    /// input (what is committed stays; the next run resumes). Throws only for problems with the
    /// output (unwritable, locked, other clip shape); unreadable inputs are recorded as errors.
    public func run(inputs allInputs: [ExtractInput], into directory: URL, shard: (index: Int, count: Int)? = nil,
                    progress: ((Progress) -> Bool)? = nil) throws -> Summary {
        var summary = Summary()
        let inputs = allInputs.filter { input in
            guard let shard else { return true }
            return StableHash.belongs(input.path, toShard: shard.index, of: shard.count)
        }
        summary.inputsInOtherShards = allInputs.count - inputs.count
        let writer = try DatasetWriter(directory: directory, frames: options.frames, width: options.width,
                                       height: options.height, maxShardBytes: options.maxShardBytes)
        let todo = inputs.filter { !writer.finishedInputs.contains($0.path) }
        summary.videosSkipped = inputs.count - todo.count

        // Each input gets a bounded channel; workers fill them, the committer drains them in order.
        let channels = todo.map { _ in ClipChannel(capacity: 4) }
        let nextInput = ManagedCounter()
        let stop = ManagedFlag()
        let extractor = ClipExtractor(options: options, similarity: similarity)
        let group = DispatchGroup()
        for _ in 0..<min(workers, max(1, todo.count)) {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                while !stop.value {
                    let i = nextInput.next()
                    guard i < todo.count else { return }
                    let input = todo[i]
                    let channel = channels[i]
                    do {
                        let r = try extractor.extract(path: input.path, start: input.start, end: input.end) { clip, start in
                            channel.put(.clip(clip, start))
                            return !stop.value
                        }
                        channel.put(.done(dropped: r.droppedAtCuts))
                    } catch {
                        channel.put(.failed("\(error)"))
                    }
                }
            }
        }

        var done = summary.videosSkipped
        defer {
            stop.value = true
            for c in channels { c.cancel() }
            group.wait()
        }
        inputLoop: for (i, input) in todo.enumerated() {
            var finished = false
            while !finished {
                switch channels[i].take() {
                case let .clip(bytes, start):
                    let caption = input.caption ?? ""
                    if try writer.add(clip: bytes, .init(source: input.path, start: start, fps: options.fps, caption: caption,
                                                                       alternatives: input.alternatives)),
                       input.caption == nil {
                        summary.clipsWithoutCaption += 1
                    }
                case let .done(dropped):
                    summary.clipsDroppedAtCuts += dropped
                    summary.videosRead += 1
                    try writer.finishInput(input.path)
                    finished = true
                case let .failed(message):
                    summary.errors[input.path] = message
                    try writer.recordError(source: input.path, message: message)
                    finished = true
                case .cancelled:
                    break inputLoop
                }
            }
            channels[i].release()
            done += 1
            if let progress, !progress(Progress(inputsDone: done, totalInputs: inputs.count,
                                                clipsWritten: writer.clipsWritten + writer.pendingCount,
                                                lastInput: input.path)) {
                break
            }
        }
        try writer.close()
        summary.clipsWritten = writer.clipsWritten
        summary.bytesWritten = writer.bytesWritten
        return summary
    }
}

/// A bounded, blocking single-producer single-consumer queue of clips for one input.
final class ClipChannel: @unchecked Sendable {
    enum Item {
        case clip([UInt8], Double)
        case done(dropped: Int)
        case failed(String)
        case cancelled
    }
    private let condition = NSCondition()
    private var items: [Item] = []
    private let capacity: Int
    private var cancelled = false

    init(capacity: Int) { self.capacity = capacity }

    /// Blocks while full; dropped after `cancel()`.
    func put(_ item: Item) {
        condition.lock()
        defer { condition.unlock() }
        while items.count >= capacity && !cancelled { condition.wait() }
        if cancelled { return }
        items.append(item)
        condition.broadcast()
    }

    /// Blocks until an item is there (or the channel is cancelled).
    func take() -> Item {
        condition.lock()
        defer { condition.unlock() }
        while items.isEmpty && !cancelled { condition.wait() }
        let item = cancelled && items.isEmpty ? .cancelled : items.removeFirst()
        condition.broadcast()
        return item
    }

    /// Wakes everyone; later puts are dropped.
    func cancel() {
        condition.lock()
        cancelled = true
        items.removeAll()
        condition.broadcast()
        condition.unlock()
    }

    /// Frees what is left (the input is finished).
    func release() { cancel() }
}

/// A thread-safe counter handing out 0, 1, 2, ...
final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int {
        lock.lock(); defer { lock.unlock() }
        value += 1
        return value - 1
    }
}

/// A thread-safe boolean.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var stored = false
    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return stored }
        set { lock.lock(); stored = newValue; lock.unlock() }
    }
}
