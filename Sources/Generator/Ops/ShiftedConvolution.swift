import Foundation

/// A stride-1 convolution computed as kh·kw shifted GEMMs over a zero-padded copy of each image,
/// with no im2col matrix.
///
/// The image is copied once into a padded buffer of width Wp = W + 2p (rows of each channel
/// laid end to end, each channel followed by kw − 1 spare zeros). An output computed in
/// padded-width coordinates, Y'[o, oy·Wp + ox] for ox < Wp, is then a sum over the taps:
///   Y'[:, j] += W_tap · Xp[:, j + ky·Wp + kx]   for j < Hout·Wp,
/// one GEMM per tap ([Cout × Cin] times a column window of Xp read in place). Columns with
/// ox ≥ Wout wrap into the next row: they are garbage and dropped when Y' is copied out. The
/// backward pass reuses the layout: dW_tap = dY' · Xp[:, window]ᵀ and dXp[:, window] += W_tapᵀ · dY',
/// with dY' zero in the garbage columns so they add nothing.
///
/// Against im2col (which writes kh·kw copies of the input and reads them back), this moves one
/// copy of the input in and one of the output out.
struct ShiftedConv {
    let geo: ConvGeometry
    let cout: Int
    /// Padded width and height.
    let wp: Int, hp: Int
    /// Elements per channel of the padded image (Hp·Wp plus kw − 1 spare zeros read by the last
    /// garbage columns).
    let channelStride: Int
    /// Columns of Y' (Hout·Wp).
    let np: Int
    /// Row stride of Y' and dY': np rounded up to a multiple of 16, so the direct kernel writes
    /// whole 16-lane vectors (the extra columns are garbage too).
    let ld: Int
    /// Column offset of every tap in the padded image.
    let offsets: [Int]

    /// Whether `geo` takes this path (stride 1 and a kernel bigger than 1×1).
    static func applies(_ geo: ConvGeometry) -> Bool { geo.stride == 1 && geo.kh * geo.kw > 1 }

    init(_ geo: ConvGeometry, cout: Int) {
        self.geo = geo
        self.cout = cout
        wp = geo.w + 2 * geo.padding
        hp = geo.h + 2 * geo.padding
        channelStride = hp * wp + geo.kw - 1
        np = geo.hout * wp
        ld = (np + 15) / 16 * 16
        let kw = geo.kw, wp = wp
        offsets = (0..<(geo.kh * geo.kw)).map { ($0 / kw) * wp + $0 % kw }
    }

    /// Whether the forward pass runs the AVX-512 direct kernel (`VectorKernels.convDirect`)
    /// instead of one GEMM per tap: it needs output channels in blocks of 8.
    var direct: Bool { VectorKernels.directConvolution && cout % 8 == 0 }

    /// Whether the backward pass runs the direct kernels: the input gradient as the direct
    /// forward of dY with the flipped, transposed kernel (which needs `transposed`'s padded
    /// width to equal this one's: a square odd kernel with "same" padding) and the weight
    /// gradient by `VectorKernels.convWeightGradient` (input channels in blocks of 16).
    var directBackward: Bool {
        VectorKernels.directConvolution && geo.kh == geo.kw && geo.kh % 2 == 1 && geo.padding == (geo.kh - 1) / 2
            && geo.cin % 16 == 0 && cout % 8 == 0
    }

    /// The geometry of the input gradient as a convolution: dY [Cout, Hout, Wout] padded by
    /// k − 1 − p, convolved with the flipped kernel, gives dX [Cin, H, W].
    var transposed: ShiftedConv {
        ShiftedConv(ConvGeometry(cin: cout, h: geo.hout, w: geo.wout, kh: geo.kh, kw: geo.kw, stride: 1,
                                 padding: geo.kh - 1 - geo.padding), cout: geo.cin)
    }

    var taps: Int { geo.kh * geo.kw }
    /// Elements of one padded image, plus 16 spare zeros read by the direct kernel's last
    /// (garbage) columns past np.
    var paddedCount: Int { geo.cin * channelStride + 16 }
    /// Elements of one Y' (or dY') buffer.
    var outCount: Int { cout * ld }
    /// Column offset of tap `t` in the padded image.
    @inline(__always) func offset(_ t: Int) -> Int { offsets[t] }

    /// The weight [Cout, Cin, kh, kw] copied element by element to `index(o, c, tap)`.
    private func rearranged(_ w: UnsafePointer<Float>, _ index: (Int, Int, Int) -> Int) -> TensorStorage {
        let out = TensorStorage(uninitializedCount: taps * cout * geo.cin)
        let t = taps, cin = geo.cin, dst = out.base
        for o in 0..<cout {
            for c in 0..<cin {
                let src = w + (o * cin + c) * t
                for k in 0..<t { dst[index(o, c, k)] = src[k] }
            }
        }
        return out
    }

