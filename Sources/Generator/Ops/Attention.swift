import Foundation

/// How an additive term ([..., Lq or 1, Lk or 1], right-aligned and broadcast over the
/// leading dims of the attention) maps onto a block of scores.
struct ScoreTerm {
    let base: UnsafeMutablePointer<Float>
    /// Element stride per flattened leading (batch·head) index, decomposed over `lead`.
    let leadDims: [Int]
    let leadStrides: [Int]
    let rowStride: Int
    let colStride: Int

    init?(_ t: Tensor?, lead: [Int], lq: Int, lk: Int, name: String) {
        guard let t else { return nil }
        let full = lead + [lq, lk]
        precondition(t.rank <= full.count && BroadcastPlan.broadcastShape(t.shape, full, op: "attention \(name)") == full,
                     "attention: \(name) \(t.shape) does not broadcast to scores \(full)")
        let s = BroadcastPlan.broadcastStrides(t.shape, to: full)
        base = t.ptr
        leadDims = lead
        leadStrides = Array(s.dropLast(2))
        rowStride = s[s.count - 2]
        colStride = s[s.count - 1]
    }

    /// The same layout over another buffer (a private gradient copy).
    init(base: UnsafeMutablePointer<Float>, like other: ScoreTerm) {
        self.base = base
        leadDims = other.leadDims
        leadStrides = other.leadStrides
        rowStride = other.rowStride
        colStride = other.colStride
    }

    @inline(__always)
    func offset(_ bh: Int) -> Int {
        var rem = bh, off = 0
        var i = leadDims.count - 1
        while i >= 0 {
            let q = rem / leadDims[i]
            off += (rem - q * leadDims[i]) * leadStrides[i]
            rem = q
            i -= 1
        }
        return off
    }

    /// The term of sequence `bh` from query `q0` on, as the vector attention kernels take it:
    /// (start, row stride, column stride).
    @inline(__always)
    func kernelBlock(_ bh: Int, q0: Int = 0) -> (UnsafePointer<Float>, Int, Int) {
        (UnsafePointer(base + offset(bh) + q0 * rowStride), rowStride, colStride)
    }

    /// Adds rows `rows` (absolute query indices) of this term into the score block `s`
    /// (row `r` of the block is query `q0 + r`).
    @inline(__always)
    func add(to s: UnsafeMutablePointer<Float>, bh: Int, q0: Int, rows: Range<Int>, lk: Int) {
        let b = base + offset(bh)
        for r in rows {
            let src = b + (q0 + r) * rowStride, dst = s + r * lk
            if colStride == 1 {
                for j in 0..<lk { dst[j] += src[j] }
            } else {
                let v = src[0]
                for j in 0..<lk { dst[j] += v }
            }
        }
    }
}

/// C (m×n, row stride ldc) = alpha·op(A)·B, plus C when `accumulate`; B is k×n row-major (row
/// stride ldb); op(A) is A (m×k, stride lda) or Aᵀ (A stored k×m). Plain loops whose inner loop
/// runs along contiguous rows of B and C: for the tiny products of short sequences (temporal
/// attention over 16 frames) this beats a BLAS call, whose fixed cost dominates there.
@inline(__always)
func smallGemm(transA: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
               b: UnsafePointer<Float>, ldb: Int, accumulate: Bool, c: UnsafeMutablePointer<Float>, ldc: Int) {
    for i in 0..<m {
        let cr = c + i * ldc
        if !accumulate { for j in 0..<n { cr[j] = 0 } }
        for p in 0..<k {
            let av = alpha * (transA ? a[p * lda + i] : a[i * lda + p])
            let br = b + p * ldb
            for j in 0..<n { cr[j] += av * br[j] }
        }
    }
}

/// Writes the transpose of a rows×cols row-major matrix into `dst` (cols×rows).
@inline(__always)
func transpose(_ src: UnsafePointer<Float>, rows: Int, cols: Int, into dst: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
        let s = src + r * cols
        for c in 0..<cols { dst[c * rows + r] = s[c] }
    }
}

