import Foundation

/// Row-major strides of a contiguous tensor of `shape`.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}

/// Copies a strided view (`shape`, `srcStrides` from `src`) into contiguous `dst`.
func stridedCopy(src: UnsafePointer<Float>, srcStrides: [Int], shape: [Int], dst: UnsafeMutablePointer<Float>) {
    // Merge dims and drop size-1 dims.
    var d: [Int] = [], s: [Int] = []
    for i in 0..<shape.count where shape[i] != 1 {
        if let last = d.last, s.last! == srcStrides[i] * shape[i] {
            d[d.count - 1] = last * shape[i]
            s[s.count - 1] = srcStrides[i]
        } else {
            d.append(shape[i]); s.append(srcStrides[i])
        }
    }
    if d.isEmpty { d = [1]; s = [1] }
    // A (batched) 2-D transpose: the middle dim is contiguous in the source, the inner one
    // strided. Element by element that reads one cache line per value; in 16 x 16 tiles the
    // tile's 16 source and 16 destination lines stay in L1.
    if d.count == 3 || d.count == 2, s[d.count - 2] == 1, s[d.count - 1] > 1, d[d.count - 1] >= 16 {
        let batch = d.count == 3 ? d[0] : 1, batchStride = d.count == 3 ? s[0] : 0
        transposeTiles(src: src, batch: batch, batchStride: batchStride, rows: d[d.count - 2], cols: d[d.count - 1],
                       colStride: s[d.count - 1], dst: dst)
        return
    }
    let inner = d.last!, innerStride = s.last!
    let rows = d.dropLast().reduce(1, *)
    Parallel.forRange(rows, grain: max(1, elementwiseGrain / max(inner, 1))) { range in
        for r in range {
            var rem = r, off = 0
            var i = d.count - 2
            while i >= 0 {
                let q = rem / d[i]
                off += (rem - q * d[i]) * s[i]
                rem = q
                i -= 1
            }
            let o = dst + r * inner, x = src + off
            if innerStride == 1 {
                o.update(from: x, count: inner)
            } else {
                for j in 0..<inner { o[j] = x[j * innerStride] }
            }
        }
    }
}

/// dst[b, i, j] = src[b · batchStride + i + j · colStride] for i < rows, j < cols (dst contiguous
/// [batch, rows, cols]), in 16 x 16 tiles.
func transposeTiles(src: UnsafePointer<Float>, batch: Int, batchStride: Int, rows: Int, cols: Int, colStride: Int,
                    dst: UnsafeMutablePointer<Float>) {
    let tileRows = (rows + 15) / 16
    Parallel.forRange(batch * tileRows, grain: max(1, elementwiseGrain / max(16 * cols, 1))) { range in
        for t in range {
            let b = t / tileRows, i0 = (t % tileRows) * 16, i1 = min(rows, i0 + 16)
            let sb = src + b * batchStride, db = dst + b * rows * cols
            var j0 = 0
            while j0 < cols {
                let j1 = min(cols, j0 + 16)
                for i in i0..<i1 {
                    let o = db + i * cols, x = sb + i
                    for j in j0..<j1 { o[j] = x[j * colStride] }
                }
                j0 = j1
            }
        }
    }
}

