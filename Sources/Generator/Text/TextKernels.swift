import Dispatch
import Foundation

/// The few dense kernels the BERT forward pass needs, on row-major Float32 buffers: a linear
/// layer (x Wᵀ + b), LayerNorm, exact GELU and softmax attention. Inference only, no gradients.
/// The linear layer reads each weight row once for a block of four tokens, with SIMD16 dot
/// products, and splits the output features over the CPU cores.
enum TextKernels {
    /// y[n, m] = x[n, k] · w[m, k]ᵀ + b[m].
    static func linear(_ x: [Float], rows n: Int, inFeatures k: Int,
                       weight w: [Float], bias b: [Float], outFeatures m: Int) -> [Float] {
        precondition(x.count == n * k && w.count == m * k && b.count == m,
                     "linear: x \(x.count) vs [\(n), \(k)], weight \(w.count) vs [\(m), \(k)], bias \(b.count)")
        var y = [Float](repeating: 0, count: n * m)
        x.withUnsafeBufferPointer { xb in
            w.withUnsafeBufferPointer { wb in
                b.withUnsafeBufferPointer { bb in
                    y.withUnsafeMutableBufferPointer { yb in
                        let xp = xb.baseAddress!, wp = wb.baseAddress!, bp = bb.baseAddress!
                        let yp = yb.baseAddress!
                        // Split output features into chunks; one chunk per iteration.
                        let work = n * m * k
                        let chunks = work >= 1 << 20 ? min(8, max(1, m / 64)) : 1
                        let perChunk = (m + chunks - 1) / chunks
                        DispatchQueue.concurrentPerform(iterations: chunks) { c in
                            let lo = c * perChunk, hi = min(m, lo + perChunk)
                            if lo < hi {
                                linearRows(xp, n: n, k: k, w: wp, b: bp, m: m, outputs: lo..<hi, y: yp)
                            }
                        }
                    }
                }
            }
        }
        return y
    }

    /// The outputs `outputs` of `linear` for every token.
    private static func linearRows(_ x: UnsafePointer<Float>, n: Int, k: Int, w: UnsafePointer<Float>,
                                   b: UnsafePointer<Float>, m: Int, outputs: Range<Int>,
                                   y: UnsafeMutablePointer<Float>) {
        let k16 = k & ~15
        for o in outputs {
            let wr = w + o * k
            var t = 0
            while t + 4 <= n {
                let x0 = x + t * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k
                var a0 = SIMD16<Float>(), a1 = SIMD16<Float>(), a2 = SIMD16<Float>(), a3 = SIMD16<Float>()
                var c = 0
                while c < k16 {
                    let wv = load16(wr + c)
                    a0 += wv * load16(x0 + c)
                    a1 += wv * load16(x1 + c)
                    a2 += wv * load16(x2 + c)
                    a3 += wv * load16(x3 + c)
                    c += 16
                }
                var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
                while c < k {
                    let wv = wr[c]
                    s0 += wv * x0[c]; s1 += wv * x1[c]; s2 += wv * x2[c]; s3 += wv * x3[c]
                    c += 1
                }
                y[t * m + o] = s0 + b[o]
                y[(t + 1) * m + o] = s1 + b[o]
                y[(t + 2) * m + o] = s2 + b[o]
                y[(t + 3) * m + o] = s3 + b[o]
                t += 4
            }
            while t < n {
                y[t * m + o] = dot(wr, x + t * k, count: k) + b[o]
                t += 1
            }
        }
    }

    @inline(__always)
    static func load16(_ p: UnsafePointer<Float>) -> SIMD16<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
    }

    /// Σ a[i] b[i] for i < count.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        let k16 = count & ~15
        var acc = SIMD16<Float>()
        var c = 0
        while c < k16 {
            acc += load16(a + c) * load16(b + c)
            c += 16
        }
        var s = acc.sum()
        while c < count { s += a[c] * b[c]; c += 1 }
        return s
    }

    /// In place: each row of x[n, d] ← (row - mean) / sqrt(var + eps) · gamma + beta, with the
    /// biased variance (PyTorch's LayerNorm).
    static func layerNorm(_ x: inout [Float], rows n: Int, width d: Int, gamma: [Float], beta: [Float], eps: Float) {
        precondition(x.count == n * d && gamma.count == d && beta.count == d,
                     "layerNorm: x \(x.count) vs [\(n), \(d)], gamma \(gamma.count), beta \(beta.count)")
        x.withUnsafeMutableBufferPointer { xb in
            for r in 0..<n {
                let row = xb.baseAddress! + r * d
                var mean: Float = 0
                for i in 0..<d { mean += row[i] }
                mean /= Float(d)
                var variance: Float = 0
                for i in 0..<d { let c = row[i] - mean; variance += c * c }
                variance /= Float(d)
                let inv = 1 / (variance + eps).squareRoot()
                for i in 0..<d { row[i] = (row[i] - mean) * inv * gamma[i] + beta[i] }
            }
        }
    }

    /// In place: the exact GELU, x · Φ(x) = 0.5 x (1 + erf(x / √2)).
    static func gelu(_ x: inout [Float]) {
        let invSqrt2: Float = 0.70710678118654752
        for i in x.indices {
            let v = x[i]
            x[i] = 0.5 * v * (1 + erf(v * invSqrt2))
        }
    }

    /// In place: x += y.
    static func add(_ x: inout [Float], _ y: [Float]) {
        precondition(x.count == y.count, "add: \(x.count) vs \(y.count) values")
        for i in x.indices { x[i] += y[i] }
    }

    /// Multi-head self-attention over one sequence (every token attends to every token):
    /// q, k, v are [n, heads·headSize]; returns softmax(q kᵀ / √headSize) v, [n, heads·headSize].
    static func attention(q: [Float], k: [Float], v: [Float], tokens n: Int, heads: Int, headSize: Int) -> [Float] {
        let d = heads * headSize
        precondition(q.count == n * d && k.count == n * d && v.count == n * d,
                     "attention: q \(q.count), k \(k.count), v \(v.count) vs [\(n), \(d)]")
        let scale = 1 / Float(headSize).squareRoot()
        var out = [Float](repeating: 0, count: n * d)
        q.withUnsafeBufferPointer { qb in
            k.withUnsafeBufferPointer { kb in
                v.withUnsafeBufferPointer { vb in
                    out.withUnsafeMutableBufferPointer { ob in
                        let qp = qb.baseAddress!, kp = kb.baseAddress!, vp = vb.baseAddress!, op = ob.baseAddress!
                        DispatchQueue.concurrentPerform(iterations: n * heads >= 256 ? heads : 1) { chunk in
                            let headRange = n * heads >= 256 ? chunk..<(chunk + 1) : 0..<heads
                            var scores = [Float](repeating: 0, count: n)
                            for h in headRange {
                                let off = h * headSize
                                for i in 0..<n {
                                    let qi = qp + i * d + off
                                    var best = -Float.infinity
                                    for j in 0..<n {
                                        var s: Float = 0
                                        let kj = kp + j * d + off
                                        for c in 0..<headSize { s += qi[c] * kj[c] }
                                        s *= scale
                                        scores[j] = s
                                        best = max(best, s)
                                    }
                                    var total: Float = 0
                                    for j in 0..<n { let e = expf(scores[j] - best); scores[j] = e; total += e }
                                    let inv = 1 / total
                                    let oi = op + i * d + off
                                    for j in 0..<n {
                                        let p = scores[j] * inv
                                        let vj = vp + j * d + off
                                        for c in 0..<headSize { oi[c] += p * vj[c] }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return out
    }
}