/// Multi-head attention straight from the projections, without splitting the heads into their
/// own layout: `query` `[B, Lq, heads·D]`, `key` `[B, Lk, heads·D]`, `value` `[B, Lk, heads·Dv]`,
/// head h reading columns h·D..<(h+1)·D; returns `[B, Lq, heads·Dv]` (heads merged). The same
/// result as permuting to `[B, heads, L, D]`, calling `scaledDotProductAttention` and permuting
/// back, without the four copies (and the four more of its backward pass). `bias`/`mask`
/// broadcast to `[B, heads, Lq, Lk]`; the bias receives a gradient when it requires one, the
/// mask never does.
///
/// Only for short key sequences on CPUs with AVX-512 or AVX2 (the lane-parallel kernels); nil when it
/// does not apply (long sequences, no vector kernels), and the caller takes the general path.
func interleavedHeadsAttention(query: Tensor, key: Tensor, value: Tensor, heads: Int,
                               bias: Tensor? = nil, mask: Tensor? = nil) -> Tensor? {
    precondition(query.rank == 3 && key.rank == 3 && value.rank == 3 && heads > 0,
                 "attention: expected [B, L, heads·D] projections, got \(query.shape), \(key.shape), \(value.shape)")
    let b = query.shape[0], lq = query.shape[1], lk = key.shape[1]
    let dim = query.shape[2], dimV = value.shape[2]
    precondition(key.shape[0] == b && value.shape[0] == b && value.shape[1] == lk && key.shape[2] == dim
                 && dim % heads == 0 && dimV % heads == 0,
                 "attention: query \(query.shape), key \(key.shape), value \(value.shape) do not match \(heads) heads")
    let d = dim / heads, dv = dimV / heads
    guard VectorKernels.available, lk <= 64, d <= 128, dv <= 128 else { return nil }
    var inputs = [query, key, value]
    if let bias { inputs.append(bias) }
    let recording = Tensor.shouldRecord(inputs)
    let lead = [b, heads], sequences = b * heads
    let biasTerm = ScoreTerm(bias, lead: lead, lq: lq, lk: lk, name: "bias")
    let maskTerm = ScoreTerm(mask, lead: lead, lq: lq, lk: lk, name: "mask")
    let out = Tensor(uninitializedShape: [b, lq, heads * dv])
    let lse = recording ? TensorStorage(uninitializedCount: sequences * lq) : nil
    let pq = query.ptr, pk = key.ptr, pv = value.ptr, po = out.ptr, pl = lse?.base
    let sc = 1 / Float(d).squareRoot()
    let grain = max(1, 4096 / max(lq * lk, 1))
    // Sequence `task` = (batch bi, head h): where its rows start in each layout.
    @inline(__always) func offsets(_ task: Int) -> (q: Int, k: Int, v: Int, o: Int) {
        let bi = task / heads, h = task % heads
        return (bi * lq * dim + h * d, bi * lk * dim + h * d, bi * lk * dimV + h * dv, bi * lq * heads * dv + h * dv)
    }
    Parallel.forRange(sequences, grain: grain) { tasks in
        let scratch = TensorStorage(uninitializedCount: VectorKernels.attentionSmallScratch(d: d, lk: lk, dv: dv))
        for task in tasks {
            let at = offsets(task)
            _ = VectorKernels.attentionSmall(q: pq + at.q, ldq: dim, k: pk + at.k, ldk: dim, v: pv + at.v, ldv: dimV,
                                             lq: lq, lk: lk, d: d, dv: dv, scale: sc, bias: biasTerm?.kernelBlock(task),
                                             mask: maskTerm?.kernelBlock(task),
                                             causalFirst: nil, out: po + at.o, ldo: heads * dv, lse: pl.map { $0 + task * lq },
                                             scratch: scratch.base)
        }
        withExtendedLifetime(scratch) {}
    }
    guard recording, let lse else { return out }
    let q = query.detached(), k = key.detached(), v = value.detached(), o = out.detached()
    let biasD = bias?.detached(), maskD = mask?.detached()
    let needBias = bias?.requiresGrad ?? false
    var cached: (g: Tensor, grads: [Tensor?])? = nil
    let all: (Tensor) -> [Tensor?] = { g in
        if let cached, cached.g === g { return cached.grads }
        let gq = Tensor(uninitializedShape: q.shape), gk = Tensor.zeros(k.shape), gv = Tensor.zeros(v.shape)
        let gb = needBias ? Tensor.zeros(biasD!.shape) : nil
        let bT = ScoreTerm(biasD, lead: lead, lq: lq, lk: lk, name: "bias")
        let mT = ScoreTerm(maskD, lead: lead, lq: lq, lk: lk, name: "mask")
        let gbLayout = ScoreTerm(gb, lead: lead, lq: lq, lk: lk, name: "bias")
        let pqq = q.ptr, pkk = k.ptr, pvv = v.ptr, poo = o.ptr, pg = g.ptr, pll = lse.base
        let pgq = gq.ptr, pgk = gk.ptr, pgv = gv.ptr
        // Workers own whole sequences; the bias (shared across the batch) gets a private
        // gradient per worker, summed at the end.
        let chunks = min(sequences, 4 * Parallel.threadCount)
        let biasCount = gb?.count ?? 0
        let partials = gb != nil ? TensorStorage(zeroedCount: chunks * biasCount) : nil
        Parallel.forEach(chunks) { chunk in
            let scratch = TensorStorage(uninitializedCount: VectorKernels.attentionSmallBackwardScratch(d: d, lk: lk, dv: dv))
            for task in (sequences * chunk / chunks)..<(sequences * (chunk + 1) / chunks) {
                let at = offsets(task)
                let gbias = partials.flatMap { part in gbLayout.map { part.base + chunk * biasCount + $0.offset(task) } }
                _ = VectorKernels.attentionSmallBackward(
                    q: pqq + at.q, ldq: dim, k: pkk + at.k, ldk: dim, v: pvv + at.v, ldv: dimV,
                    o: poo + at.o, go: pg + at.o, ldo: heads * dv, lse: pll + task * lq, lq: lq, lk: lk, d: d, dv: dv,
                    scale: sc, bias: bT?.kernelBlock(task), mask: mT?.kernelBlock(task), causalFirst: nil,
                    gq: pgq + at.q, gk: pgk + at.k, gv: pgv + at.v, gbias: gbias, scratch: scratch.base)
            }
            withExtendedLifetime(scratch) {}
        }
        if let partials, let gb {
            let dst = gb.ptr, src = partials.base
            for c in 0..<chunks {
                let part = src + c * biasCount
                for i in 0..<biasCount { dst[i] += part[i] }
            }
        }
        let grads: [Tensor?] = [gq, gk, gv, gb]
        cached = (g, grads)
        return grads
    }
    var pullbacks: [((Tensor) -> Tensor)?] = [
        query.requiresGrad ? { all($0)[0]! } : nil,
        key.requiresGrad ? { all($0)[1]! } : nil,
        value.requiresGrad ? { all($0)[2]! } : nil,
    ]
    if bias != nil { pullbacks.append(needBias ? { all($0)[3]! } : nil) }
    out.record("attention", inputs, pullbacks)
    return out
}

