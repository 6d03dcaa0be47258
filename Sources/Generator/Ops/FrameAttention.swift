import Foundation

// The temporal transformer's ops on channel-major video maps `[B·F, C, H, W]`, read in place:
// each vector holds 16 spatial positions, so attention over the frames and layer norm over the
// channels need no move of positions to rows (and no move back). Only on CPUs with the vector
// kernels (`VectorKernels.available`); the caller keeps the row-major path for the others.

/// Layer normalisation over the channel axis of `[N, C, H, W]` at every position: the same as
/// permuting to `[N, H, W, C]`, `layerNorm` and permuting back.
/// - Parameters:
///   - x: `[N, C, ...]` (positions: the product of the trailing dims).
///   - weight, bias: `[C]` or nil.
///   - eps: added to the variance.
func layerNormChannels(_ x: Tensor, weight: Tensor?, bias: Tensor?, eps: Float = 1e-5) -> Tensor {
    precondition(VectorKernels.available, "layerNormChannels: needs the vector kernels")
    precondition(x.rank >= 2, "layerNormChannels: expected [N, C, ...], got \(x.shape)")
    let n = x.shape[0], c = x.shape[1], p = x.count / max(n * c, 1)
    if let weight { precondition(weight.shape == [c], "layerNormChannels: weight \(weight.shape) should be [\(c)]") }
    if let bias { precondition(bias.shape == [c], "layerNormChannels: bias \(bias.shape) should be [\(c)]") }
    let blocks = (p + 15) / 16
    let out = Tensor(uninitializedShape: x.shape)
    // Per position: mean at [n·p + pos], rstd at [n·p + pos + N·P].
    let stats = TensorStorage(uninitializedCount: 2 * n * p)
    let px = x.ptr, py = out.ptr, ps = stats.base, pw = weight?.ptr, pb = bias?.ptr, total = n * p
    Parallel.forRange(n * blocks, grain: max(1, elementwiseGrain / max(16 * c, 1))) { tasks in
        let scratch = TensorStorage(uninitializedCount: 16 * c)
        defer { withExtendedLifetime(scratch) {} }
        for task in tasks {
            let s = task / blocks, p0 = (task % blocks) * 16, off = s * c * p + p0
            VectorKernels.layerNormChannels(px + off, channels: c, ldc: p, n: min(16, p - p0), weight: pw, bias: pb, eps: eps,
                                            into: py + off, mean: ps + s * p + p0, rstd: ps + total + s * p + p0,
                                            scratch: scratch.base)
        }
    }
    var inputs = [x]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    guard Tensor.shouldRecord(inputs) else { return out }
    let dx = x.detached(), dw = weight?.detached()
    let needX = x.requiresGrad, needW = weight?.requiresGrad ?? false, needB = bias?.requiresGrad ?? false
    var cached: (g: Tensor, gx: Tensor?, gw: Tensor?, gb: Tensor?)? = nil
    let all: (Tensor) -> (Tensor?, Tensor?, Tensor?) = { g in
        if let cached, cached.g === g { return (cached.gx, cached.gw, cached.gb) }
        let gx = needX ? Tensor(uninitializedShape: dx.shape) : nil
        // Per chunk, per channel: 16-lane partial sums of the weight and bias gradients, added
        // in chunk order (the result does not depend on which thread ran a chunk).
        let chunks = min(n * blocks, 4 * Parallel.threadCount)
        let partials = (needW || needB) ? TensorStorage(zeroedCount: chunks * 2 * c * 16) : nil
        let pg = g.ptr, pxx = dx.ptr, pww = dw?.ptr, pgx = gx?.ptr
        Parallel.forEach(chunks) { chunk in
            let acc = partials.map { $0.base + chunk * 2 * c * 16 }
            let scratch = TensorStorage(uninitializedCount: 32 * c)
            defer { withExtendedLifetime(scratch) {} }
            for task in (n * blocks * chunk / chunks)..<(n * blocks * (chunk + 1) / chunks) {
                let s = task / blocks, p0 = (task % blocks) * 16, off = s * c * p + p0
                VectorKernels.layerNormChannelsBackward(pg + off, pxx + off, channels: c, ldc: p, n: min(16, p - p0),
                                                        weight: pww, mean: ps + s * p + p0, rstd: ps + total + s * p + p0,
                                                        gx: pgx.map { $0 + off }, gw: needW ? acc : nil,
                                                        gb: needB ? acc.map { $0 + c * 16 } : nil, scratch: scratch.base)
            }
        }
        withExtendedLifetime(stats) {}
        var gw: Tensor?, gb: Tensor?
        if let partials {
            let sums = laneTotals(partials.base, chunks: chunks, count: 2 * c)
            if needW { gw = Tensor(shape: [c], data: Array(sums[0..<c])) }
            if needB { gb = Tensor(shape: [c], data: Array(sums[c...])) }
        }
        cached = (g, gx, gw, gb)
        return (gx, gw, gb)
    }
    var pullbacks: [((Tensor) -> Tensor)?] = [needX ? { g in all(g).0! } : nil]
    if weight != nil { pullbacks.append(needW ? { g in all(g).1! } : nil) }
    if bias != nil { pullbacks.append(needB ? { g in all(g).2! } : nil) }
    out.record("layerNormChannels", inputs, pullbacks)
    return out
}

