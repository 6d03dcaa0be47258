import CBLAS
import Foundation
import Synchronization

/// Chunked parallel loops for the element-wise, normalisation, softmax, convolution and GEMM
/// kernels.
///
/// Work is split into at most `4 × threads` contiguous chunks; a closure runs once per chunk,
/// never per element. The chunks run on the calling thread and on `threadCount − 1` persistent
/// workers (`WorkerPool`). The chunking depends only on `threadCount`, never on which thread
/// runs a chunk, so results are the same from run to run.
public enum Parallel {
    /// Number of threads used by the parallel loops, the caller included (default: active
    /// processor count).
    nonisolated(unsafe) public static var threadCount: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

    /// Calls `body` on disjoint ranges that cover `0..<count`, in parallel when there is more
    /// than `grain` work items per chunk. Chunks never overlap, so writes indexed by the range
    /// do not race.
    @inline(__always)
    static func forRange(_ count: Int, grain: Int, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let maxChunks = threadCount == 1 ? 1 : min(threadCount * 4, (count + grain - 1) / max(grain, 1))
        if maxChunks <= 1 {
            body(0..<count)
            return
        }
        let chunks = maxChunks
        run(chunks) { c in
            let lo = count * c / chunks
            let hi = count * (c + 1) / chunks
            if lo < hi { body(lo..<hi) }
        }
    }

    /// Calls `body(i)` for each `i` in `0..<count` in parallel (one call per item; use for
    /// coarse items such as images or attention heads).
    @inline(__always)
    static func forEach(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if count == 1 || threadCount == 1 {
            for i in 0..<count { body(i) }
            return
        }
        if count <= WorkerPool.maxChunks {
            run(count, body)
        } else {
            let chunks = WorkerPool.maxChunks
            run(chunks) { c in
                for i in (count * c / chunks)..<(count * (c + 1) / chunks) { body(i) }
            }
        }
    }

    /// Runs `body(0)`, ..., `body(chunks − 1)` on the pool, or on the calling thread alone when
    /// the pool is busy: a nested call from inside a chunk, or a second thread's job.
    private static func run(_ chunks: Int, _ body: (Int) -> Void) {
        if !WorkerPool.shared.run(chunks, threads: threadCount, body) {
            for c in 0..<chunks { body(c) }
        }
    }
}

/// The fork-join pool behind `Parallel`: persistent worker threads that spin briefly between
/// jobs, then sleep on a condition variable.
///
/// Why not `DispatchQueue.concurrentPerform`: a denoiser forward is some 400 short parallel
/// regions, and each woke a sleeping dispatch worker through the kernel (a futex wake and a
/// context switch, tens of microseconds). On 2 cores that cost 13% more CPU than one thread and
/// left the second core idle for a quarter of the time. Here a worker that finished a job spins
/// for up to `spinNanoseconds` watching for the next one, so back-to-back regions start within
/// nanoseconds; a worker with nothing to do for longer sleeps and costs nothing.
///
/// Protocol. One 64-bit `ticket` describes the current job: generation (24 bits, only to make
/// successive jobs distinct), chunk count and next unclaimed chunk (20 bits each). Threads claim
/// a chunk by compare-and-swap on the ticket; a successful claim of chunk `i < count` proves
/// the job is still running (its chunk `i` is not done), so its closure is still valid. Each
/// finished chunk increments `done`; the caller returns once `done == count`. Correctness never
/// depends on a worker joining: the caller claims chunks too, and does them all if no worker
/// wakes.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool()
    static let maxChunks = (1 << 20) - 1
    /// How long an idle worker watches for the next job before it sleeps.
    static let spinNanoseconds: UInt64 = 200_000

    private let ticket = Atomic<UInt64>(0)
    private let done = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let sleepers = Atomic<Int>(0)
    /// Workers with an index below this take part in jobs; the others sleep.
    private let active = Atomic<Int>(0)
    private var generation: UInt64 = 0
    private var workerCount = 0
    /// The running job's closure; written only while no job is published.
    private nonisolated(unsafe) var job: ((Int) -> Void)? = nil
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let cond: UnsafeMutablePointer<pthread_cond_t>

    private init() {
        mutex = .allocate(capacity: 1)
        cond = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(cond, nil)
    }

    @inline(__always) private static func unpack(_ t: UInt64) -> (count: Int, next: Int) {
        (Int((t >> 20) & 0xFFFFF), Int(t & 0xFFFFF))
    }

    /// Claims the next chunk of the current job, or nil when every chunk is claimed.
    @inline(__always) private func claim() -> Int? {
        var t = ticket.load(ordering: .acquiring)
        while true {
            let (count, next) = Self.unpack(t)
            if next >= count { return nil }
            let (exchanged, original) = ticket.compareExchange(expected: t, desired: t + 1, ordering: .acquiringAndReleasing)
            if exchanged { return next }
            t = original
        }
    }

    @inline(__always) private func hasWork() -> Bool {
        let (count, next) = Self.unpack(ticket.load(ordering: .sequentiallyConsistent))
        return next < count
    }

    /// Runs the job on the caller and the pool's workers; false (nothing run) when the pool is
    /// already running a job.
    func run(_ chunks: Int, threads: Int, _ body: (Int) -> Void) -> Bool {
        precondition(chunks > 0 && chunks <= Self.maxChunks, "WorkerPool: \(chunks) chunks")
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else { return false }
        let helpers = max(0, threads - 1)
        while workerCount < helpers { startWorker(index: workerCount); workerCount += 1 }
        active.store(helpers, ordering: .relaxed)
        withoutActuallyEscaping(body) { body in
            job = body
            done.store(0, ordering: .relaxed)
            generation = (generation + 1) & 0xFFFFFF
            ticket.store((generation << 40) | (UInt64(chunks) << 20), ordering: .sequentiallyConsistent)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(cond)
                pthread_mutex_unlock(mutex)
            }
            var mine = 0
            while let c = claim() {
                body(c)
                mine += 1
            }
            if mine > 0 { done.add(mine, ordering: .releasing) }
            // The workers finish the chunks they hold (at most one each).
            var spins = 0
            while done.load(ordering: .acquiring) < chunks {
                spins += 1
                if spins < 4096 { t2v_cpu_relax() } else { sched_yield() }
            }
            job = nil
        }
        busy.store(false, ordering: .releasing)
        return true
    }

    private func startWorker(index: Int) {
        let thread = Thread { [self] in workerLoop(index: index) }
        thread.name = "t2v-worker-\(index + 1)"
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func workerLoop(index: Int) -> Never {
        while true {
            // Watch for work; sleep once none came for spinNanoseconds.
            var spins = 0
            var spinStart: UInt64 = 0
            while index >= active.load(ordering: .relaxed) || !hasWork() {
                spins += 1
                if spins & 63 != 0 { t2v_cpu_relax(); continue }
                let now = DispatchTime.now().uptimeNanoseconds
                if spinStart == 0 { spinStart = now; continue }
                if now - spinStart < Self.spinNanoseconds { continue }
                sleepers.add(1, ordering: .sequentiallyConsistent)
                pthread_mutex_lock(mutex)
                while index >= active.load(ordering: .relaxed) || !hasWork() {
                    pthread_cond_wait(cond, mutex)
                }
                pthread_mutex_unlock(mutex)
                sleepers.subtract(1, ordering: .sequentiallyConsistent)
                spins = 0
                spinStart = 0
            }
            while let c = claim() {
                job.unsafelyUnwrapped(c)
                done.add(1, ordering: .releasing)
            }
        }
    }
}