/// Scaled dot-product attention softmax(Q·Kᵀ·scale + bias + mask)·V, computed in blocks of
/// query rows so the full Lq×Lk score matrix is never held: memory grows with Lq + Lk, not
/// their product, in both inference and training (backward recomputes the scores per block
/// from the saved row log-sum-exps, as FlashAttention does).
/// - Parameters:
///   - query: `[..., Lq, D]`.
///   - key: `[..., Lk, D]` (same leading dims).
///   - value: `[..., Lk, Dv]`.
///   - bias: additive term broadcastable to `[..., Lq, Lk]` (e.g. a learned relative
///     position bias `[H, Lq, Lk]`); receives a gradient when it requires one.
///   - mask: additive mask broadcastable to `[..., Lq, Lk]` holding 0 (keep) or −∞ (drop),
///     e.g. from `attentionMask(keep:)`; never differentiated.
///   - causal: also drop keys j > i.
///   - scale: multiplier of Q·Kᵀ; default 1/√D.
/// - Returns: `[..., Lq, Dv]`. Query rows with every key dropped give zeros.
public func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, bias: Tensor? = nil,
                                      mask: Tensor? = nil, causal: Bool = false, scale: Float? = nil) -> Tensor {
    precondition(query.rank >= 2 && key.rank == query.rank && value.rank == query.rank,
                 "attention: query \(query.shape), key \(key.shape), value \(value.shape) need equal rank ≥ 2")
    let lead = Array(query.shape.dropLast(2))
    precondition(Array(key.shape.dropLast(2)) == lead && Array(value.shape.dropLast(2)) == lead,
                 "attention: leading dims of query \(query.shape), key \(key.shape), value \(value.shape) differ")
    let lq = query.shape[query.rank - 2], d = query.shape.last!
    let lk = key.shape[key.rank - 2], dv = value.shape.last!
    precondition(key.shape.last! == d && value.shape[value.rank - 2] == lk,
                 "attention: key \(key.shape) / value \(value.shape) do not match query \(query.shape)")
    let bh = lead.reduce(1, *)
    let sc = scale ?? 1 / Float(d).squareRoot()
    let biasTerm = ScoreTerm(bias, lead: lead, lq: lq, lk: lk, name: "bias")
    let maskTerm = ScoreTerm(mask, lead: lead, lq: lq, lk: lk, name: "mask")
    let out = Tensor(uninitializedShape: lead + [lq, dv])
    let lse = TensorStorage(uninitializedCount: bh * lq)
    // Query block: about 256K scores (1 MiB) per block.
    let bq = max(1, min(lq, 262_144 / max(lk, 1)))
    let blocks = (lq + bq - 1) / bq
    let pq = query.ptr, pk = key.ptr, pv = value.ptr, po = out.ptr, pl = lse.base
    // Every (sequence, query block) pair is an independent task; workers take chunks of tasks
    // and run GEMMs and softmax serially with their own score buffer.
    // Short key sequences use plain loops instead of BLAS calls (see `smallGemm`).
    let small = lk <= 64 && d <= 128 && dv <= 128
    // The row log-sum-exps are only needed by the backward pass.
    let keepLSE = Tensor.shouldRecord([query, key, value] + (bias.map { [$0] } ?? []))
    Parallel.forRange(bh * blocks, grain: 1) { tasks in
        if small && VectorKernels.available {
            // Lane-parallel kernel: 16 queries per vector, softmax over keys without reductions.
            let scratch = TensorStorage(uninitializedCount: VectorKernels.attentionSmallScratch(d: d, lk: lk, dv: dv))
            for task in tasks {
                let b = task / blocks, q0 = (task % blocks) * bq
                _ = VectorKernels.attentionSmall(q: pq + (b * lq + q0) * d, ldq: d, k: pk + b * lk * d, ldk: d,
                                                 v: pv + b * lk * dv, ldv: dv, lq: min(bq, lq - q0), lk: lk, d: d, dv: dv,
                                                 scale: sc, bias: biasTerm?.kernelBlock(b, q0: q0),
                                                 mask: maskTerm?.kernelBlock(b, q0: q0), causalFirst: causal ? q0 : nil,
                                                 out: po + (b * lq + q0) * dv, ldo: dv, lse: keepLSE ? pl + b * lq + q0 : nil,
                                                 scratch: scratch.base)
            }
            withExtendedLifetime(scratch) {}
            return
        }
        let scores = TensorStorage(uninitializedCount: bq * lk + bq + (small ? d * lk : 0))
        let ps = scores.base, pinv = scores.base + bq * lk, pkt = pinv + bq
        var transposed = -1
        for task in tasks {
            let b = task / blocks, q0 = (task % blocks) * bq
            let rows = min(bq, lq - q0)
            if small {
                if transposed != b {
                    transpose(pk + b * lk * d, rows: lk, cols: d, into: pkt)
                    transposed = b
                }
                smallGemm(transA: false, m: rows, n: lk, k: d, alpha: sc, a: pq + (b * lq + q0) * d, lda: d,
                          b: pkt, ldb: lk, accumulate: false, c: ps, ldc: lk)
            } else {
                BLAS.sgemmSerial(transA: false, transB: true, m: rows, n: lk, k: d, alpha: sc, a: pq + (b * lq + q0) * d, lda: d,
                                 b: pk + b * lk * d, ldb: d, c: ps, ldc: lk)
            }
            biasTerm?.add(to: ps, bh: b, q0: q0, rows: 0..<rows, lk: lk)
            maskTerm?.add(to: ps, bh: b, q0: q0, rows: 0..<rows, lk: lk)
            // Unnormalised e^(s − max) per row; the 1/Σ goes onto the (narrower) output rows.
            for i in 0..<rows {
                let row = ps + i * lk
                if causal {
                    let first = q0 + i + 1
                    if first < lk { (row + first).update(repeating: -Float.infinity, count: lk - first) }
                }
                let m = FastMath.max(row, lk)
                if m == -Float.infinity {
                    row.update(repeating: 0, count: lk)
                    pl[b * lq + q0 + i] = .infinity
                    pinv[i] = 0
                    continue
                }
                let sum = FastMath.expShift(row, lk, shift: m)
                pl[b * lq + q0 + i] = m + Foundation.log(sum)
                pinv[i] = 1 / sum
            }
            let ob = po + (b * lq + q0) * dv
            if small {
                smallGemm(transA: false, m: rows, n: dv, k: lk, alpha: 1, a: ps, lda: lk, b: pv + b * lk * dv, ldb: dv,
                          accumulate: false, c: ob, ldc: dv)
            } else {
                BLAS.sgemmSerial(transA: false, transB: false, m: rows, n: dv, k: lk, a: ps, lda: lk, b: pv + b * lk * dv, ldb: dv,
                                 c: ob, ldc: dv)
            }
            for i in 0..<rows {
                let inv = pinv[i], o = ob + i * dv
                for t in 0..<dv { o[t] *= inv }
            }
        }
        withExtendedLifetime(scores) {}
    }
    var inputs = [query, key, value]
    if let bias { inputs.append(bias) }
    if Tensor.shouldRecord(inputs) {
        let q = query.detached(), k = key.detached(), v = value.detached(), o = out.detached()
        let lseT = Tensor(shape: [bh * lq], storage: lse)
        let biasShape = bias?.shape, biasD = bias?.detached(), maskD = mask?.detached()
        let needBias = bias?.requiresGrad ?? false
        var cached: (g: Tensor, grads: [Tensor?])? = nil
        let all: (Tensor) -> [Tensor?] = { g in
            if let cached, cached.g === g { return cached.grads }
            let gq = Tensor(uninitializedShape: q.shape), gk = Tensor.zeros(k.shape), gv = Tensor.zeros(v.shape)
            let gb = needBias ? Tensor.zeros(biasShape!) : nil
            let bT = ScoreTerm(biasD, lead: lead, lq: lq, lk: lk, name: "bias")
            let mT = ScoreTerm(maskD, lead: lead, lq: lq, lk: lk, name: "mask")
            let pqq = q.ptr, pkk = k.ptr, pvv = v.ptr, poo = o.ptr, pg = g.ptr, pll = lseT.ptr
            // Workers own whole sequences (dK, dV of a sequence are sums over its query blocks);
            // each has private score buffers and, when the bias needs a gradient, a private
            // bias-gradient buffer summed at the end (the bias is shared across sequences).
            let chunks = min(bh, 4 * Parallel.threadCount)
            let biasCount = gb?.count ?? 0
            let biasPartials = gb != nil ? TensorStorage(zeroedCount: chunks * biasCount) : nil
            Parallel.forEach(chunks) { chunk in
                let p = TensorStorage(uninitializedCount: bq * lk), dp = TensorStorage(uninitializedCount: bq * lk)
                let kvT = TensorStorage(uninitializedCount: small ? (d + dv) * lk : 0)
                let pkt = kvT.base, pvt = kvT.base + d * lk
                let gbT: ScoreTerm? = biasPartials.map { part in
                    ScoreTerm(base: part.base + chunk * biasCount, like: ScoreTerm(gb, lead: lead, lq: lq, lk: lk, name: "bias")!)
                }
                let pp = p.base, pdp = dp.base
                for b in (bh * chunk / chunks)..<(bh * (chunk + 1) / chunks) {
                    if small {
                        transpose(pkk + b * lk * d, rows: lk, cols: d, into: pkt)
                        transpose(pvv + b * lk * dv, rows: lk, cols: dv, into: pvt)
                    }
                    var q0 = 0
                    while q0 < lq {
                        let rows = min(bq, lq - q0)
                        let qb = pqq + (b * lq + q0) * d, gob = pg + (b * lq + q0) * dv
                        // P from the saved log-sum-exp; dP = dO · Vᵀ.
                        if small {
                            smallGemm(transA: false, m: rows, n: lk, k: d, alpha: sc, a: qb, lda: d, b: pkt, ldb: lk,
                                      accumulate: false, c: pp, ldc: lk)
                            smallGemm(transA: false, m: rows, n: lk, k: dv, alpha: 1, a: gob, lda: dv, b: pvt, ldb: lk,
                                      accumulate: false, c: pdp, ldc: lk)
                        } else {
                            BLAS.sgemmSerial(transA: false, transB: true, m: rows, n: lk, k: d, alpha: sc, a: qb, lda: d,
                                             b: pkk + b * lk * d, ldb: d, c: pp, ldc: lk)
                            BLAS.sgemmSerial(transA: false, transB: true, m: rows, n: lk, k: dv, a: gob, lda: dv,
                                             b: pvv + b * lk * dv, ldb: dv, c: pdp, ldc: lk)
                        }
                        bT?.add(to: pp, bh: b, q0: q0, rows: 0..<rows, lk: lk)
                        mT?.add(to: pp, bh: b, q0: q0, rows: 0..<rows, lk: lk)
                        for i in 0..<rows {
                            let row = pp + i * lk, drow = pdp + i * lk
                            let l = pll[b * lq + q0 + i]
                            let lim = causal ? min(lk, q0 + i + 1) : lk
                            if l == Float.infinity {
                                row.update(repeating: 0, count: lk)
                            } else {
                                FastMath.expShift(row, lim, shift: l)
                                for j in lim..<lk { row[j] = 0 }
                            }
                            // D_i = dO_i · O_i; dS = P ∘ (dP − D_i), stored over dP.
                            let dot = FastMath.dot(gob + i * dv, poo + (b * lq + q0 + i) * dv, dv)
                            for j in 0..<lk { drow[j] = row[j] * (drow[j] - dot) }
                        }
                        if let gbT {
                            let dst = gbT.base + gbT.offset(b)
                            for i in 0..<rows {
                                let drow = pdp + i * lk, brow = dst + (q0 + i) * gbT.rowStride
                                if gbT.colStride == 1 {
                                    for j in 0..<lk { brow[j] += drow[j] }
                                } else {
                                    brow[0] += FastMath.sum(drow, lk)
                                }
                            }
                        }
                        // dV += Pᵀ · dO;  dQ = scale · dS · K;  dK += scale · dSᵀ · Q
                        if small {
                            smallGemm(transA: true, m: lk, n: dv, k: rows, alpha: 1, a: pp, lda: lk, b: gob, ldb: dv,
                                      accumulate: true, c: gv.ptr + b * lk * dv, ldc: dv)
                            smallGemm(transA: false, m: rows, n: d, k: lk, alpha: sc, a: pdp, lda: lk, b: pkk + b * lk * d, ldb: d,
                                      accumulate: false, c: gq.ptr + (b * lq + q0) * d, ldc: d)
                            smallGemm(transA: true, m: lk, n: d, k: rows, alpha: sc, a: pdp, lda: lk, b: qb, ldb: d,
                                      accumulate: true, c: gk.ptr + b * lk * d, ldc: d)
                        } else {
                            BLAS.sgemmSerial(transA: true, transB: false, m: lk, n: dv, k: rows, a: pp, lda: lk, b: gob, ldb: dv,
                                             beta: 1, c: gv.ptr + b * lk * dv, ldc: dv)
                            BLAS.sgemmSerial(transA: false, transB: false, m: rows, n: d, k: lk, alpha: sc, a: pdp, lda: lk,
                                             b: pkk + b * lk * d, ldb: d, c: gq.ptr + (b * lq + q0) * d, ldc: d)
                            BLAS.sgemmSerial(transA: true, transB: false, m: lk, n: d, k: rows, alpha: sc, a: pdp, lda: lk, b: qb, ldb: d,
                                             beta: 1, c: gk.ptr + b * lk * d, ldc: d)
                        }
                        q0 += rows
                    }
                }
                withExtendedLifetime((p, dp, kvT)) {}
            }
            if let gb, let biasPartials {
                let dst = gb.ptr
                for c in 0..<chunks {
                    let src = biasPartials.base + c * biasCount
                    for i in 0..<biasCount { dst[i] += src[i] }
                }
            }
            let grads: [Tensor?] = [gq, gk, gv, gb]
            cached = (g, grads)
            return grads
        }
        var pullbacks: [((Tensor) -> Tensor)?] = [
            query.requiresGrad ? { g in all(g)[0]! } : nil,
            key.requiresGrad ? { g in all(g)[1]! } : nil,
            value.requiresGrad ? { g in all(g)[2]! } : nil,
        ]
        if bias != nil { pullbacks.append(needBias ? { g in all(g)[3]! } : nil) }
        out.record("attention", inputs, pullbacks)
    }
    return out
}

/// Builds an additive attention mask `[B, 1, 1, Lk]` from per-sequence key flags
/// (true = attend, false = padding): 0 where kept, −∞ where dropped. Broadcasts over heads
/// and query positions of `[B, H, Lq, Lk]` scores.
public func attentionMask(keep: [[Bool]]) -> Tensor {
    let b = keep.count, lk = keep.first?.count ?? 0
    precondition(keep.allSatisfy { $0.count == lk }, "attentionMask: rows of unequal length")
    var data = [Float](repeating: 0, count: b * lk)
    for i in 0..<b { for j in 0..<lk where !keep[i][j] { data[i * lk + j] = -Float.infinity } }
    return Tensor(shape: [b, 1, 1, lk], data: data)
}