    /// The weight [Cout, Cin, kh, kw] packed for the direct kernel, [Cout/8][kh·kw][Cin][8].
    func packed(_ w: UnsafePointer<Float>) -> TensorStorage {
        let t = taps, cin = geo.cin
        return rearranged(w) { o, c, k in ((o / 8 * t + k) * cin + c) * 8 + o % 8 }
    }

    /// The flipped, transposed weight that `transposed` convolves dY with, packed for the
    /// direct kernel: W'[c][o][tap] = W[o][c][taps − 1 − tap], as [Cin/8][kh·kw][Cout][8].
    func packedTransposed(_ w: UnsafePointer<Float>) -> TensorStorage {
        let t = taps, co = cout
        return rearranged(w) { o, c, k in ((c / 8 * t + (t - 1 - k)) * co + o) * 8 + c % 8 }
    }

    /// Y' = direct convolution of one padded image for output-channel blocks `blocks` (of 8),
    /// into `yp` [Cout, ld].
    @inline(__always)
    func directForward(_ xp: UnsafePointer<Float>, packed wpk: UnsafePointer<Float>, into yp: UnsafeMutablePointer<Float>,
                       blocks: Range<Int>) {
        offsets.withUnsafeBufferPointer { off in
            VectorKernels.convDirect(xp, channelStride: channelStride, cin: geo.cin,
                                     packedWeights: wpk + blocks.lowerBound * 8 * taps * geo.cin, cout: 8 * blocks.count,
                                     offsets: off.baseAddress!, taps: taps, into: yp + blocks.lowerBound * 8 * ld, ldy: ld,
                                     columns: ld)
        }
    }

    /// Y' for one padded image by the direct kernel, split over output-channel blocks on the
    /// worker pool when `parallel`.
    func directForward(_ xp: UnsafePointer<Float>, packed wpk: UnsafePointer<Float>, into yp: UnsafeMutablePointer<Float>,
                       parallel: Bool) {
        let blocks = cout / 8
        if parallel {
            Parallel.forRange(blocks, grain: 1) { directForward(xp, packed: wpk, into: yp, blocks: $0) }
        } else {
            directForward(xp, packed: wpk, into: yp, blocks: 0..<blocks)
        }
    }

    /// Elements of one channel-last padded image (`padChannelLast`).
    var channelLastCount: Int { channelStride * geo.cin }

    /// Copies image `x` [Cin, H, W] channel-last into the interior of `xt` [padded position][Cin]
    /// (Hp·Wp + kw − 1 positions), whose border must already be zero; it stays zero.
    func padChannelLast(_ x: UnsafePointer<Float>, into xt: UnsafeMutablePointer<Float>) {
        let cin = geo.cin, h = geo.h, w = geo.w, p = geo.padding, wp = wp
        for y in 0..<h {
            let row = xt + ((y + p) * wp + p) * cin
            for c in 0..<cin {
                let src = x + (c * h + y) * w
                for xx in 0..<w { row[xx * cin + c] = src[xx] }
            }
        }
    }

    /// Adds the tap-major weight gradient of one image for output channels `rows` (a range of
    /// multiples of 4) into `gwt` [kh·kw, Cout, Cin]: dW_tap += dY' · Xp[:, window(tap)]ᵀ, with
    /// dY' read from `g` (row stride `ldg`, zero in the garbage columns) and Xp channel-last.
    @inline(__always)
    func directWeightGradient(_ g: UnsafePointer<Float>, ldg: Int, channelLast xt: UnsafePointer<Float>,
                              into gwt: UnsafeMutablePointer<Float>, rows: Range<Int>) {
        offsets.withUnsafeBufferPointer { off in
            VectorKernels.convWeightGradient(g + rows.lowerBound * ldg, ldg: ldg, cout: rows.count, channelLast: xt,
                                             cin: geo.cin, offsets: off.baseAddress!, taps: taps,
                                             into: gwt + rows.lowerBound * geo.cin, tapStride: cout * geo.cin, columns: np)
        }
    }

    /// The weight [Cout, Cin, kh, kw] rearranged tap-major, [kh·kw, Cout, Cin].
    func tapMajor(_ w: UnsafePointer<Float>) -> TensorStorage {
        let cin = geo.cin, co = cout
        return rearranged(w) { o, c, k in (k * co + o) * cin + c }
    }

    /// Adds a tap-major weight gradient [kh·kw, Cout, Cin] into `gw` [Cout, Cin, kh, kw].
    func addTapMajorGradient(_ g: UnsafePointer<Float>, into gw: UnsafeMutablePointer<Float>) {
        let t = taps, cin = geo.cin, co = cout
        for o in 0..<co {
            for c in 0..<cin {
                let dst = gw + (o * cin + c) * t
                for k in 0..<t { dst[k] += g[(k * co + o) * cin + c] }
            }
        }
    }

