import Dispatch
import Foundation

/// Chunked parallel loops for the element-wise, normalisation, softmax and im2col kernels.
///
/// Work is split into at most `4 × threads` contiguous chunks run with
/// `DispatchQueue.concurrentPerform`; a closure runs once per chunk, never per element.
public enum Parallel {
    /// Number of worker threads used by the parallel loops (default: active processor count).
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
        DispatchQueue.concurrentPerform(iterations: chunks) { c in
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
        DispatchQueue.concurrentPerform(iterations: count) { body($0) }
    }
}
