import Foundation

extension Tensor {
    /// Nearest-neighbour upsampling by 2 in both spatial dims: `[N, C, H, W]` → `[N, C, 2H, 2W]`.
    public func upsampleNearest2x() -> Tensor {
        precondition(rank == 4, "upsampleNearest2x: expected [N, C, H, W], got \(shape)")
        let planes = shape[0] * shape[1], h = shape[2], w = shape[3]
        let out = Tensor(uninitializedShape: [shape[0], shape[1], 2 * h, 2 * w])
        let px = ptr, po = out.ptr
        Parallel.forRange(planes * h, grain: max(1, elementwiseGrain / max(4 * w, 1))) { r in
            for row in r {
                let s = px + row * w, d = po + row * 4 * w
                for x in 0..<w {
                    let v = s[x]
                    d[2 * x] = v
                    d[2 * x + 1] = v
                }
                (d + 2 * w).update(from: d, count: 2 * w)
            }
        }
        if Tensor.shouldRecord(self) {
            let inShape = shape
            out.record("upsampleNearest2x", [self], [{ g in
                let gx = Tensor(uninitializedShape: inShape)
                let pg = g.ptr, pd = gx.ptr
                Parallel.forRange(planes * h, grain: max(1, elementwiseGrain / max(4 * w, 1))) { r in
                    for row in r {
                        let a = pg + row * 4 * w, b = a + 2 * w, d = pd + row * w
                        for x in 0..<w { d[x] = a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1] }
                    }
                }
                return gx
            }])
        }
        return out
    }

    /// Average pooling over 2×2 windows with stride 2: `[N, C, H, W]` → `[N, C, H/2, W/2]`
    /// (H and W even).
    public func avgPool2x() -> Tensor {
        precondition(rank == 4 && shape[2] % 2 == 0 && shape[3] % 2 == 0, "avgPool2x: expected [N, C, H, W] with even H, W; got \(shape)")
        let planes = shape[0] * shape[1], ho = shape[2] / 2, wo = shape[3] / 2
        let out = Tensor(uninitializedShape: [shape[0], shape[1], ho, wo])
        let px = ptr, po = out.ptr
        Parallel.forRange(planes * ho, grain: max(1, elementwiseGrain / max(4 * wo, 1))) { r in
            for row in r {
                let a = px + row * 4 * wo, b = a + 2 * wo, d = po + row * wo
                for x in 0..<wo { d[x] = 0.25 * (a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1]) }
            }
        }
        if Tensor.shouldRecord(self) {
            let inShape = shape
            out.record("avgPool2x", [self], [{ g in
                let gx = Tensor(uninitializedShape: inShape)
                let pg = g.ptr, pd = gx.ptr
                Parallel.forRange(planes * ho, grain: max(1, elementwiseGrain / max(4 * wo, 1))) { r in
                    for row in r {
                        let a = pd + row * 4 * wo, b = a + 2 * wo, s = pg + row * wo
                        for x in 0..<wo {
                            let v = 0.25 * s[x]
                            a[2 * x] = v; a[2 * x + 1] = v; b[2 * x] = v; b[2 * x + 1] = v
                        }
                    }
                }
                return gx
            }])
        }
        return out
    }
}

/// Looks up rows of `weight` (`[V, D]`): the result has shape `indexShape + [D]`.
/// - Precondition: every index is in `0..<V`.
public func embedding(_ weight: Tensor, indices: [Int], indexShape: [Int]? = nil) -> Tensor {
    precondition(weight.rank == 2, "embedding: weight must be [V, D], got \(weight.shape)")
    let v = weight.shape[0], d = weight.shape[1]
    let shape = indexShape ?? [indices.count]
    precondition(shape.reduce(1, *) == indices.count, "embedding: index shape \(shape) does not hold \(indices.count) indices")
    for i in indices { precondition(i >= 0 && i < v, "embedding: index \(i) out of range 0..<\(v)") }
    let out = Tensor(uninitializedShape: shape + [d])
    let pw = weight.ptr, po = out.ptr
    for (r, i) in indices.enumerated() { (po + r * d).update(from: pw + i * d, count: d) }
    if Tensor.shouldRecord(weight) {
        out.record("embedding", [weight], [{ g in
            let gw = Tensor.zeros([v, d])
            let pg = g.ptr, pd = gw.ptr
            for (r, i) in indices.enumerated() {
                let s = pg + r * d, t = pd + i * d
                for j in 0..<d { t[j] += s[j] }
            }
            return gw
        }])
    }
    return out
}
