import Foundation

extension Tensor {
    /// Sum of all elements (scalar result), accumulated in Double.
    public func sum() -> Tensor {
        let p = ptr
        let chunks = min(Parallel.threadCount * 4, max(1, count / elementwiseGrain))
        var partial = [Double](repeating: 0, count: chunks)
        partial.withUnsafeMutableBufferPointer { part in
            let pp = part.baseAddress!
            Parallel.forEach(chunks) { c in
                let lo = count * c / chunks, hi = count * (c + 1) / chunks
                var acc: Double = 0
                var i = lo
                // Blocks of 256 summed in Float, then added in Double.
                while i < hi {
                    let end = min(i + 256, hi)
                    var f: Float = 0
                    for j in i..<end { f += p[j] }
                    acc += Double(f)
                    i = end
                }
                pp[c] = acc
            }
        }
        let out = Tensor(Float(partial.reduce(0, +)))
        if Tensor.shouldRecord(self) {
            let s = shape
            out.record("sum", [self], [{ g in Tensor.full(s, g.item) }])
        }
        return out
    }

    /// Mean of all elements (scalar result).
    public func mean() -> Tensor { sum() * (1 / Float(max(count, 1))) }

    /// Sum along `axis`; keeps it as size 1 when `keepDims`.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizeAxis(axis)
        let outer = shape[..<a].reduce(1, *), n = shape[a], inner = shape[(a + 1)...].reduce(1, *)
        var keptShape = shape
        keptShape[a] = 1
        let out = Tensor.zeros(keptShape)
        let src = ptr, dst = out.ptr
        Parallel.forRange(outer, grain: max(1, elementwiseGrain / max(n * inner, 1))) { r in
            for o in r {
                let d = dst + o * inner
                for j in 0..<n {
                    let s = src + (o * n + j) * inner
                    for i in 0..<inner { d[i] += s[i] }
                }
            }
        }
        let result = keepDims ? out : Tensor(shape: shape.enumerated().filter { $0.offset != a }.map { $0.element }, storage: out.storage)
        if Tensor.shouldRecord(self) {
            let full = shape
            result.record("sumAxis", [self], [{ g in Tensor(shape: keptShape, storage: g.storage).expanded(to: full) }])
        }
        return result
    }

    /// Mean along `axis`; keeps it as size 1 when `keepDims`.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor {
        sum(axis: axis, keepDims: keepDims) * (1 / Float(shape[normalizeAxis(axis)]))
    }
}

/// Mean squared error mean((prediction − target)²) over all elements (scalar result).
/// Gradients flow to both arguments when they require them.
public func mseLoss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    precondition(prediction.shape == target.shape, "mseLoss: prediction \(prediction.shape) and target \(target.shape) differ")
    let n = prediction.count
    let pp = prediction.ptr, pt = target.ptr
    var acc: Double = 0
    var i = 0
    while i < n {
        let end = min(i + 256, n)
        var f: Float = 0
        for j in i..<end {
            let d = pp[j] - pt[j]
            f += d * d
        }
        acc += Double(f)
        i = end
    }
    let out = Tensor(Float(acc / Double(max(n, 1))))
    if Tensor.shouldRecord(prediction, target) {
        let p = prediction.detached(), t = target.detached()
        let diff: (Tensor) -> Tensor = { g in (p - t) * (2 * g.item / Float(max(n, 1))) }
        out.record("mse", [prediction, target], [
            prediction.requiresGrad ? diff : nil,
            target.requiresGrad ? { g in -diff(g) } : nil,
        ])
    }
    return out
}
