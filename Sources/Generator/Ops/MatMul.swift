import Foundation

/// Runs `batch` GEMMs C_i = op(A_i)·op(B_i) (+ beta·C_i). A stride of 0 shares an operand
/// across the batch; `strideC == 0` accumulates every product into one C.
func gemmBatched(batch: Int, transA: Bool, transB: Bool, m: Int, n: Int, k: Int,
                 a: UnsafePointer<Float>, strideA: Int, b: UnsafePointer<Float>, strideB: Int,
                 c: UnsafeMutablePointer<Float>, strideC: Int, beta: Float = 0) {
    let lda = transA ? m : k, ldb = transB ? k : n
    for i in 0..<batch {
        let bt: Float = (strideC == 0 && i > 0) ? 1 : beta
        BLAS.sgemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a + i * strideA, lda: lda,
                   b: b + i * strideB, ldb: ldb, beta: bt, c: c + i * strideC, ldc: n)
    }
}

extension Tensor {
    /// Matrix product over the last two dimensions, with optional transposes of the operands'
    /// last two dims. Either operand may be 2-D (shared across the other's batch); otherwise
    /// their leading (batch) dimensions must be equal.
    /// - Returns: shape `batch + [M, N]`.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) -> Tensor {
        precondition(a.rank >= 2 && b.rank >= 2, "matmul: need rank ≥ 2 operands, got \(a.shape) and \(b.shape)")
        let m = transposeA ? a.shape[a.rank - 1] : a.shape[a.rank - 2]
        let ka = transposeA ? a.shape[a.rank - 2] : a.shape[a.rank - 1]
        let kb = transposeB ? b.shape[b.rank - 1] : b.shape[b.rank - 2]
        let n = transposeB ? b.shape[b.rank - 2] : b.shape[b.rank - 1]
        precondition(ka == kb, "matmul: inner dimensions differ: \(a.shape)\(transposeA ? "ᵀ" : "") × \(b.shape)\(transposeB ? "ᵀ" : "")")
        let k = ka
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        precondition(batchA.isEmpty || batchB.isEmpty || batchA == batchB,
                     "matmul: batch dimensions of \(a.shape) and \(b.shape) differ")
        let batchShape = batchA.isEmpty ? batchB : batchA
        let batch = batchShape.reduce(1, *)
        let sharedA = batchA.isEmpty && !batchB.isEmpty
        let sharedB = batchB.isEmpty
        // Fold a shared B into one tall GEMM when A's rows are contiguous.
        let fold = sharedB && !transposeA
        let gb = fold ? 1 : batch, gm = fold ? m * batch : m
        let sA = sharedA ? 0 : m * k, sB = sharedB ? 0 : k * n
        let out = Tensor(uninitializedShape: batchShape + [m, n])
        gemmBatched(batch: gb, transA: transposeA, transB: transposeB, m: gm, n: n, k: k,
                    a: a.ptr, strideA: fold ? 0 : sA, b: b.ptr, strideB: sB, c: out.ptr, strideC: gm * n)
        if shouldRecord(a, b) {
            let da = a.detached(), db = b.detached()
            let aShape = a.shape, bShape = b.shape
            out.record("matmul", [a, b], [
                a.requiresGrad ? { g in
                    let ga = Tensor(uninitializedShape: aShape)
                    if !transposeA {
                        // dA = dC · op(B)ᵀ
                        gemmBatched(batch: gb, transA: false, transB: !transposeB, m: gm, n: k, k: n,
                                    a: g.ptr, strideA: gm * n, b: db.ptr, strideB: sB, c: ga.ptr, strideC: sharedA ? 0 : gm * k)
                    } else {
                        // dA (k×m) = op(B) · dCᵀ
                        gemmBatched(batch: gb, transA: transposeB, transB: true, m: k, n: m, k: n,
                                    a: db.ptr, strideA: sB, b: g.ptr, strideB: m * n, c: ga.ptr, strideC: sharedA ? 0 : m * k)
                    }
                    return ga
                } : nil,
                b.requiresGrad ? { g in
                    let gbt = Tensor(uninitializedShape: bShape)
                    if !transposeB {
                        // dB (k×n) = op(A)ᵀ · dC
                        gemmBatched(batch: gb, transA: !transposeA, transB: false, m: k, n: n, k: gm,
                                    a: da.ptr, strideA: fold ? 0 : sA, b: g.ptr, strideB: gm * n, c: gbt.ptr, strideC: sharedB ? 0 : k * n)
                    } else {
                        // dB (n×k) = dCᵀ · op(A)
                        gemmBatched(batch: gb, transA: true, transB: transposeA, m: n, n: k, k: gm,
                                    a: g.ptr, strideA: gm * n, b: da.ptr, strideB: fold ? 0 : sA, c: gbt.ptr, strideC: sharedB ? 0 : n * k)
                    }
                    return gbt
                } : nil,
            ])
        }
        return out
    }
}

/// Affine map y = x·Wᵀ + b over the last dimension of `x`.
/// - Parameters:
///   - x: `[..., inFeatures]`.
///   - weight: `[outFeatures, inFeatures]` (PyTorch layout).
///   - bias: `[outFeatures]` or nil.
/// - Returns: `[..., outFeatures]`.
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(weight.rank == 2 && x.rank >= 1 && x.shape.last! == weight.shape[1],
                 "linear: input \(x.shape) does not match weight \(weight.shape) ([out, in])")
    let outF = weight.shape[0], inF = weight.shape[1]
    if let bias { precondition(bias.shape == [outF], "linear: bias \(bias.shape) should be [\(outF)]") }
    let rows = x.count / max(inF, 1)
    let out = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outF])
    let po = out.ptr
    if let bias {
        let pb = bias.ptr
        Parallel.forRange(rows, grain: max(1, elementwiseGrain / max(outF, 1))) { r in
            for i in r { (po + i * outF).update(from: pb, count: outF) }
        }
    }
    BLAS.sgemm(transA: false, transB: true, m: rows, n: outF, k: inF, a: x.ptr, lda: inF, b: weight.ptr, ldb: inF,
               beta: bias == nil ? 0 : 1, c: po, ldc: outF)
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    if Tensor.shouldRecord(inputs) {
        let dx = x.detached(), dw = weight.detached()
        let xShape = x.shape
        var pullbacks: [((Tensor) -> Tensor)?] = [
            x.requiresGrad ? { g in
                let gx = Tensor(uninitializedShape: xShape)
                BLAS.sgemm(transA: false, transB: false, m: rows, n: inF, k: outF, a: g.ptr, lda: outF, b: dw.ptr, ldb: inF,
                           c: gx.ptr, ldc: inF)
                return gx
            } : nil,
            weight.requiresGrad ? { g in
                let gw = Tensor(uninitializedShape: [outF, inF])
                BLAS.sgemm(transA: true, transB: false, m: outF, n: inF, k: rows, a: g.ptr, lda: outF, b: dx.ptr, ldb: inF,
                           c: gw.ptr, ldc: inF)
                return gw
            } : nil,
        ]
        if let bias {
            pullbacks.append(bias.requiresGrad ? { g in g.sumToShape([outF]) } : nil)
        }
        out.record("linear", inputs, pullbacks)
    }
    return out
}
