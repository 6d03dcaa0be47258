import Foundation

/// A dense, contiguous, row-major Float32 tensor that can take part in reverse-mode autograd.
///
/// Tensors have reference semantics (like PyTorch's): ops return new tensors and never change
/// their inputs. A tensor whose `requiresGrad` is true and that was not produced by an op is a
/// *leaf* (a parameter); `backward()` accumulates gradients into its `grad`. Results of ops on
/// such tensors record how to propagate gradients, unless recording is switched off with
/// `withoutGradients { }`.
///
/// Element access for bulk data goes through `init(shape:data:)` and `toArray()`; the ops in
/// `Generator/Ops` work on the raw storage.
public final class Tensor {
    /// Sizes of the dimensions, outermost first. A scalar has shape `[]`.
    public let shape: [Int]
    /// Number of elements (product of `shape`).
    public let count: Int
    /// The buffer holding the elements; views share it.
    public let storage: TensorStorage
    /// Whether gradients flow to (leaf) or through (op result) this tensor.
    public internal(set) var requiresGrad: Bool
    /// Accumulated gradient of a leaf tensor after `backward()`; nil until then and after `zeroGrad()`.
    public internal(set) var grad: Tensor?
    /// How to pass a gradient on to this tensor's inputs; nil for leaves and for results made
    /// without gradient recording.
    var node: GradNode?

    /// Pointer to the first element. Only valid while `self` (or its storage) is alive.
    @inline(__always) var ptr: UnsafeMutablePointer<Float> { storage.base }

    /// Wraps an existing storage with a shape. `storage.count` must equal the shape's product.
    init(shape: [Int], storage: TensorStorage, requiresGrad: Bool = false) {
        let n = Tensor.elementCount(shape)
        precondition(n == storage.count, "Tensor: shape \(shape) needs \(n) elements, storage has \(storage.count)")
        self.shape = shape
        self.count = n
        self.storage = storage
        self.requiresGrad = requiresGrad
    }

    /// Allocates an uninitialised tensor (internal: callers must fill every element).
    convenience init(uninitializedShape shape: [Int]) {
        self.init(shape: shape, storage: TensorStorage(uninitializedCount: Tensor.elementCount(shape)))
    }

    /// Creates a tensor from row-major `data`; `data.count` must equal the product of `shape`.
    /// - Parameters:
    ///   - shape: the dimensions, outermost first (each ≥ 0).
    ///   - data: the elements in row-major order.
    ///   - requiresGrad: make it a leaf that collects gradients.
    public convenience init(shape: [Int], data: [Float], requiresGrad: Bool = false) {
        let n = Tensor.elementCount(shape)
        precondition(n == data.count, "Tensor(shape:data:): shape \(shape) needs \(n) elements, got \(data.count)")
        let s = TensorStorage(uninitializedCount: n)
        data.withUnsafeBufferPointer { src in
            if n > 0 { s.base.update(from: src.baseAddress!, count: n) }
        }
        self.init(shape: shape, storage: s, requiresGrad: requiresGrad)
    }

    /// Creates a tensor from row-major elements in a buffer.
    public convenience init(shape: [Int], buffer: UnsafeBufferPointer<Float>, requiresGrad: Bool = false) {
        let n = Tensor.elementCount(shape)
        precondition(n == buffer.count, "Tensor(shape:buffer:): shape \(shape) needs \(n) elements, got \(buffer.count)")
        let s = TensorStorage(uninitializedCount: n)
        if n > 0 { s.base.update(from: buffer.baseAddress!, count: n) }
        self.init(shape: shape, storage: s, requiresGrad: requiresGrad)
    }

    /// A scalar (shape `[]`) tensor.
    public convenience init(_ value: Float, requiresGrad: Bool = false) {
        self.init(shape: [], data: [value], requiresGrad: requiresGrad)
    }

    /// A tensor of the given shape filled with zeros.
    public static func zeros(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        Tensor(shape: shape, storage: TensorStorage(zeroedCount: elementCount(shape)), requiresGrad: requiresGrad)
    }

    /// A tensor of the given shape filled with `value`.
    public static func full(_ shape: [Int], _ value: Float, requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        t.ptr.update(repeating: value, count: t.count)
        t.requiresGrad = requiresGrad
        return t
    }

