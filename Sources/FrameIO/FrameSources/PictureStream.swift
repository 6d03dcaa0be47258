import Foundation

/// Decodes a `PlanarFrameSource` ahead on a thread of its own into a fixed set of
/// `PictureSlot`s, so two inputs decode side by side while the caller scores the pictures
/// already decoded. Internal to `QualityEvaluator`.
///
/// The slots circulate: the decoding thread fills a free slot and queues it, the caller takes
/// it with `next()` and hands it back with `recycle(_:)`. With `slots` slots, at most that many
/// pictures are alive at once whatever the clip's length, and nothing is allocated per frame
/// (a `VideoPlanesSource` decodes straight into the slots; other sources' pictures are copied
/// into slot storage). Call `stop()` before the wrapped source is used again or released.
final class PictureStream {
    /// The wrapped source's name.
    let name: String
    private let fill: (PictureSlot) throws -> Bool
    private let condition = NSCondition()
    private var free: [PictureSlot]
    private var ready: [PictureSlot] = []
    private var finished = false
    private var stopped = false
    private var failure: Error?
    private let exited = DispatchSemaphore(value: 0)

    /// Wraps `source` with `slots` picture buffers (at least 2) and starts decoding it on a thread
    /// of its own. Throws `FrameIOError.unsupported` when the buffers cannot be allocated.
    init(_ source: PlanarFrameSource, slots: Int) throws {
        name = source.name
        if let video = source as? VideoPlanesSource {
            let reader = video.reader, format = video.pixelFormat
            fill = { slot in try reader.nextPicture(into: slot, pixelFormat: format) }
        } else {
            fill = { slot in
                guard let image = try source.nextPlanes() else { return false }
                try slot.copy(image)
                return true
            }
        }
        free = try (0..<max(2, slots)).map { _ in try PictureSlot() }
        ready.reserveCapacity(free.count)
        let thread = Thread { [self] in
            produce()
            exited.signal()
        }
        thread.name = "t2v.frameio.decode"
        thread.start()
    }

    /// The decoding thread: fill free slots until the source ends, fails or `stop()` is called.
    private func produce() {
        while true {
            condition.lock()
            while free.isEmpty && !stopped { condition.wait() }
            if stopped {
                condition.unlock()
                return
            }
            let slot = free.removeLast()
            condition.unlock()
            do {
                let filled = try fill(slot)
                condition.lock()
                if filled { ready.append(slot) } else { free.append(slot); finished = true }
                condition.broadcast()
                condition.unlock()
                if !filled { return }
            } catch {
                condition.lock()
                free.append(slot)
                failure = error
                finished = true
                condition.broadcast()
                condition.unlock()
                return
            }
        }
    }

    /// The next picture in order, in a slot the caller owns until `recycle(_:)`; nil at the end;
    /// the source's error once the pictures decoded before it have been returned.
    func next() throws -> PictureSlot? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        if !ready.isEmpty { return ready.removeFirst() }
        if let failure { throw failure }
        return nil
    }

    /// Hands a slot from `next()` back for the next picture (any thread).
    func recycle(_ slot: PictureSlot) {
        slot.release()
        condition.lock()
        free.append(slot)
        condition.broadcast()   // both sides wait on one condition: wake the decoding thread too
        condition.unlock()
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
