import Foundation

/// SiLU(GroupNorm(x) · (1 + scale) + shift) in one op: the residual blocks' "norm, FiLM,
/// activation" sequence (and "norm, activation" without FiLM), fused.
///
/// Per sample n and channel c the normalised input x̂ = (x − μ_g) · rstd_g becomes
///   z = (x̂ γ_c + β_c)(1 + s_nc) + t_nc = A_nc x + B_nc,   y = z σ(z),
/// so the forward pass is one statistics pass and one affine + SiLU pass per channel row, where
/// the unfused ops take seven passes over the activation (norm, multiply, add, SiLU, each with
/// its own output buffer). The backward pass recomputes z from x and the saved statistics
/// instead of keeping x̂ and z: dz = dy · SiLU′(z); then per (n, c) S1 = Σ dz and S2 = Σ dz x̂
/// give every parameter gradient,
///   dγ_c = Σ_n (1 + s_nc) S2_nc,  dβ_c = Σ_n (1 + s_nc) S1_nc,
///   ds_nc = γ_c S2_nc + β_c S1_nc,  dt_nc = S1_nc,
/// and dx is GroupNorm's input gradient for dx̂ = dz (1 + s) γ:
///   dx = rstd (dx̂ − mean_g(dx̂) − x̂ mean_g(dx̂ x̂)).
///
/// - Parameters:
///   - x: `[N, C, ...]`, C divisible by `groups`.
///   - weight, bias: γ and β, `[C]` (nil: 1 and 0).
///   - scale, shift: s and t, `[N, C]` (both or neither; nil: no FiLM).
/// - Returns: the shape of `x`.
public func groupNormSiLU(_ x: Tensor, groups: Int, weight: Tensor?, bias: Tensor?, scale: Tensor? = nil, shift: Tensor? = nil,
                          eps: Float = 1e-5) -> Tensor {
    let (batch, c, spatial, cpg, groupSize) = groupNormGeometry("groupNormSiLU", x, groups: groups, weight: weight, bias: bias)
    precondition((scale == nil) == (shift == nil), "groupNormSiLU: give both scale and shift, or neither")
    if let scale { precondition(scale.shape == [batch, c], "groupNormSiLU: scale \(scale.shape) should be [\(batch), \(c)]") }
    if let shift { precondition(shift.shape == [batch, c], "groupNormSiLU: shift \(shift.shape) should be [\(batch), \(c)]") }

    let out = Tensor(uninitializedShape: x.shape)
    let stats = TensorStorage(uninitializedCount: batch * groups * 2)
    let px = x.ptr, py = out.ptr, ps = stats.base
    let pw = weight?.ptr, pb = bias?.ptr, pscale = scale?.ptr, pshift = shift?.ptr
    let grain = max(1, elementwiseGrain / max(groupSize, 1))
    Parallel.forRange(batch * groups, grain: grain) { r in
        for ng in r {
            let base = ng * groupSize, n = ng / groups, g = ng % groups
            let (mean, rstd) = meanRstd(px + base, groupSize, eps: eps)
            ps[2 * ng] = mean
            ps[2 * ng + 1] = rstd
            for cc in 0..<cpg {
                let ch = g * cpg + cc, nc = n * c + ch
                let film = 1 + (pscale?[nc] ?? 0)
                let a = rstd * (pw?[ch] ?? 1) * film
                let b = ((pb?[ch] ?? 0) - mean * rstd * (pw?[ch] ?? 1)) * film + (pshift?[nc] ?? 0)
                let s = px + base + cc * spatial, d = py + base + cc * spatial
                for i in 0..<spatial { d[i] = s[i] * a + b }
                if !SiLUKernel.forwardBulk(d, d, spatial) {
                    for i in 0..<spatial { d[i] = SiLUKernel.forward(d[i]) }
                }
            }
        }
    }

    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    if let scale, let shift { inputs += [scale, shift] }
    guard Tensor.shouldRecord(inputs) else { return out }
    let dx = x.detached(), dw = weight?.detached(), db = bias?.detached(), ds = scale?.detached(), dt = shift?.detached()
    let statsT = Tensor(shape: [batch * groups * 2], storage: stats)
    // One pass gives dz (kept for dx) and the per-(n, c) sums S1 = Σ dz, S2 = Σ dz x̂ that every
    // pullback uses.
    var cached: (g: Tensor, dz: Tensor, sums: Tensor)? = nil
    let backward: (Tensor) -> (dz: Tensor, sums: Tensor) = { g in
        if let cached, cached.g === g { return (cached.dz, cached.sums) }
        let dz = Tensor(uninitializedShape: dx.shape), sums = Tensor(uninitializedShape: [batch, c, 2])
        let pg = g.ptr, pxx = dx.ptr, st = statsT.ptr, pdz = dz.ptr, psum = sums.ptr
        let pww = dw?.ptr, pbb = db?.ptr, pss = ds?.ptr, ptt = dt?.ptr
        Parallel.forRange(batch * c, grain: max(1, elementwiseGrain / max(spatial, 1))) { r in
            let zRow = TensorStorage(uninitializedCount: spatial)
            let z = zRow.base
            for nc in r {
                let n = nc / c, ch = nc % c, ng = n * groups + ch / cpg
                let mean = st[2 * ng], rstd = st[2 * ng + 1]
                let film = 1 + (pss?[nc] ?? 0), gamma = pww?[ch] ?? 1
                let a = rstd * gamma * film
                let b = ((pbb?[ch] ?? 0) - mean * rstd * gamma) * film + (ptt?[nc] ?? 0)
                let xx = pxx + nc * spatial, gg = pg + nc * spatial, dd = pdz + nc * spatial
                for i in 0..<spatial { z[i] = xx[i] * a + b }
                if !SiLUKernel.backwardBulk(z, gg, dd, spatial) {
                    for i in 0..<spatial { dd[i] = gg[i] * SiLUKernel.derivative(z[i], SiLUKernel.forward(z[i])) }
                }
                let s1 = FastMath.sum(dd, spatial)
                psum[2 * nc] = s1
                psum[2 * nc + 1] = (FastMath.dot(dd, xx, spatial) - mean * s1) * rstd
            }
            withExtendedLifetime(zRow) {}
        }
        cached = (g, dz, sums)
        return (dz, sums)
    }
    var pullbacks: [((Tensor) -> Tensor)?] = [x.requiresGrad ? { g in
        let (dz, sums) = backward(g)
        let gx = Tensor(uninitializedShape: dx.shape)
        groupNormInputGradient(dz.ptr, x: dx.ptr, stats: statsT.ptr, sums: sums.ptr, batch: batch, channels: c,
                               groups: groups, spatial: spatial, gamma: dw?.ptr, film: ds?.ptr, into: gx.ptr)
        return gx
    } : nil]
    // dγ and dβ: Σ_n (1 + s) S2 and Σ_n (1 + s) S1.
    let reduceBatch: (Tensor, Int) -> Tensor = { sums, which in
        groupNormParameterGradient(sums.ptr, which, batch: batch, channels: c, film: ds?.ptr)
    }
    if let weight { pullbacks.append(weight.requiresGrad ? { g in reduceBatch(backward(g).sums, 1) } : nil) }
    if let bias { pullbacks.append(bias.requiresGrad ? { g in reduceBatch(backward(g).sums, 0) } : nil) }
    if let scale, let shift {
        // ds = γ S2 + β S1, dt = S1.
        pullbacks.append(scale.requiresGrad ? { g in
            let sums = backward(g).sums
            let out = Tensor(uninitializedShape: [batch, c])
            let psum = sums.ptr, po = out.ptr, pww = dw?.ptr, pbb = db?.ptr
            for nc in 0..<batch * c {
                let ch = nc % c
                po[nc] = (pww?[ch] ?? 1) * psum[2 * nc + 1] + (pbb?[ch] ?? 0) * psum[2 * nc]
            }
            return out
        } : nil)
        pullbacks.append(shift.requiresGrad ? { g in
            let sums = backward(g).sums
            let out = Tensor(uninitializedShape: [batch, c])
            let psum = sums.ptr, po = out.ptr
            for nc in 0..<batch * c { po[nc] = psum[2 * nc] }
            return out
        } : nil)
    }
    out.record("groupNormSiLU", inputs, pullbacks)
    return out
}