extension Tensor {
    /// The same elements viewed with a new shape (no copy). One dimension may be -1 (inferred).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let k = target.firstIndex(of: -1) {
            let known = target.enumerated().filter { $0.offset != k }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0, "reshaped: cannot view shape \(shape) as \(newShape)")
            target[k] = count / known
        }
        precondition(Tensor.elementCount(target) == count, "reshaped: cannot view shape \(shape) (\(count) elements) as \(newShape)")
        let out = Tensor(shape: target, storage: storage)
        if Tensor.shouldRecord(self) {
            let original = shape
            out.record("reshape", [self], [{ g in Tensor(shape: original, storage: g.storage) }])
        }
        return out
    }

    /// Flattens dimensions `from...` into one.
    public func flattened(from axis: Int = 0) -> Tensor {
        let a = axis < 0 ? axis + rank : axis
        return reshaped(Array(shape[..<a]) + [shape[a...].reduce(1, *)])
    }

    /// Inserts a size-1 dimension at `axis`.
    public func unsqueezed(_ axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// Removes the size-1 dimension at `axis`.
    public func squeezed(_ axis: Int) -> Tensor {
        let a = normalizeAxis(axis)
        precondition(shape[a] == 1, "squeezed: dimension \(axis) of \(shape) is not 1")
        var s = shape
        s.remove(at: a)
        return reshaped(s)
    }

    /// Reorders dimensions: result dimension i is input dimension `order[i]`. Copies.
    public func permuted(_ order: [Int]) -> Tensor {
        precondition(order.count == rank && Set(order) == Set(0..<rank), "permuted: \(order) is not a permutation of the \(rank) dims of \(shape)")
        if order == Array(0..<rank) { return reshaped(shape) }
        let inStrides = contiguousStrides(shape)
        let outShape = order.map { shape[$0] }
        let out = Tensor(uninitializedShape: outShape)
        stridedCopy(src: ptr, srcStrides: order.map { inStrides[$0] }, shape: outShape, dst: out.ptr)
        if Tensor.shouldRecord(self) {
            var inverse = [Int](repeating: 0, count: order.count)
            for (i, o) in order.enumerated() { inverse[o] = i }
            out.record("permute", [self], [{ g in g.permuted(inverse) }])
        }
        return out
    }

    /// Swaps two dimensions. Copies.
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var order = Array(0..<rank)
        order.swapAt(normalizeAxis(a), normalizeAxis(b))
        return permuted(order)
    }

    /// Elements `range` along `axis`. Copies.
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let a = normalizeAxis(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[a], "slice: range \(range) out of bounds for dimension \(axis) of \(shape)")
        let outer = shape[..<a].reduce(1, *)
        let inner = shape[(a + 1)...].reduce(1, *)
        var outShape = shape
        outShape[a] = range.count
        let out = Tensor(uninitializedShape: outShape)
        let len = range.count * inner, srcRow = shape[a] * inner, start = range.lowerBound * inner
        let src = ptr, dst = out.ptr
        Parallel.forRange(outer, grain: max(1, elementwiseGrain / max(len, 1))) { r in
            for o in r { (dst + o * len).update(from: src + o * srcRow + start, count: len) }
        }
        if Tensor.shouldRecord(self) {
            let full = shape
            out.record("slice", [self], [{ g in
                let gx = Tensor.zeros(full)
                let gs = g.ptr, gd = gx.ptr
                for o in 0..<outer { (gd + o * srcRow + start).update(from: gs + o * len, count: len) }
                return gx
            }])
        }
        return out
    }

    /// Splits along `axis` into pieces of the given sizes (which must sum to the dimension).
    public func split(axis: Int, sizes: [Int]) -> [Tensor] {
        let a = normalizeAxis(axis)
        precondition(sizes.reduce(0, +) == shape[a], "split: sizes \(sizes) do not sum to dimension \(axis) of \(shape)")
        var start = 0
        return sizes.map { n in
            defer { start += n }
            return slice(axis: a, start..<(start + n))
        }
    }

    /// Splits along `axis` into `parts` equal pieces.
    public func chunked(_ parts: Int, axis: Int) -> [Tensor] {
        let a = normalizeAxis(axis)
        precondition(parts > 0 && shape[a] % parts == 0, "chunked: dimension \(axis) of \(shape) does not split into \(parts)")
        return split(axis: a, sizes: [Int](repeating: shape[a] / parts, count: parts))
    }

    /// Joins tensors along `axis`; all other dimensions must match.
    public static func concat(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concat: no tensors")
        let first = tensors[0]
        let a = first.normalizeAxis(axis)
        for t in tensors {
            precondition(t.rank == first.rank && (0..<first.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         "concat: shape \(t.shape) does not match \(first.shape) outside axis \(axis)")
        }
        let outer = first.shape[..<a].reduce(1, *)
        let inner = first.shape[(a + 1)...].reduce(1, *)
        var outShape = first.shape
        outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let out = Tensor(uninitializedShape: outShape)
        let dstRow = outShape[a] * inner
        var start = 0
        for t in tensors {
            let len = t.shape[a] * inner
            let src = t.ptr, dst = out.ptr + start
            Parallel.forRange(outer, grain: max(1, elementwiseGrain / max(len, 1))) { r in
                for o in r { (dst + o * dstRow).update(from: src + o * len, count: len) }
            }
            start += len
        }
        if shouldRecord(tensors) {
            var offset = 0
            var pullbacks: [((Tensor) -> Tensor)?] = []
            for t in tensors {
                let lo = offset
                offset += t.shape[a]
                let hi = offset
                pullbacks.append(t.requiresGrad ? { g in g.slice(axis: a, lo..<hi) } : nil)
            }
            out.record("concat", tensors, pullbacks)
        }
        return out
    }

    /// Repeats the tensor to `shape` by broadcasting (copies).
    public func expanded(to target: [Int]) -> Tensor {
        let plan = BroadcastPlan.broadcastShape(shape, target, op: "expanded")
        precondition(plan == target, "expanded: \(shape) does not broadcast to \(target)")
        let out = Tensor(uninitializedShape: target)
        stridedCopy(src: ptr, srcStrides: BroadcastPlan.broadcastStrides(shape, to: target), shape: target, dst: out.ptr)
        if Tensor.shouldRecord(self) {
            let s = shape
            out.record("expand", [self], [{ g in g.sumToShape(s) }])
        }
        return out
    }
}
