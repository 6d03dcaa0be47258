import Foundation

/// Iteration plan for an element-wise op over two broadcast operands: the output shape and
/// the coalesced dimensions with each operand's element strides (0 along broadcast dims).
struct BroadcastPlan {
    /// Shape of the result.
    let outShape: [Int]
    /// Coalesced dimension sizes, outermost first (at least one).
    let dims: [Int]
    /// Strides of operand a over `dims`.
    let stridesA: [Int]
    /// Strides of operand b over `dims`.
    let stridesB: [Int]

    /// The broadcast shape of `a` and `b` (NumPy rules), or a precondition failure naming them.
    static func broadcastShape(_ a: [Int], _ b: [Int], op: String) -> [Int] {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            precondition(da == db || da == 1 || db == 1, "\(op): shapes \(a) and \(b) cannot be broadcast together")
            out[i] = da == 1 ? db : da
        }
        return out
    }

    /// Strides of a contiguous tensor of `shape` seen through broadcast shape `out`.
    static func broadcastStrides(_ shape: [Int], to out: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: out.count)
        var s = 1
        for i in stride(from: out.count - 1, through: 0, by: -1) {
            let j = i - (out.count - shape.count)
            if j >= 0 {
                strides[i] = shape[j] == 1 ? 0 : s
                s *= shape[j]
            }
        }
        return strides
    }

    init(_ a: [Int], _ b: [Int], op: String) {
        let out = BroadcastPlan.broadcastShape(a, b, op: op)
        self.init(out: out, stridesA: BroadcastPlan.broadcastStrides(a, to: out), stridesB: BroadcastPlan.broadcastStrides(b, to: out))
    }

    /// Builds the plan from the output shape and full-rank operand strides, dropping size-1
    /// dims and merging neighbours that are contiguous for both operands.
    init(out: [Int], stridesA sa: [Int], stridesB sb: [Int]) {
        outShape = out
        var d: [Int] = [], a: [Int] = [], b: [Int] = []
        for i in 0..<out.count where out[i] != 1 {
            if let last = d.last, a.last! == sa[i] * out[i], b.last! == sb[i] * out[i] {
                d[d.count - 1] = last * out[i]
                a[a.count - 1] = sa[i]
                b[b.count - 1] = sb[i]
            } else {
                d.append(out[i]); a.append(sa[i]); b.append(sb[i])
            }
        }
        if d.isEmpty { d = [1]; a = [0]; b = [0] }
        dims = d; stridesA = a; stridesB = b
    }

    /// Number of inner rows (product of all but the last coalesced dim).
    var rows: Int { dims.dropLast().reduce(1, *) }
    /// Length of the innermost coalesced dim.
    var inner: Int { dims.last! }

    /// Element offsets of operands a and b at the start of row `r`.
    @inline(__always)
    func rowOffsets(_ r: Int) -> (Int, Int) {
        var rem = r, oa = 0, ob = 0
        var i = dims.count - 2
        while i >= 0 {
            let d = dims[i]
            let q = rem / d
            let idx = rem - q * d
            oa += idx * stridesA[i]
            ob += idx * stridesB[i]
            rem = q
            i -= 1
        }
        return (oa, ob)
    }
}

extension Tensor {
    /// Sums this tensor over the dimensions that broadcasting expanded, giving a tensor of
    /// `shape` (which must broadcast to `self.shape`). The one helper every broadcasting op's
    /// backward uses.
    func sumToShape(_ target: [Int]) -> Tensor {
        if target == shape { return self }
        let tcount = Tensor.elementCount(target)
        if tcount == count { return Tensor(shape: target, storage: storage) }
        // Plan over self's shape: operand a = the target (strides 0 on reduced dims), b = self.
        let out = shape
        precondition(BroadcastPlan.broadcastShape(target, out, op: "sumToShape") == out,
                     "sumToShape: \(target) does not broadcast to \(out)")
        let plan = BroadcastPlan(out: out, stridesA: BroadcastPlan.broadcastStrides(target, to: out),
                                 stridesB: BroadcastPlan.broadcastStrides(out, to: out))
        let result = Tensor.zeros(target)
        let rows = plan.rows, inner = plan.inner
        let innerA = plan.stridesA.last!
        let src = ptr
        let chunks = min(Parallel.threadCount, max(1, count / 65536))
        let partials = chunks > 1 ? TensorStorage(zeroedCount: tcount * chunks) : nil
        let run = { (c: Int, dst: UnsafeMutablePointer<Float>) in
            let lo = rows * c / chunks, hi = rows * (c + 1) / chunks
            for r in lo..<hi {
                let (oa, ob) = plan.rowOffsets(r)
                let s = src + ob
                if innerA == 0 {
                    // 16 independent lanes: a single running sum is bound by the add latency.
                    dst[oa] += FastMath.sum(s, inner)
                } else {
                    let d = dst + oa
                    for j in 0..<inner { d[j] += s[j] }
                }
            }
        }
        if let partials {
            Parallel.forEach(chunks) { c in run(c, partials.base + c * tcount) }
            let dst = result.ptr
            for c in 0..<chunks {
                let p = partials.base + c * tcount
                for i in 0..<tcount { dst[i] += p[i] }
            }
        } else {
            run(0, result.ptr)
        }
        return result
    }
}
