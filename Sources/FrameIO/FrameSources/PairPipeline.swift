import Dispatch
import Foundation

/// Runs a per-item computation on worker threads while the caller's thread keeps producing
/// items, with at most `maxInFlight` items alive at once (so memory does not grow with the
/// clip's length). Results are handed to `deliver` in production order as soon as every earlier
/// one is done, and dropped: the caller decides what to keep. Internal plumbing of `QualityEvaluator` and `TemporalConsistency`.
final class PairPipeline<Item, Result> {
    private let queue = DispatchQueue(label: "t2v.frameio.metrics", attributes: .concurrent)
    private let group = DispatchGroup()
    private let slots: DispatchSemaphore
    private let lock = NSLock()
    /// Finished results not yet delivered (at most `maxInFlight` plus the ones waiting on an
    /// earlier index), by index.
    private var pending: [Int: Result] = [:]
    private var submitted = 0, delivered = 0
    private var failure: Error?
    private let work: (Item, Int) throws -> Result
    private let deliver: (Result) -> Void

    /// `work(item, index)` runs on a worker thread; `deliver` receives each result in index
    /// order (under the pipeline's lock, on whichever thread finished it).
    init(maxInFlight: Int, deliver: @escaping (Result) -> Void, work: @escaping (Item, Int) throws -> Result) {
        slots = DispatchSemaphore(value: max(1, maxInFlight))
        self.work = work
        self.deliver = deliver
    }

    /// Hands over every result whose predecessors are all done. Call with the lock held.
    private func drainInOrder() {
        while let next = pending.removeValue(forKey: delivered) {
            deliver(next)
            delivered += 1
        }
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
        let index = submitted
        submitted += 1
        lock.unlock()
        queue.async(group: group) { [self] in
            defer { slots.signal() }
            do {
                let value = try work(item, index)
                lock.lock()
                pending[index] = value
                if failure == nil { drainInOrder() }
                lock.unlock()
            } catch {
                lock.lock()
                if failure == nil { failure = error }
                lock.unlock()
            }
        }
    }

    /// Waits for every queued item (all delivered) or throws the first error.
    func finish() throws {
        group.wait()
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        drainInOrder()
        precondition(delivered == submitted && pending.isEmpty, "PairPipeline: a result is missing")
    }

    /// Waits for in-flight work and drops it (used when the producer fails).
    func cancel() {
        group.wait()
    }
}
