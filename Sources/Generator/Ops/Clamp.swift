import Foundation

extension Tensor {
    /// Each element limited to `[minimum, maximum]` (PyTorch `clamp`). The gradient passes where
    /// `minimum <= x <= maximum` and is 0 outside, as PyTorch's.
    public func clamped(min minimum: Float, max maximum: Float) -> Tensor {
        precondition(minimum <= maximum, "clamped: minimum \(minimum) is above maximum \(maximum)")
        let out = Tensor(uninitializedShape: shape)
        let px = ptr, po = out.ptr
        Parallel.forRange(count, grain: elementwiseGrain) { r in
            for i in r { po[i] = Swift.min(Swift.max(px[i], minimum), maximum) }
        }
        if Tensor.shouldRecord(self) {
            let x = detached()
            out.record("clamp", [self], [{ g in
                let gx = Tensor(uninitializedShape: x.shape)
                let pg = g.ptr, pxx = x.ptr, pd = gx.ptr
                Parallel.forRange(x.count, grain: elementwiseGrain) { r in
                    for i in r { pd[i] = pxx[i] >= minimum && pxx[i] <= maximum ? pg[i] : 0 }
                }
                return gx
            }])
        }
        return out
    }
}
