import Foundation

/// Reference-counted, 64-byte aligned Float32 buffer that backs one or more tensors.
///
/// Tensors that are views of each other (for example a `reshaped` tensor) share one storage.
/// The buffer is freed when the last tensor referring to it goes away.
public final class TensorStorage {
    /// Base address of the buffer; valid while this object is alive.
    let base: UnsafeMutablePointer<Float>
    /// Number of Float32 elements in the buffer.
    public let count: Int

    /// Keeps freed tensor buffers in the heap for reuse instead of returning them to the OS
    /// after every op (glibc would otherwise mmap/munmap each large buffer and every new
    /// activation would pay page faults). Peak memory is unchanged.
    /// Whether glibc accepted the settings (checked by the tests).
    static let configureAllocator: Bool = VectorKernels.keepFreedHeapMemory()

    /// Allocates `count` uninitialised elements.
    init(uninitializedCount count: Int) {
        _ = TensorStorage.configureAllocator
        self.count = count
        var raw: UnsafeMutableRawPointer? = nil
        let bytes = max(count, 1) * MemoryLayout<Float>.stride
        let status = posix_memalign(&raw, 64, bytes)
        precondition(status == 0 && raw != nil, "TensorStorage: cannot allocate \(bytes) bytes")
        base = raw!.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    /// Allocates `count` elements set to zero.
    convenience init(zeroedCount count: Int) {
        self.init(uninitializedCount: count)
        memset(base, 0, count * MemoryLayout<Float>.stride)
    }

    deinit { free(base) }
}