/// Multi-head attention over the frames of each clip at every spatial position, read in place
/// from a channel-major map of stacked projections:
///   out[b, i, h·d + c, pos] = Σ_j softmax_j(q_i·k_j / √d + bias[h, i, j]) v[b, j, h·d + c, pos],
/// with q, k, v the channel thirds of `qkv` and head h reading channels h·d..<(h+1)·d of each.
/// The same result as moving positions to rows (`[B·H·W, F, C]`), `MultiHeadAttention`'s
/// attention with the bias and moving back, without the moves.
/// - Parameters:
///   - qkv: `[B·F, 3C, H, W]` (frames of each clip consecutive).
///   - frames: F.
///   - heads: heads (C divisible by them).
///   - bias: `[heads, F, F]`, receives a gradient when it requires one.
/// - Returns: `[B·F, C, H, W]`.
func frameAttention(qkv: Tensor, frames: Int, heads: Int, bias: Tensor) -> Tensor {
    precondition(VectorKernels.available, "frameAttention: needs the vector kernels")
    precondition(qkv.rank == 4 && qkv.shape[1] % (3 * heads) == 0 && frames > 0 && qkv.shape[0] % frames == 0,
                 "frameAttention: expected [B·F, 3·heads·d, H, W] with F = \(frames) and \(heads) heads, got \(qkv.shape)")
    precondition(bias.shape == [heads, frames, frames], "frameAttention: bias \(bias.shape) should be [\(heads), \(frames), \(frames)]")
    let bf = qkv.shape[0], c = qkv.shape[1] / 3, p = qkv.shape[2] * qkv.shape[3]
    let b = bf / frames, d = c / heads, blocks = (p + 15) / 16
    let ldf = 3 * c * p, ldfo = c * p, sc = 1 / Float(d).squareRoot()
    let out = Tensor(uninitializedShape: [bf, c, qkv.shape[2], qkv.shape[3]])
    let recording = Tensor.shouldRecord([qkv, bias])
    // Softmax max and 1/sum per (clip, head, query frame, position), for the backward pass.
    let statCount = b * heads * frames * p
    let stats = TensorStorage(uninitializedCount: 2 * statCount)
    let pq = qkv.ptr, pb = bias.ptr, po = out.ptr, pst = stats.base
    // Task (clip bi, head h, 16 positions): where its q, its output and its statistics start.
    @inline(__always) func offsets(_ task: Int) -> (q: Int, o: Int, s: Int, h: Int, n: Int) {
        let bh = task / blocks, p0 = (task % blocks) * 16, bi = bh / heads, h = bh % heads
        return (bi * frames * ldf + h * d * p + p0, bi * frames * ldfo + h * d * p + p0, bh * frames * p + p0, h, min(16, p - p0))
    }
    let tasks = b * heads * blocks
    Parallel.forRange(tasks, grain: max(1, 64 / max(frames, 1))) { range in
        let scratch = TensorStorage(uninitializedCount: VectorKernels.frameAttentionScratch(frames: frames, d: d))
        for task in range {
            let at = offsets(task)
            VectorKernels.frameAttention(q: pq + at.q, k: pq + at.q + c * p, v: pq + at.q + 2 * c * p, ldf: ldf,
                                         out: po + at.o, ldfo: ldfo, ldc: p, frames: frames, d: d, n: at.n, scale: sc,
                                         bias: pb + at.h * frames * frames, max: pst + at.s, inverseSum: pst + statCount + at.s,
                                         ldl: p, scratch: scratch.base)
        }
        withExtendedLifetime(scratch) {}
    }
    guard recording else { return out }
    let dq = qkv.detached(), db = bias.detached(), dout = out.detached()
    let needQKV = qkv.requiresGrad, needBias = bias.requiresGrad
    var cached: (g: Tensor, gqkv: Tensor, gbias: Tensor?)? = nil
    let all: (Tensor) -> (Tensor, Tensor?) = { g in
        if let cached, cached.g === g { return (cached.gqkv, cached.gbias) }
        let gqkv = Tensor(uninitializedShape: dq.shape)
        let pqq = dq.ptr, pbb = db.ptr, poo = dout.ptr, pg = g.ptr, pgq = gqkv.ptr
        // Workers own whole tasks (every element of gqkv is written by one); the bias gradient
        // gathers per chunk in 16-lane sums, one set per head, added in chunk order at the end.
        let chunks = min(tasks, 4 * Parallel.threadCount), ff = frames * frames
        let partials = TensorStorage(zeroedCount: chunks * heads * ff * 16)
        Parallel.forEach(chunks) { chunk in
            let scratch = TensorStorage(uninitializedCount: VectorKernels.frameAttentionBackwardScratch(frames: frames, d: d))
            let acc = partials.base + chunk * heads * ff * 16
            for task in (tasks * chunk / chunks)..<(tasks * (chunk + 1) / chunks) {
                let at = offsets(task)
                VectorKernels.frameAttentionBackward(
                    q: pqq + at.q, k: pqq + at.q + c * p, v: pqq + at.q + 2 * c * p, ldf: ldf, o: poo + at.o, go: pg + at.o,
                    ldfo: ldfo, ldc: p, frames: frames, d: d, n: at.n, scale: sc, bias: pbb + at.h * ff,
                    max: pst + at.s, inverseSum: pst + statCount + at.s, ldl: p,
                    gq: pgq + at.q, gk: pgq + at.q + c * p, gv: pgq + at.q + 2 * c * p,
                    gbias: acc + at.h * ff * 16, scratch: scratch.base)
            }
            withExtendedLifetime(scratch) {}
        }
        withExtendedLifetime(stats) {}
        let gbias = needBias
            ? Tensor(shape: [heads, frames, frames], data: laneTotals(partials.base, chunks: chunks, count: heads * ff)) : nil
        cached = (g, gqkv, gbias)
        return (gqkv, gbias)
    }
    out.record("frameAttention", [qkv, bias], [
        needQKV ? { g in all(g).0 } : nil,
        needBias ? { g in all(g).1! } : nil,
    ])
    return out
}

/// The totals of per-chunk 16-lane partial sums: `chunks` blocks of `count` vectors of 16 floats
/// each, summed over the lanes and the chunks (in chunk order, so the result does not depend on
/// which thread ran a chunk).
private func laneTotals(_ partials: UnsafePointer<Float>, chunks: Int, count: Int) -> [Float] {
    var totals = [Float](repeating: 0, count: count)
    for chunk in 0..<chunks {
        let block = partials + chunk * count * 16
        for i in 0..<count {
            var s: Float = 0
            for l in 0..<16 { s += block[i * 16 + l] }
            totals[i] += s
        }
    }
    return totals
}