    /// Copies `planes` planes of `rows` x `cols` values between two row/plane strides.
    @inline(__always)
    private func copyPlanes(_ planes: Int, rows: Int, cols: Int, from src: UnsafePointer<Float>, rowStride sr: Int,
                            planeStride sp: Int, to dst: UnsafeMutablePointer<Float>, rowStride dr: Int, planeStride dp: Int) {
        for c in 0..<planes {
            let s = src + c * sp, d = dst + c * dp
            for y in 0..<rows { (d + y * dr).update(from: s + y * sr, count: cols) }
        }
    }

    /// Copies image `x` [Cin, H, W] into the interior of the padded buffer `xp`, whose border
    /// (and spare tail) must already be zero; it stays zero, so a worker zeroes `xp` once.
    @inline(__always)
    func pad(_ x: UnsafePointer<Float>, into xp: UnsafeMutablePointer<Float>) {
        copyPlanes(geo.cin, rows: geo.h, cols: geo.w, from: x, rowStride: geo.w, planeStride: geo.h * geo.w,
                   to: xp + geo.padding * wp + geo.padding, rowStride: wp, planeStride: channelStride)
    }

    /// Y' = Σ_tap W_tap · Xp[:, window(tap)] for one padded image, into `yp` [Cout, Np].
    @inline(__always)
    func forwardGemms(_ xp: UnsafePointer<Float>, weights wt: UnsafePointer<Float>, into yp: UnsafeMutablePointer<Float>,
                      parallel: Bool) {
        let cin = geo.cin
        for t in 0..<taps {
            BLAS.sgemm(parallel: parallel, transA: false, transB: false, m: cout, n: np, k: cin, a: wt + t * cout * cin,
                       lda: cin, b: xp + offset(t), ldb: channelStride, beta: t == 0 ? 0 : 1, c: yp, ldc: ld)
        }
    }

    /// Copies the valid columns of Y' into `y` [Cout, Hout, Wout], adding `bias` when given.
    @inline(__always)
    func copyOut(_ yp: UnsafePointer<Float>, bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>) {
        let hout = geo.hout, wout = geo.wout
        guard let bias else {
            copyPlanes(cout, rows: hout, cols: wout, from: yp, rowStride: wp, planeStride: ld, to: y, rowStride: wout,
                       planeStride: hout * wout)
            return
        }
        for o in 0..<cout {
            let src = yp + o * ld, dst = y + o * hout * wout, b = bias[o]
            for r in 0..<hout {
                let s = src + r * wp, d = dst + r * wout
                for x in 0..<wout { d[x] = s[x] + b }
            }
        }
    }

    /// Copies dY [Cout, Hout, Wout] into the valid columns of dY' (garbage columns must already
    /// be zero and stay so).
    @inline(__always)
    func spreadGradient(_ gy: UnsafePointer<Float>, into gyp: UnsafeMutablePointer<Float>) {
        copyPlanes(cout, rows: geo.hout, cols: geo.wout, from: gy, rowStride: geo.wout, planeStride: geo.hout * geo.wout,
                   to: gyp, rowStride: wp, planeStride: ld)
    }

    /// gWt[tap] += dY' · Xp[:, window(tap)]ᵀ  (tap-major [kh·kw, Cout, Cin]).
    @inline(__always)
    func weightGradientGemms(_ gyp: UnsafePointer<Float>, _ xp: UnsafePointer<Float>, into gwt: UnsafeMutablePointer<Float>,
                             parallel: Bool) {
        let cin = geo.cin
        for t in 0..<taps {
            BLAS.sgemm(parallel: parallel, transA: false, transB: true, m: cout, n: cin, k: np, a: gyp, lda: ld,
                       b: xp + offset(t), ldb: channelStride, beta: 1, c: gwt + t * cout * cin, ldc: cin)
        }
    }

    /// dXp[:, window(tap)] += W_tapᵀ · dY' for every tap, into the zeroed padded buffer `gxp`.
    @inline(__always)
    func inputGradientGemms(_ gyp: UnsafePointer<Float>, weights wt: UnsafePointer<Float>, into gxp: UnsafeMutablePointer<Float>,
                            parallel: Bool) {
        let cin = geo.cin
        for t in 0..<taps {
            BLAS.sgemm(parallel: parallel, transA: true, transB: false, m: cin, n: np, k: cout, a: wt + t * cout * cin,
                       lda: cin, b: gyp, ldb: ld, beta: 1, c: gxp + offset(t), ldc: channelStride)
        }
    }

    /// Copies the interior of the padded gradient `gxp` into dX [Cin, H, W].
    @inline(__always)
    func unpad(_ gxp: UnsafePointer<Float>, into gx: UnsafeMutablePointer<Float>) {
        copyPlanes(geo.cin, rows: geo.h, cols: geo.w, from: gxp + geo.padding * wp + geo.padding, rowStride: wp,
                   planeStride: channelStride, to: gx, rowStride: geo.w, planeStride: geo.h * geo.w)
    }
}
