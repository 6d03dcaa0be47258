import Foundation

/// Mean absolute error mean(|prediction − target|) over all elements (scalar result), PyTorch's
/// `l1_loss` with mean reduction. The gradient is sign(prediction − target) / count (0 where they
/// are equal, as PyTorch's sign), to both arguments when they require it.
public func l1Loss(_ prediction: Tensor, _ target: Tensor) -> Tensor {
    precondition(prediction.shape == target.shape, "l1Loss: prediction \(prediction.shape) and target \(target.shape) differ")
    let n = prediction.count
    let pp = prediction.ptr, pt = target.ptr
    // Blocks of 256 summed in Float, then added in Double (as `mseLoss`).
    var acc: Double = 0
    var i = 0
    while i < n {
        let end = min(i + 256, n)
        var f: Float = 0
        for j in i..<end { f += Swift.abs(pp[j] - pt[j]) }
        acc += Double(f)
        i = end
    }
    let out = Tensor(Float(acc / Double(max(n, 1))))
    if Tensor.shouldRecord(prediction, target) {
        let p = prediction.detached(), t = target.detached()
        let sign: (Tensor, Float) -> Tensor = { g, direction in
            let k = direction * g.item / Float(max(n, 1))
            let gx = Tensor(uninitializedShape: p.shape)
            let a = p.ptr, b = t.ptr, o = gx.ptr
            Parallel.forRange(n, grain: elementwiseGrain) { r in
                for j in r {
                    let d = a[j] - b[j]
                    o[j] = d > 0 ? k : (d < 0 ? -k : 0)
                }
            }
            return gx
        }
        out.record("l1", [prediction, target], [
            prediction.requiresGrad ? { g in sign(g, 1) } : nil,
            target.requiresGrad ? { g in sign(g, -1) } : nil,
        ])
    }
    return out
}
