import Foundation

extension Tensor {
    /// Softmax over the last dimension. Rows that are entirely −∞ give zeros.
    public func softmax() -> Tensor {
        precondition(rank >= 1, "softmax: scalar input")
        let d = shape.last!, rows = count / max(d, 1)
        let out = copy()
        let po = out.ptr
        Parallel.forRange(rows, grain: max(1, elementwiseGrain / 4 / max(d, 1))) { r in
            for row in r { FastMath.softmaxInPlace(po + row * d, d, logSumExp: false) }
        }
        if Tensor.shouldRecord(self) {
            let y = out.detached()
            out.record("softmax", [self], [{ g in
                let gx = Tensor(uninitializedShape: y.shape)
                let pg = g.ptr, py = y.ptr, pd = gx.ptr
                Parallel.forRange(rows, grain: max(1, elementwiseGrain / max(d, 1))) { r in
                    for row in r {
                        let gg = pg + row * d, yy = py + row * d, dd = pd + row * d
                        let dot = FastMath.dot(gg, yy, d)
                        for i in 0..<d { dd[i] = yy[i] * (gg[i] - dot) }
                    }
                }
                return gx
            }])
        }
        return out
    }
}