    /// A tensor of the given shape filled with ones.
    public static func ones(_ shape: [Int], requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, requiresGrad: requiresGrad)
    }

    /// Standard-normal samples (Box–Muller over `generator`), times `std`.
    /// Use a seeded generator for reproducible weights.
    public static func randn<G: RandomNumberGenerator>(_ shape: [Int], std: Float = 1, using generator: inout G,
                                                       requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        let p = t.ptr
        var i = 0
        while i < t.count {
            let bits = generator.next()
            // Two 24-bit uniforms from one 64-bit draw; u1 in (0, 1], u2 in [0, 1).
            let u1 = (Float(bits >> 40) + 1) * 0x1p-24
            let u2 = Float((bits >> 8) & 0xFF_FFFF) * 0x1p-24
            let r = (-2 * Foundation.log(u1)).squareRoot() * std
            p[i] = r * Foundation.cos(2 * Float.pi * u2)
            if i + 1 < t.count { p[i + 1] = r * Foundation.sin(2 * Float.pi * u2) }
            i += 2
        }
        t.requiresGrad = requiresGrad
        return t
    }

    /// Uniform samples in `low..<high` drawn from `generator` (24 random bits each).
    public static func uniform<G: RandomNumberGenerator>(_ shape: [Int], low: Float, high: Float, using generator: inout G,
                                                         requiresGrad: Bool = false) -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        let p = t.ptr, span = high - low
        for i in 0..<t.count {
            let u = Float(generator.next() >> 40) * 0x1p-24
            p[i] = min(low + span * u, high.nextDown)
        }
        t.requiresGrad = requiresGrad
        return t
    }

    /// The elements in row-major order.
    public func toArray() -> [Float] {
        Array(UnsafeBufferPointer(start: ptr, count: count))
    }

    /// The single element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "Tensor.item: tensor of shape \(shape) has \(count) elements, expected 1")
        return ptr[0]
    }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Size of dimension `axis`; negative axes count from the end.
    public func size(_ axis: Int) -> Int { shape[normalizeAxis(axis)] }

    /// A new tensor with the same elements that does not record or receive gradients.
    /// Shares storage with `self`.
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// A deep copy that does not record gradients.
    public func copy() -> Tensor {
        let t = Tensor(uninitializedShape: shape)
        if count > 0 { t.ptr.update(from: ptr, count: count) }
        return t
    }

    /// Calls `body` with the elements for reading.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(UnsafeBufferPointer(start: ptr, count: count)) }
    }

    /// Calls `body` with the elements for in-place writing (for optimizers and weight loading).
    /// Writing to a tensor that a recorded graph still uses changes that graph's gradients.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        try withExtendedLifetime(self) { try body(UnsafeMutableBufferPointer(start: ptr, count: count)) }
    }

    /// Overwrites the elements with `data` (same count), keeping shape and identity.
    public func assign(_ data: [Float]) {
        precondition(data.count == count, "Tensor.assign: tensor of shape \(shape) needs \(count) elements, got \(data.count)")
        data.withUnsafeBufferPointer { if count > 0 { ptr.update(from: $0.baseAddress!, count: count) } }
    }

    /// Overwrites the elements with those of `other` (same element count).
    public func assign(_ other: Tensor) {
        precondition(other.count == count, "Tensor.assign: shapes \(shape) and \(other.shape) differ in size")
        if count > 0 && other.ptr != ptr { ptr.update(from: other.ptr, count: count) }
    }

    /// Turns this tensor into a leaf that collects gradients (or stops it); returns `self`.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        precondition(node == nil, "requiringGrad: only leaf tensors can change requiresGrad")
        requiresGrad = flag
        return self
    }

    /// Drops the accumulated gradient.
    public func zeroGrad() { grad = nil }

    /// Product of the sizes in `shape`.
    static func elementCount(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape {
            precondition(d >= 0, "Tensor: negative dimension in shape \(shape)")
            n *= d
        }
        return n
    }

    /// Maps a possibly negative axis into `0..<rank`.
    func normalizeAxis(_ axis: Int) -> Int {
        let a = axis < 0 ? axis + shape.count : axis
        precondition(a >= 0 && a < shape.count, "axis \(axis) out of range for shape \(shape)")
        return a
    }
}

extension Tensor: CustomStringConvertible {
    /// Shape and the first few elements.
    public var description: String {
        let head = UnsafeBufferPointer(start: ptr, count: min(count, 8)).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(head)\(count > 8 ? ", ..." : "")], requiresGrad: \(requiresGrad))"
    }
}
