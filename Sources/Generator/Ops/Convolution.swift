import Foundation

/// Geometry of a 2-D convolution over one NCHW image.
struct ConvGeometry {
    let cin: Int, h: Int, w: Int
    let kh: Int, kw: Int
    let stride: Int, padding: Int
    let hout: Int, wout: Int

    init(cin: Int, h: Int, w: Int, kh: Int, kw: Int, stride: Int, padding: Int) {
        self.cin = cin; self.h = h; self.w = w; self.kh = kh; self.kw = kw
        self.stride = stride; self.padding = padding
        hout = (h + 2 * padding - kh) / stride + 1
        wout = (w + 2 * padding - kw) / stride + 1
    }

    /// Rows of the column matrix (Cin·kh·kw).
    var k: Int { cin * kh * kw }
    /// Columns of the column matrix (Hout·Wout).
    var n: Int { hout * wout }
    /// Output rows per column tile, so one tile of the column matrix (k × rows·Wout) stays
    /// near 1 MiB and in cache between im2col and the GEMM that reads it.
    var tileRows: Int { max(1, min(hout, (262_144 / max(k, 1)) / max(wout, 1))) }

    /// Fills `col` ([k, outRows.count·Wout]) with the patches of output rows `outRows` of image
    /// `x` ([cin, h, w]); parallel over the k rows when `parallel`.
    func im2col(_ x: UnsafePointer<Float>, _ col: UnsafeMutablePointer<Float>, outRows: Range<Int>, parallel: Bool) {
        let wout = wout, n = outRows.count * wout, h = h, w = w, kh = kh, kw = kw, s = stride, p = padding
        let oy0 = outRows.lowerBound
        let body = { (rows: Range<Int>) in
            for row in rows {
                let c = row / (kh * kw), ky = (row / kw) % kh, kx = row % kw
                let src = x + c * h * w
                let dst = col + row * n
                // Output columns whose input column is inside the image.
                let oxLo = max(0, (p - kx + s - 1) / s)
                let oxHi = min(wout, (w - 1 + p - kx) / s + 1)
                for oy in outRows {
                    let iy = oy * s - p + ky
                    let d = dst + (oy - oy0) * wout
                    if iy < 0 || iy >= h || oxLo >= oxHi {
                        for ox in 0..<wout { d[ox] = 0 }
                        continue
                    }
                    let srow = src + iy * w
                    for ox in 0..<oxLo { d[ox] = 0 }
                    if s == 1 {
                        // Inline copy: rows are short, a memcpy call per row costs more.
                        let sp = srow + (kx - p)
                        for ox in oxLo..<oxHi { d[ox] = sp[ox] }
                    } else {
                        for ox in oxLo..<oxHi { d[ox] = srow[ox * s - p + kx] }
                    }
                    for ox in oxHi..<wout { d[ox] = 0 }
                }
            }
        }
        if parallel { Parallel.forRange(k, grain: max(1, 8192 / max(n, 1)), body) } else { body(0..<k) }
    }

    /// Adds column tile `col` ([k, outRows.count·Wout]) back into image gradient `dx`
    /// ([cin, h, w]); parallel over channels when `parallel` (no two threads write one element).
    func col2im(_ col: UnsafePointer<Float>, _ dx: UnsafeMutablePointer<Float>, outRows: Range<Int>, parallel: Bool) {
        let wout = wout, n = outRows.count * wout, h = h, w = w, kh = kh, kw = kw, s = stride, p = padding
        let oy0 = outRows.lowerBound
        let body = { (channels: Range<Int>) in
            for c in channels {
                let dst = dx + c * h * w
                for ky in 0..<kh {
                    for kx in 0..<kw {
                        let src = col + ((c * kh + ky) * kw + kx) * n
                        let oxLo = max(0, (p - kx + s - 1) / s)
                        let oxHi = min(wout, (w - 1 + p - kx) / s + 1)
                        if oxLo >= oxHi { continue }
                        for oy in outRows {
                            let iy = oy * s - p + ky
                            if iy < 0 || iy >= h { continue }
                            let drow = dst + iy * w
                            let srow = src + (oy - oy0) * wout
                            if s == 1 {
                                let base = drow + (oxLo - p + kx)
                                for ox in oxLo..<oxHi { base[ox - oxLo] += srow[ox] }
                            } else {
                                for ox in oxLo..<oxHi { drow[ox * s - p + kx] += srow[ox] }
                            }
                        }
                    }
                }
            }
        }
        if parallel { Parallel.forRange(cin, grain: 1, body) } else { body(0..<cin) }
    }
}

