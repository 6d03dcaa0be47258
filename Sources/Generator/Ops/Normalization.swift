import Foundation

/// Mean and reciprocal standard deviation of `n` floats (biased variance, as PyTorch's norms),
/// two passes with 16-lane partial sums.
@inline(__always)
func meanRstd(_ p: UnsafePointer<Float>, _ n: Int, eps: Float) -> (Float, Float) {
    let mean = FastMath.sum(p, n) / Float(n)
    var i = 0
    var acc = SIMD16<Float>(repeating: 0)
    let mv = SIMD16<Float>(repeating: mean)
    while i + 16 <= n {
        let d = UnsafeRawPointer(p + i).loadUnaligned(as: SIMD16<Float>.self) - mv
        acc += d * d
        i += 16
    }
    var v = acc.sum()
    while i < n {
        let d = p[i] - mean
        v += d * d
        i += 1
    }
    return (mean, 1 / (v / Float(n) + eps).squareRoot())
}

/// Checks a group-norm input `[N, C, ...]` (C divisible by `groups`) and its `[C]` affine
/// parameters; returns N, C, the positions per channel, the channels per group and the values
/// per group. `op` names the caller in the messages.
func groupNormGeometry(_ op: String, _ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?)
    -> (batch: Int, c: Int, spatial: Int, cpg: Int, groupSize: Int) {
    precondition(x.rank >= 2 && groups > 0 && x.shape[1] % groups == 0,
                 "\(op): \(x.shape[1 < x.rank ? 1 : 0]) channels of \(x.shape) not divisible into \(groups) groups")
    let batch = x.shape[0], c = x.shape[1], spatial = x.count / max(batch * c, 1)
    if let weight { precondition(weight.shape == [c], "\(op): weight \(weight.shape) should be [\(c)]") }
    if let bias { precondition(bias.shape == [c], "\(op): bias \(bias.shape) should be [\(c)]") }
    return (batch, c, spatial, c / groups, c / groups * spatial)
}

/// Group normalisation (PyTorch `group_norm`): statistics over each group of C/groups
/// channels and all positions, then a per-channel affine map.
/// - Parameters:
///   - x: `[N, C, ...]` with C divisible by `groups`.
///   - weight, bias: `[C]` or nil (identity affine).
///   - eps: added to the variance.
public func groupNorm(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    let (batch, c, spatial, cpg, groupSize) = groupNormGeometry("groupNorm", x, groups: groups, weight: weight, bias: bias)
    let out = Tensor(uninitializedShape: x.shape)
    let stats = TensorStorage(uninitializedCount: batch * groups * 2)
    let px = x.ptr, py = out.ptr, ps = stats.base
    let pw = weight?.ptr, pb = bias?.ptr
    Parallel.forRange(batch * groups, grain: max(1, elementwiseGrain / max(groupSize, 1))) { r in
        for ng in r {
            let base = ng * groupSize
            let (mean, rstd) = meanRstd(px + base, groupSize, eps: eps)
            ps[2 * ng] = mean
            ps[2 * ng + 1] = rstd
            let g = ng % groups
            for cc in 0..<cpg {
                let ch = g * cpg + cc
                let scale = rstd * (pw?[ch] ?? 1)
                let shift = (pb?[ch] ?? 0) - mean * scale
                let s = px + base + cc * spatial, d = py + base + cc * spatial
                for i in 0..<spatial { d[i] = s[i] * scale + shift }
            }
        }
    }
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    if Tensor.shouldRecord(inputs) {
        let dx = x.detached(), dw = weight?.detached()
        let statsT = Tensor(shape: [batch * groups * 2], storage: stats)
        // One pass over dy and x gives per-(n, c) Σdy and Σdy·x̂; every pullback uses them.
        var cached: (g: Tensor, sums: Tensor)? = nil
        let channelSums: (Tensor) -> Tensor = { g in
            if let cached, cached.g === g { return cached.sums }
            let sums = Tensor(uninitializedShape: [batch, c, 2])
            let pg = g.ptr, pxx = dx.ptr, st = statsT.ptr, ps = sums.ptr
            Parallel.forRange(batch * c, grain: max(1, elementwiseGrain / max(spatial, 1))) { r in
                for nc in r {
                    let ng = (nc / c) * groups + (nc % c) / cpg
                    let mean = st[2 * ng], rstd = st[2 * ng + 1]
                    let gg = pg + nc * spatial, xx = pxx + nc * spatial
                    let s1 = FastMath.sum(gg, spatial)
                    ps[2 * nc] = s1
                    ps[2 * nc + 1] = (FastMath.dot(gg, xx, spatial) - mean * s1) * rstd
                }
            }
            cached = (g, sums)
            return sums
        }
        var pullbacks: [((Tensor) -> Tensor)?] = [x.requiresGrad ? { g in
            let sums = channelSums(g)
            let gx = Tensor(uninitializedShape: dx.shape)
            groupNormInputGradient(g.ptr, x: dx.ptr, stats: statsT.ptr, sums: sums.ptr, batch: batch, channels: c,
                                   groups: groups, spatial: spatial, gamma: dw?.ptr, film: nil, into: gx.ptr)
            return gx
        } : nil]
        // dγ[c] = Σ_n Σdy·x̂, dβ[c] = Σ_n Σdy.
        let reduceBatch: (Tensor, Int) -> Tensor = { sums, which in
            groupNormParameterGradient(sums.ptr, which, batch: batch, channels: c, film: nil)
        }
        if let weight {
            pullbacks.append(weight.requiresGrad ? { g in reduceBatch(channelSums(g), 1) } : nil)
        }
        if let bias {
            pullbacks.append(bias.requiresGrad ? { g in reduceBatch(channelSums(g), 0) } : nil)
        }
        out.record("groupNorm", inputs, pullbacks)
    }
    return out
}

