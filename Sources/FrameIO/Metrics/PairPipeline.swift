import Dispatch
import Foundation

/// Runs a per-item computation on worker threads while the caller's thread keeps producing
/// items, with at most `maxInFlight` items alive at once (so memory does not grow with the
/// clip's length). Results come back in production order. Internal plumbing of
/// `QualityEvaluator` and `TemporalConsistency`.
final class PairPipeline<Item, Result> {
    private let queue = DispatchQueue(label: "t2v.frameio.metrics", attributes: .concurrent)
    private let group = DispatchGroup()
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    private var results: [Result?] = []
    private var failure: Error?
    private let work: (Item, Int) throws -> Result

    /// `work(item, index)` runs on a worker thread.
    init(maxInFlight: Int, work: @escaping (Item, Int) throws -> Result) {
        slots = DispatchSemaphore(value: max(1, maxInFlight))
        self.work = work
    }

    /// Queues one item (blocks while `maxInFlight` items are in progress). Throws the first
    /// error a worker hit, so the producer stops early.
    func submit(_ item: Item) throws {
        slots.wait()
        lock.lock()
        if let failure {
            lock.unlock()
            slots.signal()
            throw failure
        }
        let index = results.count
        results.append(nil)
        lock.unlock()
        queue.async(group: group) { [self] in
            defer { slots.signal() }
            do {
                let value = try work(item, index)
                lock.lock()
                results[index] = value
                lock.unlock()
            } catch {
                lock.lock()
                if failure == nil { failure = error }
                lock.unlock()
            }
        }
    }

    /// Waits for every queued item; returns the results in order or throws the first error.
    func finish() throws -> [Result] {
        group.wait()
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        return results.map { $0! }
    }

    /// Waits for in-flight work and drops it (used when the producer fails).
    func cancel() {
        group.wait()
    }
}