/// 2-D cross-correlation (PyTorch `conv2d`) over NCHW input.
/// - Parameters:
///   - x: `[N, Cin, H, W]`.
///   - weight: `[Cout, Cin, kh, kw]`.
///   - bias: `[Cout]` or nil.
///   - stride: step in both directions (≥ 1).
///   - padding: zero padding on every side (≥ 0).
/// - Returns: `[N, Cout, (H + 2p − kh)/s + 1, (W + 2p − kw)/s + 1]`.
public func conv2d(_ x: Tensor, weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
    precondition(x.rank == 4 && weight.rank == 4 && x.shape[1] == weight.shape[1],
                 "conv2d: input \(x.shape) ([N, C, H, W]) does not match weight \(weight.shape) ([Cout, Cin, kh, kw])")
    precondition(stride >= 1 && padding >= 0, "conv2d: stride \(stride) must be ≥ 1 and padding \(padding) ≥ 0")
    let batch = x.shape[0], cout = weight.shape[0]
    let geo = ConvGeometry(cin: x.shape[1], h: x.shape[2], w: x.shape[3], kh: weight.shape[2], kw: weight.shape[3],
                           stride: stride, padding: padding)
    precondition(geo.hout > 0 && geo.wout > 0, "conv2d: kernel \(weight.shape) larger than padded input \(x.shape)")
    if let bias { precondition(bias.shape == [cout], "conv2d: bias \(bias.shape) should be [\(cout)]") }
    if ComputePrecision.current == .bf16,
       let out = conv2dBF16(x, weight: weight, bias: bias, stride: stride, padding: padding) {
        return out
    }
    let out = Tensor(uninitializedShape: [batch, cout, geo.hout, geo.wout])
    let k = geo.k, n = geo.n
    let inImage = geo.cin * geo.h * geo.w, outImage = cout * n
    let direct1x1 = geo.kh == 1 && geo.kw == 1 && stride == 1 && padding == 0
    // Enough images: one worker per chunk of images, serial im2col + GEMM inside (one fork-join
    // per call). Few images: parallel im2col and panel-parallel GEMM per image.
    let imageParallel = batch >= 2 * Parallel.threadCount
    let tile = geo.tileRows
    let px = x.ptr, py = out.ptr, pw = weight.ptr, pb = bias?.ptr
    // Stride-1 kernels larger than 1×1: shifted GEMMs over a padded copy (no im2col).
    let shifted = ShiftedConv.applies(geo) ? ShiftedConv(geo, cout: cout) : nil
    // The direct kernel's packing, or tap-major for one GEMM per tap.
    let tapWeights = shifted.map { $0.direct ? $0.packed(pw) : $0.tapMajor(pw) }
    let forwardShifted = { (sc: ShiftedConv, wt: TensorStorage, images: Range<Int>, inner: Bool) in
        let xp = TensorStorage(zeroedCount: sc.paddedCount), yp = TensorStorage(uninitializedCount: sc.outCount)
        for img in images {
            sc.pad(px + img * inImage, into: xp.base)
            if sc.direct {
                sc.directForward(xp.base, packed: wt.base, into: yp.base, parallel: inner)
            } else {
                sc.forwardGemms(xp.base, weights: wt.base, into: yp.base, parallel: inner)
            }
            sc.copyOut(yp.base, bias: pb, into: py + img * outImage)
        }
        withExtendedLifetime((xp, yp)) {}
    }
    let forwardImages = { (images: Range<Int>, inner: Bool) in
        if let shifted, let tapWeights {
            forwardShifted(shifted, tapWeights, images, inner)
            return
        }
        let col = direct1x1 ? nil : TensorStorage(uninitializedCount: k * tile * geo.wout)
        for img in images {
            let xo = px + img * inImage, yo = py + img * outImage
            if let pb {
                for c in 0..<cout { (yo + c * n).update(repeating: pb[c], count: n) }
            }
            // Output rows in tiles: im2col of a tile, then its GEMM while the tile is in cache.
            var oy0 = 0
            while oy0 < geo.hout {
                let rows = oy0..<(direct1x1 ? geo.hout : min(geo.hout, oy0 + tile))
                let nt = rows.count * geo.wout
                let b: UnsafePointer<Float>, ldb: Int
                if let col {
                    geo.im2col(xo, col.base, outRows: rows, parallel: inner)
                    b = UnsafePointer(col.base)
                    ldb = nt
                } else {
                    b = UnsafePointer(xo)
                    ldb = n
                }
                if inner {
                    BLAS.sgemm(transA: false, transB: false, m: cout, n: nt, k: k, a: pw, lda: k, b: b, ldb: ldb,
                               beta: pb == nil ? 0 : 1, c: yo + oy0 * geo.wout, ldc: n)
                } else {
                    BLAS.sgemmSerial(transA: false, transB: false, m: cout, n: nt, k: k, a: pw, lda: k, b: b, ldb: ldb,
                                     beta: pb == nil ? 0 : 1, c: yo + oy0 * geo.wout, ldc: n)
                }
                oy0 = rows.upperBound
            }
        }
        withExtendedLifetime(col) {}
    }
    if imageParallel {
        Parallel.forRange(batch, grain: 1) { forwardImages($0, false) }
    } else {
        forwardImages(0..<batch, true)
    }
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    if Tensor.shouldRecord(inputs) {
        let dx = x.detached(), dw = weight.detached()
        let needX = x.requiresGrad, needW = weight.requiresGrad
        // One pass computes both input and weight gradients; the pullbacks share it.
        var cached: (g: Tensor, gx: Tensor?, gw: Tensor?)? = nil
        let both: (Tensor) -> (Tensor?, Tensor?) = { g in
            if let cached, cached.g === g { return (cached.gx, cached.gw) }
            let gx = needX ? Tensor(uninitializedShape: dx.shape) : nil
            let gw = needW ? Tensor.zeros(dw.shape) : nil
            let pg = g.ptr, pxx = dx.ptr, pww = dw.ptr
            let wCount = cout * k
            let chunks = imageParallel ? min(batch, 4 * Parallel.threadCount) : 1
            // Each chunk of images accumulates its own weight gradient; summed afterwards.
            let partials = (needW && chunks > 1 && shifted == nil) ? TensorStorage(zeroedCount: chunks * wCount) : nil
            // The shifted path accumulates tap-major weight gradients, one slice per chunk.
            let tapGradients = (needW && shifted != nil) ? TensorStorage(zeroedCount: chunks * wCount) : nil
            let backwardShifted = { (sc: ShiftedConv, wt: TensorStorage, chunk: Int, inner: Bool) in
                let lo = batch * chunk / chunks, hi = batch * (chunk + 1) / chunks
                let xp = needW ? TensorStorage(zeroedCount: sc.paddedCount) : nil
                let gyp = TensorStorage(zeroedCount: sc.outCount)
                let gxp = needX ? TensorStorage(uninitializedCount: sc.paddedCount) : nil
                let gwt = tapGradients.map { $0.base + chunk * wCount }
                for img in lo..<hi {
                    sc.spreadGradient(pg + img * outImage, into: gyp.base)
                    if let xp, let gwt {
                        sc.pad(pxx + img * inImage, into: xp.base)
                        sc.weightGradientGemms(gyp.base, xp.base, into: gwt, parallel: inner)
                    }
                    if let gxp, let gx {
                        gxp.base.update(repeating: 0, count: sc.paddedCount)
                        sc.inputGradientGemms(gyp.base, weights: wt.base, into: gxp.base, parallel: inner)
                        sc.unpad(gxp.base, into: gx.ptr + img * inImage)
                    }
                }
                withExtendedLifetime((xp, gyp, gxp)) {}
            }
            // Direct kernels: dX as the direct forward of dY with the flipped, transposed kernel;
            // dW from dY (read in dY's padded buffer) and a channel-last copy of X.
            let transposed = (shifted?.directBackward ?? false) ? shifted?.transposed : nil
            let backWeights: TensorStorage? = shifted.map { sc in
                transposed != nil ? (needX ? sc.packedTransposed(pww) : TensorStorage(uninitializedCount: 0)) : sc.tapMajor(pww)
            }
            let backwardDirect = { (sc: ShiftedConv, tc: ShiftedConv, wT: TensorStorage, chunk: Int, inner: Bool) in
                let lo = batch * chunk / chunks, hi = batch * (chunk + 1) / chunks
                let gyPad = TensorStorage(zeroedCount: tc.paddedCount)
                let xt = needW ? TensorStorage(zeroedCount: sc.channelLastCount) : nil
                let gxp = needX ? TensorStorage(uninitializedCount: tc.outCount) : nil
                let gwt = tapGradients.map { $0.base + chunk * wCount }
                // dY' in forward coordinates is dY's padded buffer from its first interior value:
                // the garbage columns land on padding zeros (tc has this conv's padded width).
                let g = UnsafePointer(gyPad.base + sc.geo.padding * tc.wp + sc.geo.padding)
                for img in lo..<hi {
                    tc.pad(pg + img * outImage, into: gyPad.base)
                    if let xt, let gwt {
                        sc.padChannelLast(pxx + img * inImage, into: xt.base)
                        if inner {
                            Parallel.forRange(cout / 4, grain: 1) { r in
                                sc.directWeightGradient(g, ldg: tc.channelStride, channelLast: xt.base, into: gwt,
                                                        rows: (4 * r.lowerBound)..<(4 * r.upperBound))
                            }
                        } else {
                            sc.directWeightGradient(g, ldg: tc.channelStride, channelLast: xt.base, into: gwt, rows: 0..<cout)
                        }
                    }
                    if let gxp, let gx {
                        tc.directForward(gyPad.base, packed: wT.base, into: gxp.base, parallel: inner)
                        tc.copyOut(gxp.base, bias: nil, into: gx.ptr + img * inImage)
                    }
                }
                withExtendedLifetime((gyPad, xt, gxp)) {}
            }
            let backwardImages = { (chunk: Int, inner: Bool) in
                if let shifted, let backWeights {
                    if let transposed {
                        backwardDirect(shifted, transposed, backWeights, chunk, inner)
                    } else {
                        backwardShifted(shifted, backWeights, chunk, inner)
                    }
                    return
                }
                let lo = batch * chunk / chunks, hi = batch * (chunk + 1) / chunks
                let colBuf = TensorStorage(uninitializedCount: direct1x1 ? 0 : k * tile * geo.wout)
                let gwDst = partials.map { $0.base + chunk * wCount } ?? gw?.ptr
                for img in lo..<hi {
                    let gyImage = pg + img * outImage, xo = pxx + img * inImage
                    let gxo = gx.map { $0.ptr + img * inImage }
                    if direct1x1 {
                        // dW += dY · Xᵀ, dX = Wᵀ · dY.
                        if let gwDst {
                            if inner {
                                BLAS.sgemm(transA: false, transB: true, m: cout, n: k, k: n, a: gyImage, lda: n, b: xo, ldb: n,
                                           beta: 1, c: gwDst, ldc: k)
                            } else {
                                BLAS.sgemmSerial(transA: false, transB: true, m: cout, n: k, k: n, a: gyImage, lda: n, b: xo, ldb: n,
                                                 beta: 1, c: gwDst, ldc: k)
                            }
                        }
                        if let gxo {
                            if inner {
                                BLAS.sgemm(transA: true, transB: false, m: k, n: n, k: cout, a: pww, lda: k, b: gyImage, ldb: n, c: gxo, ldc: n)
                            } else {
                                BLAS.sgemmSerial(transA: true, transB: false, m: k, n: n, k: cout, a: pww, lda: k, b: gyImage, ldb: n, c: gxo, ldc: n)
                            }
                        }
                        continue
                    }
                    if let gxo { gxo.update(repeating: 0, count: inImage) }
                    var oy0 = 0
                    while oy0 < geo.hout {
                        let rows = oy0..<min(geo.hout, oy0 + tile)
                        let nt = rows.count * geo.wout
                        let gy = gyImage + oy0 * geo.wout
                        if let gwDst {
                            // dW += dY[:, tile] · col(tile)ᵀ
                            geo.im2col(xo, colBuf.base, outRows: rows, parallel: inner)
                            if inner {
                                BLAS.sgemm(transA: false, transB: true, m: cout, n: k, k: nt, a: gy, lda: n, b: colBuf.base, ldb: nt,
                                           beta: 1, c: gwDst, ldc: k)
                            } else {
                                BLAS.sgemmSerial(transA: false, transB: true, m: cout, n: k, k: nt, a: gy, lda: n, b: colBuf.base, ldb: nt,
                                                 beta: 1, c: gwDst, ldc: k)
                            }
                        }
                        if let gxo {
                            // dcol(tile) = Wᵀ · dY[:, tile], scattered back into dX.
                            if inner {
                                BLAS.sgemm(transA: true, transB: false, m: k, n: nt, k: cout, a: pww, lda: k, b: gy, ldb: n,
                                           c: colBuf.base, ldc: nt)
                            } else {
                                BLAS.sgemmSerial(transA: true, transB: false, m: k, n: nt, k: cout, a: pww, lda: k, b: gy, ldb: n,
                                                 c: colBuf.base, ldc: nt)
                            }
                            geo.col2im(colBuf.base, gxo, outRows: rows, parallel: inner)
                        }
                        oy0 = rows.upperBound
                    }
                }
                withExtendedLifetime(colBuf) {}
            }
            if chunks > 1 {
                Parallel.forEach(chunks) { backwardImages($0, false) }
            } else {
                backwardImages(0, true)
            }
            if let tapGradients, let shifted, let gw {
                let p = tapGradients.base
                for c in 1..<max(chunks, 1) {
                    let src = p + c * wCount
                    for i in 0..<wCount { p[i] += src[i] }
                }
                shifted.addTapMajorGradient(p, into: gw.ptr)
            } else if let partials, let gw {
                let d = gw.ptr, p = partials.base
                Parallel.forRange(wCount, grain: 4096) { r in
                    for c in 0..<chunks {
                        let src = p + c * wCount
                        for i in r { d[i] += src[i] }
                    }
                }
            }
            cached = (g, gx, gw)
            return (gx, gw)
        }
        var pullbacks: [((Tensor) -> Tensor)?] = [
            needX ? { g in both(g).0! } : nil,
            needW ? { g in both(g).1! } : nil,
        ]
        if let bias {
            pullbacks.append(bias.requiresGrad ? { g in g.sumToShape([1, cout, 1, 1]).reshaped([cout]) } : nil)
        }
        out.record("conv2d", inputs, pullbacks)
    }
    return out
}