/// Group norm's input gradient from the per-(n, c) sums S1 = Σ dŷ and S2 = Σ dŷ·x̂ (`sums`,
/// [N, C, 2]) of the gradient dŷ that reaches the normalised value, where that gradient is
/// scaled by k = γ[c] · (1 + film[n, c]) before it reaches x̂ (γ and film nil: ones and zeros;
/// the fused `groupNormSiLU` passes its FiLM scale):
///   dx = rstd · (dŷ·k − mean_g(S1·k) − x̂ · mean_g(S2·k)) = c1·dŷ + c2·x + c3 per channel.
func groupNormInputGradient(_ dy: UnsafePointer<Float>, x: UnsafePointer<Float>, stats: UnsafePointer<Float>,
                            sums: UnsafePointer<Float>, batch: Int, channels c: Int, groups: Int, spatial: Int,
                            gamma: UnsafePointer<Float>?, film: UnsafePointer<Float>?, into out: UnsafeMutablePointer<Float>) {
    let cpg = c / groups, groupSize = cpg * spatial
    Parallel.forRange(batch * groups, grain: max(1, elementwiseGrain / max(groupSize, 1))) { r in
        for ng in r {
            let base = ng * groupSize, grp = ng % groups, n = ng / groups
            let mean = stats[2 * ng], rstd = stats[2 * ng + 1]
            var m1: Float = 0, m2: Float = 0
            for cc in 0..<cpg {
                let ch = grp * cpg + cc, nc = n * c + ch
                let k = (gamma?[ch] ?? 1) * (1 + (film?[nc] ?? 0))
                m1 += sums[2 * nc] * k
                m2 += sums[2 * nc + 1] * k
            }
            let a = m1 / Float(groupSize), b = m2 / Float(groupSize)
            for cc in 0..<cpg {
                let ch = grp * cpg + cc, nc = n * c + ch
                let k = (gamma?[ch] ?? 1) * (1 + (film?[nc] ?? 0))
                let gg = dy + base + cc * spatial, xx = x + base + cc * spatial, oo = out + base + cc * spatial
                let c1 = rstd * k, c2 = -rstd * rstd * b, c3 = rstd * (rstd * mean * b - a)
                for i in 0..<spatial { oo[i] = c1 * gg[i] + c2 * xx[i] + c3 }
            }
        }
    }
}

/// Group norm's weight (`which` 1: Σ_n S2·(1 + film)) or bias (`which` 0: Σ_n S1·(1 + film))
/// gradient from the per-(n, c) sums of `groupNormInputGradient`.
func groupNormParameterGradient(_ sums: UnsafePointer<Float>, _ which: Int, batch: Int, channels c: Int,
                                film: UnsafePointer<Float>?) -> Tensor {
    let out = Tensor.zeros([c])
    let po = out.ptr
    for n in 0..<batch {
        for ch in 0..<c { po[ch] += sums[2 * (n * c + ch) + which] * (1 + (film?[n * c + ch] ?? 0)) }
    }
    return out
}

