import Foundation

/// In-place softmax of one row of `n` floats.
@inline(__always)
func softmaxRow(_ p: UnsafeMutablePointer<Float>, _ n: Int) {
    var m = -Float.infinity
    for i in 0..<n { m = max(m, p[i]) }
    if m == -Float.infinity {
        // Every entry masked: define the row as all zeros rather than NaN.
        p.update(repeating: 0, count: n)
        return
    }
    var s: Float = 0
    for i in 0..<n {
        let e = FastMath.exp(p[i] - m)
        p[i] = e
        s += e
    }
    let inv = 1 / s
    for i in 0..<n { p[i] *= inv }
}

extension Tensor {
    /// Softmax over the last dimension. Rows that are entirely −∞ give zeros.
    public func softmax() -> Tensor {
        precondition(rank >= 1, "softmax: scalar input")
        let d = shape.last!, rows = count / max(d, 1)
        let out = copy()
        let po = out.ptr
        Parallel.forRange(rows, grain: max(1, elementwiseGrain / 4 / max(d, 1))) { r in
            for row in r { softmaxRow(po + row * d, d) }
        }
        if Tensor.shouldRecord(self) {
            let y = out.detached()
            out.record("softmax", [self], [{ g in
                let gx = Tensor(uninitializedShape: y.shape)
                let pg = g.ptr, py = y.ptr, pd = gx.ptr
                Parallel.forRange(rows, grain: max(1, elementwiseGrain / max(d, 1))) { r in
                    for row in r {
                        let gg = pg + row * d, yy = py + row * d, dd = pd + row * d
                        var dot: Float = 0
                        for i in 0..<d { dot += gg[i] * yy[i] }
                        for i in 0..<d { dd[i] = yy[i] * (gg[i] - dot) }
                    }
                }
                return gx
            }])
        }
        return out
    }
}
