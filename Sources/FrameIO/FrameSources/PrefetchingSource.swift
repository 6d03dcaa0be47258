import Foundation

/// Decodes a `PlanarFrameSource` ahead on a thread of its own into a bounded buffer, so two
/// inputs decode side by side without a hand-off per frame. Internal to `QualityEvaluator`.
/// Call `stop()` before the wrapped source is used again or released.
final class PrefetchingSource: PlanarFrameSource {
    let name: String
    private let source: PlanarFrameSource
    private let capacity: Int
    private let condition = NSCondition()
    private var buffer: [PlanarImage] = []
    private var finished = false
    private var stopped = false
    private var failure: Error?
    private let exited = DispatchSemaphore(value: 0)

    /// Starts decoding `source` at once, keeping at most `capacity` pictures ahead.
    init(_ source: PlanarFrameSource, capacity: Int) {
        self.source = source
        self.name = source.name
        self.capacity = max(1, capacity)
        let thread = Thread { [self] in
            produce()
            exited.signal()
        }
        thread.name = "t2v.frameio.prefetch"
        thread.start()
    }

    private func produce() {
        while true {
            condition.lock()
            while buffer.count >= capacity && !stopped { condition.wait() }
            let stop = stopped
            condition.unlock()
            if stop { return }
            do {
                let image = try source.nextPlanes()
                condition.lock()
                if let image { buffer.append(image) } else { finished = true }
                condition.broadcast()
                condition.unlock()
                if image == nil { return }
            } catch {
                condition.lock()
                failure = error
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }

    /// The next picture in order; nil at the end; the source's error once the pictures decoded
    /// before it have been returned.
    func nextPlanes() throws -> PlanarImage? {
        condition.lock()
        defer { condition.unlock() }
        while buffer.isEmpty && !finished { condition.wait() }
        if !buffer.isEmpty {
            let image = buffer.removeFirst()
            condition.broadcast()
            return image
        }
        if let failure { throw failure }
        return nil
    }

    /// Stops decoding and waits for the thread to leave the wrapped source. Idempotent.
    func stop() {
        condition.lock()
        let already = stopped
        stopped = true
        condition.broadcast()
        condition.unlock()
        if !already { exited.wait() }
    }
}