/// Layer normalisation over the last dimension (PyTorch `layer_norm` with one normalised dim).
/// - Parameters:
///   - x: `[..., D]`.
///   - weight, bias: `[D]` or nil.
///   - eps: added to the variance.
public func layerNorm(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    precondition(x.rank >= 1, "layerNorm: scalar input")
    let d = x.shape.last!, rows = x.count / max(d, 1)
    if let weight { precondition(weight.shape == [d], "layerNorm: weight \(weight.shape) should be [\(d)]") }
    if let bias { precondition(bias.shape == [d], "layerNorm: bias \(bias.shape) should be [\(d)]") }
    let out = Tensor(uninitializedShape: x.shape)
    let stats = TensorStorage(uninitializedCount: rows * 2)
    let px = x.ptr, py = out.ptr, ps = stats.base, pw = weight?.ptr, pb = bias?.ptr
    Parallel.forRange(rows, grain: max(1, elementwiseGrain / max(d, 1))) { r in
        for row in r {
            let s = px + row * d, o = py + row * d
            let (mean, rstd) = meanRstd(s, d, eps: eps)
            ps[2 * row] = mean
            ps[2 * row + 1] = rstd
            if let pw, let pb {
                for i in 0..<d { o[i] = (s[i] - mean) * rstd * pw[i] + pb[i] }
            } else if let pw {
                for i in 0..<d { o[i] = (s[i] - mean) * rstd * pw[i] }
            } else {
                for i in 0..<d { o[i] = (s[i] - mean) * rstd + (pb?[i] ?? 0) }
            }
        }
    }
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    if Tensor.shouldRecord(inputs) {
        let dx = x.detached(), dw = weight?.detached()
        let statsT = Tensor(shape: [rows * 2], storage: stats)
        let needX = x.requiresGrad, needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
        // One pass computes every gradient (x, weight, bias); the pullbacks share it.
        var cached: (g: Tensor, gx: Tensor?, gw: Tensor?, gb: Tensor?)? = nil
        let all: (Tensor) -> (Tensor?, Tensor?, Tensor?) = { g in
            if let cached, cached.g === g { return (cached.gx, cached.gw, cached.gb) }
            let r = layerNormBackward(g, dx, stats: statsT, weight: dw, rows: rows, d: d, needX: needX, needW: needW, needB: needB)
            cached = (g, r.0, r.1, r.2)
            return r
        }
        var pullbacks: [((Tensor) -> Tensor)?] = [needX ? { g in all(g).0! } : nil]
        if weight != nil { pullbacks.append(needW ? { g in all(g).1! } : nil) }
        if bias != nil { pullbacks.append(needB ? { g in all(g).2! } : nil) }
        out.record("layerNorm", inputs, pullbacks)
    }
    return out
}

/// Layer-norm gradients in one pass over the rows: dx, and the weight and bias gradients summed
/// over rows (per-chunk partial sums added in chunk order, so the result does not depend on
/// which thread ran a chunk).
private func layerNormBackward(_ g: Tensor, _ x: Tensor, stats: Tensor, weight: Tensor?, rows: Int, d: Int,
                               needX: Bool, needW: Bool, needB: Bool) -> (Tensor?, Tensor?, Tensor?) {
    let gx = needX ? Tensor(uninitializedShape: x.shape) : nil
    let gw = needW ? Tensor.zeros([d]) : nil, gb = needB ? Tensor.zeros([d]) : nil
    let chunks = Parallel.threadCount == 1 ? 1 : min(4 * Parallel.threadCount, max(1, rows * d / elementwiseGrain))
    let partials = (needW || needB) ? TensorStorage(zeroedCount: chunks * 2 * d) : nil
    let pg = g.ptr, px = x.ptr, st = stats.ptr, pw = weight?.ptr, po = gx?.ptr
    Parallel.forEach(chunks) { c in
        let lo = rows * c / chunks, hi = rows * (c + 1) / chunks
        if lo >= hi { return }
        let pgw = needW ? partials!.base + c * 2 * d : nil, pgb = needB ? partials!.base + c * 2 * d + d : nil
        let off = lo * d
        if VectorKernels.layerNormBackward(pg + off, px + off, stats: st + 2 * lo, weight: pw, rows: hi - lo, d: d,
                                           gx: po.map { $0 + off }, gw: pgw, gb: pgb) { return }
        for row in lo..<hi {
            let mean = st[2 * row], rstd = st[2 * row + 1]
            let gg = pg + row * d, xx = px + row * d
            if let po {
                var s1: Float = 0, s2: Float = 0
                for i in 0..<d {
                    let gh = gg[i] * (pw?[i] ?? 1)
                    s1 += gh
                    s2 += gh * ((xx[i] - mean) * rstd)
                }
                let a = s1 / Float(d), b = s2 / Float(d), oo = po + row * d
                for i in 0..<d {
                    let gh = gg[i] * (pw?[i] ?? 1)
                    oo[i] = rstd * (gh - a - ((xx[i] - mean) * rstd) * b)
                }
            }
            if let pgw { for i in 0..<d { pgw[i] += gg[i] * ((xx[i] - mean) * rstd) } }
            if let pgb { for i in 0..<d { pgb[i] += gg[i] } }
        }
    }
    if let partials {
        for c in 0..<chunks {
            let p = partials.base + c * 2 * d
            if let gw { for i in 0..<d { gw.ptr[i] += p[i] } }
            if let gb { for i in 0..<d { gb.ptr[i] += p[d + i] } }
        }
    }
    return (gx, gw, gb)
}
