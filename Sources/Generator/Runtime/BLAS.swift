import CBLAS
import Foundation

/// The only place that calls BLAS. Row-major single-precision GEMM through OpenBLAS, plus a
/// plain Swift implementation of the same contract (`referenceSgemm`) that tests use as oracle.
///
/// Threading: OpenBLAS runs single-threaded (`openblas_set_num_threads(1)`) and large products
/// are split into column or row panels run on `Parallel.threadCount` workers. Ops that already
/// run in parallel (convolution over images, attention over heads) call `sgemmSerial` inside
/// their workers. One level of parallelism, no nested thread pools, no spinning BLAS threads on
/// a shared machine.
public enum BLAS {
    private static let configure: Void = {
        openblas_set_num_threads(1)
    }()

    /// Sets the number of worker threads for matrix products and parallel loops.
    public static func setThreadCount(_ n: Int) {
        precondition(n >= 1, "BLAS.setThreadCount: need at least one thread, got \(n)")
        _ = configure
        Parallel.threadCount = n
    }

    /// Name of the OpenBLAS kernel set in use (e.g. "SkylakeX", "Haswell", "Prescott").
    public static var kernelName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// The OpenBLAS core type this CPU supports best, when OpenBLAS picked a slower generic one
    /// (OpenBLAS 0.3.21 does not recognise some newer CPUs and falls back to "Prescott" SSE3
    /// kernels, 4–5× slower). nil when the detected kernels are fine or the CPU is unknown.
    public static var recommendedCoreType: String? {
        let name = kernelName.lowercased()
        if !["prescott", "core2", "penryn", "dunnington", "nehalem", "sandybridge", "atom", "unknown"].contains(name) { return nil }
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let flagsLine = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(flagsLine.split(separator: " ").map(String.init))
        if flags.contains("avx512f") && flags.contains("avx512bw") && flags.contains("avx512vl") { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    /// For executables, first thing in `main` (before any threads start): re-executes the
    /// process once with the OpenBLAS settings that can only be given at load time, when the
    /// environment does not set them already:
    /// - `OPENBLAS_CORETYPE=recommendedCoreType` when OpenBLAS chose slow generic kernels;
    /// - `OPENBLAS_NUM_THREADS=1`: the engine calls OpenBLAS single-threaded and parallelises
    ///   around it, but OpenBLAS starts its own worker pool when the library loads, and those
    ///   idle threads spin in sched_yield for a while (measured: 0.15 s of CPU per process, 7% of
    ///   the cycles of a 5 s `encode`, which never calls BLAS at all).
    /// Returns normally when nothing needs to change or exec fails.
    public static func reexecWithFasterKernelsIfNeeded() {
        let env = ProcessInfo.processInfo.environment
        var changed = false
        if env["OPENBLAS_CORETYPE"] == nil, let core = recommendedCoreType {
            setenv("OPENBLAS_CORETYPE", core, 1)
            changed = true
        }
        if env["OPENBLAS_NUM_THREADS"] == nil && env["OMP_NUM_THREADS"] == nil {
            setenv("OPENBLAS_NUM_THREADS", "1", 1)
            changed = true
        }
        if changed { execv("/proc/self/exe", CommandLine.unsafeArgv) }
    }

    /// C = alpha · op(A) · op(B) + beta · C, row-major; op(X) is X or Xᵀ.
    /// A is m×k (k×m stored when `transA`), B is k×n (n×k stored when `transB`), C is m×n.
    /// Large products are split into panels computed in parallel.
    static func sgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        let threads = Parallel.threadCount
        let work = m * n * k
        if threads == 1 || work < 1 << 20 || (m < 32 && n < 32) {
            sgemmSerial(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                        beta: beta, c: c, ldc: ldc)
            return
        }
        if n >= m {
            // Column panels: C[:, j0..<j1] = op(A) · op(B)[:, j0..<j1].
            let panels = min(2 * threads, max(1, n / 32))
            Parallel.forEach(panels) { p in
                let j0 = (n * p / panels) & ~15, j1 = p == panels - 1 ? n : (n * (p + 1) / panels) & ~15
                if j1 <= j0 { return }
                sgemmSerial(transA: transA, transB: transB, m: m, n: j1 - j0, k: k, alpha: alpha, a: a, lda: lda,
                            b: transB ? b + j0 * ldb : b + j0, ldb: ldb, beta: beta, c: c + j0, ldc: ldc)
            }
        } else {
            // Row panels: C[i0..<i1, :] = op(A)[i0..<i1, :] · op(B).
            let panels = min(2 * threads, max(1, m / 16))
            Parallel.forEach(panels) { p in
                let i0 = m * p / panels, i1 = m * (p + 1) / panels
                if i1 <= i0 { return }
                sgemmSerial(transA: transA, transB: transB, m: i1 - i0, n: n, k: k, alpha: alpha,
                            a: transA ? a + i0 : a + i0 * lda, lda: lda, b: b, ldb: ldb, beta: beta, c: c + i0 * ldc, ldc: ldc)
            }
        }
    }

    /// `sgemm` on the calling thread only (for use inside parallel workers).
    @inline(__always)
    static func sgemmSerial(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        _ = configure
        if m == 0 || n == 0 { return }
        if k == 0 {
            for i in 0..<m {
                for j in 0..<n { c[i * ldc + j] = beta == 0 ? 0 : beta * c[i * ldc + j] }
            }
            return
        }
        // bf16 compute: products big enough that rounding the operands pays (below 2^16
        // multiply-adds the conversions cost more than they save).
        if ComputePrecision.current == .bf16 && alpha == 1 && (beta == 0 || beta == 1) && m * n * k >= 1 << 16,
           OneDNN.matmul(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
                         c: c, ldc: ldc) == .done {
            return
        }
        cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// `sgemm` (panel-parallel) when `parallel`, else `sgemmSerial`: for ops that parallelise
    /// either over their own work items or inside each product.
    @inline(__always)
    static func sgemm(parallel: Bool, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        if parallel {
            sgemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c, ldc: ldc)
        } else {
            sgemmSerial(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                        beta: beta, c: c, ldc: ldc)
        }
    }

    /// Plain Swift GEMM with the same contract as `sgemm`, accumulating in Double. Slow; the
    /// oracle for BLAS tests.
    static func referenceSgemm(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float = 1,
                               a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                               beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
        for i in 0..<m {
            for j in 0..<n {
                var acc = 0.0
                for p in 0..<k {
                    let av = transA ? a[p * lda + i] : a[i * lda + p]
                    let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                    acc += Double(av) * Double(bv)
                }
                let old = beta == 0 ? 0 : beta * c[i * ldc + j]
                c[i * ldc + j] = alpha * Float(acc) + old
            }
        }
    }
}

/// The vector kernels of the CBLAS shim (Sources/CBLAS/vector_kernels.inc), compiled for AVX-512
/// and for AVX2 + FMA; Swift itself is compiled for baseline SSE2. Each wrapper runs the kernel of
/// `isa` and returns false / nil under `.none`, and the caller then uses its Swift loop.
enum VectorKernels {
    /// An instruction set the kernels are compiled for.
    enum ISA: String, Sendable, CaseIterable {
        /// AVX-512F/DQ: 16-lane vectors in one register; also the direct convolution kernels.
        case avx512
        /// AVX2 + FMA: the same kernels in pairs of 8-lane registers.
        case avx2
        /// No vector kernels: the Swift loops.
        case none
    }

    /// The best instruction set this CPU has (from /proc/cpuinfo's flags).
    static let detected: ISA = {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return .none }
        let flags = Set(line.split(separator: " ").map(String.init))
        if flags.contains("avx512f") && flags.contains("avx512dq") { return .avx512 }
        if flags.contains("avx2") && flags.contains("fma") { return .avx2 }
        return .none
    }()

    /// The kernels in use: `detected`, or a lower level named by the environment variable
    /// `T2V_VECTOR_KERNELS` (avx512, avx2 or none; for comparisons and debugging; a level above
    /// the CPU's stops the process with a message). Tests may lower it with `withISA`.
    nonisolated(unsafe) private(set) static var isa: ISA = {
        guard let name = ProcessInfo.processInfo.environment["T2V_VECTOR_KERNELS"], !name.isEmpty else { return detected }
        guard let wanted = ISA(rawValue: name.lowercased()) else {
            fatalError("T2V_VECTOR_KERNELS=\(name): expected one of avx512, avx2, none")
        }
        guard supported(wanted) else {
            fatalError("T2V_VECTOR_KERNELS=\(name): this CPU's best is \(detected.rawValue); unset the variable or name a lower level")
        }
        return wanted
    }()

    /// Whether this CPU can run `level`.
    static func supported(_ level: ISA) -> Bool {
        switch level {
        case .none: return true
        case .avx2: return detected != .none
        case .avx512: return detected == .avx512
        }
    }

    /// Runs `body` with the kernels of `level` (which the CPU must support), then restores the
    /// previous level. For tests, which run one at a time; not for concurrent use.
    static func withISA<T>(_ level: ISA, _ body: () throws -> T) rethrows -> T {
        precondition(supported(level), "VectorKernels.withISA: this CPU cannot run \(level.rawValue)")
        let saved = isa
        isa = level
        defer { isa = saved }
        return try body()
    }

    /// Whether any vector kernels run (AVX-512 or AVX2).
    static var available: Bool { isa != .none }

    /// Whether the direct convolution kernels run: AVX-512 only. Their tiles hold 16-lane
    /// accumulators in 32 registers; compiled for AVX2 they spill, and `t2v-bench denoiser-time`
    /// (forward passes and training steps) took 1.75x the CPU time of OpenBLAS's GEMM path
    /// (docs/tensor.md).
    static var directConvolution: Bool { isa == .avx512 }

    /// Raises glibc's mmap and trim thresholds so freed tensor buffers are reused from the heap;
    /// false when glibc refused a setting.
    @discardableResult
    static func keepFreedHeapMemory() -> Bool { t2v_keep_freed_heap_memory() != 0 }

    // Each wrapper below picks the kernel of `isa`: the `_avx512` or the `_avx2` build of the same
    // C function (vector_kernels.inc), which have the same signature.

    /// p[i] = e^(p[i] − shift) for i < n; returns the sum, or nil without vector kernels.
    @inline(__always)
    static func expShiftSum(_ p: UnsafeMutablePointer<Float>, _ n: Int, shift: Float) -> Float? {
        #if arch(x86_64)
        guard available else { return nil }
        return (isa == .avx512 ? t2v_exp_shift_sum_avx512 : t2v_exp_shift_sum_avx2)(p, n, shift)
        #else
        return nil
        #endif
    }

    /// Maximum of n floats, or nil without vector kernels.
    @inline(__always)
    static func max(_ p: UnsafePointer<Float>, _ n: Int) -> Float? {
        #if arch(x86_64)
        guard available else { return nil }
        return (isa == .avx512 ? t2v_max_avx512 : t2v_max_avx2)(p, n)
        #else
        return nil
        #endif
    }

    /// Scratch floats `attentionSmall` needs.
    static func attentionSmallScratch(d: Int, lk: Int, dv: Int) -> Int { 16 * (d + 3 * lk + dv) }

    /// Softmax attention of one sequence with few keys (see `t2v_attention_small` in
    /// vector_kernels.inc): `bias`/`mask` are (base, row stride, column stride); `causalFirst` the
    /// absolute index of query row 0 for causal attention, else nil; `lse` gets max + log Σ per
    /// query when given. False without vector kernels.
    @inline(__always)
    static func attentionSmall(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                               v: UnsafePointer<Float>, ldv: Int, lq: Int, lk: Int, d: Int, dv: Int, scale: Float,
                               bias: (UnsafePointer<Float>, Int, Int)?, mask: (UnsafePointer<Float>, Int, Int)?,
                               causalFirst: Int?, out: UnsafeMutablePointer<Float>, ldo: Int,
                               lse: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>) -> Bool {
        #if arch(x86_64)
        guard available else { return false }
        (isa == .avx512 ? t2v_attention_small_avx512 : t2v_attention_small_avx2)(
            q, ldq, k, ldk, v, ldv, lq, lk, d, dv, scale,
            bias?.0, bias?.1 ?? 0, bias?.2 ?? 0, mask?.0, mask?.1 ?? 0, mask?.2 ?? 0,
            causalFirst ?? -1, out, ldo, lse, scratch)
        return true
        #else
        return false
        #endif
    }

    /// Scratch floats `attentionSmallBackward` needs.
    static func attentionSmallBackwardScratch(d: Int, lk: Int, dv: Int) -> Int { 16 * (3 * d + 3 * dv + 4 * lk + 32) }

    /// The backward pass of `attentionSmall` (see `t2v_attention_small_backward` in
    /// vector_kernels.inc): writes `gq`, accumulates into `gk`, `gv` and `gbias` (at the bias's
    /// strides). False without vector kernels.
    @inline(__always)
    static func attentionSmallBackward(q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                                       v: UnsafePointer<Float>, ldv: Int, o: UnsafePointer<Float>, go: UnsafePointer<Float>,
                                       ldo: Int, lse: UnsafePointer<Float>, lq: Int, lk: Int, d: Int, dv: Int, scale: Float,
                                       bias: (UnsafePointer<Float>, Int, Int)?, mask: (UnsafePointer<Float>, Int, Int)?,
                                       causalFirst: Int?, gq: UnsafeMutablePointer<Float>, gk: UnsafeMutablePointer<Float>,
                                       gv: UnsafeMutablePointer<Float>, gbias: UnsafeMutablePointer<Float>?,
                                       scratch: UnsafeMutablePointer<Float>) -> Bool {
        #if arch(x86_64)
        guard available else { return false }
        (isa == .avx512 ? t2v_attention_small_backward_avx512 : t2v_attention_small_backward_avx2)(
            q, ldq, k, ldk, v, ldv, o, go, ldo, lse, lq, lk, d, dv, scale,
            bias?.0, bias?.1 ?? 0, bias?.2 ?? 0, mask?.0, mask?.1 ?? 0, mask?.2 ?? 0,
            causalFirst ?? -1, gq, gk, gv, gbias, scratch)
        return true
        #else
        return false
        #endif
    }

    /// y = x·σ(x) over n floats; false without vector kernels.
    @inline(__always)
    static func silu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
        #if arch(x86_64)
        guard available else { return false }
        (isa == .avx512 ? t2v_silu_avx512 : t2v_silu_avx2)(x, y, n)
        return true
        #else
        return false
        #endif
    }

    /// gx = g · SiLU′(x) over n floats; false without vector kernels.
    @inline(__always)
    static func siluBackward(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
        #if arch(x86_64)
        guard available else { return false }
        (isa == .avx512 ? t2v_silu_backward_avx512 : t2v_silu_backward_avx2)(x, g, gx, n)
        return true
        #else
        return false
        #endif
    }

    /// y = GELU(x) (erf form) over n floats; false without vector kernels.
    @inline(__always)
    static func gelu(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
        #if arch(x86_64)
        guard available else { return false }
        (isa == .avx512 ? t2v_gelu_avx512 : t2v_gelu_avx2)(x, y, n)
        return true
        #else
        return false
        #endif
    }

    /// gx = g · GELU′(x) over n floats; false without vector kernels.
    @inline(__always)
    static func geluBackward(_ x: UnsafePointer<Float>, _ g: UnsafePointer<Float>, _ gx: UnsafeMutablePointer<Float>, _ n: Int) -> Bool {
        #if arch(x86_64)
        guard available else { return false }
        (isa == .avx512 ? t2v_gelu_backward_avx512 : t2v_gelu_backward_avx2)(x, g, gx, n)
        return true
        #else
        return false
        #endif
    }

    /// Layer-norm backward over `rows` rows of width `d` (see `t2v_layernorm_backward` in
    /// vector_kernels.inc): writes gx and adds the rows' weight and bias gradients into gw and gb
    /// (each optional); false without vector kernels.
    @inline(__always)
    static func layerNormBackward(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, stats: UnsafePointer<Float>,
                                  weight: UnsafePointer<Float>?, rows: Int, d: Int, gx: UnsafeMutablePointer<Float>?,
                                  gw: UnsafeMutablePointer<Float>?, gb: UnsafeMutablePointer<Float>?) -> Bool {
        #if arch(x86_64)
        guard available else { return false }
        (isa == .avx512 ? t2v_layernorm_backward_avx512 : t2v_layernorm_backward_avx2)(g, x, stats, weight, rows, d, gx, gw, gb)
        return true
        #else
        return false
        #endif
    }
}

extension VectorKernels {
    /// Attention over a clip's frames read in place from channel-major maps, 16 positions at a
    /// time (see `t2v_frame_attention` in vector_kernels.inc). Only call when `available`.
    @inline(__always)
    static func frameAttention(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldf: Int,
                               out: UnsafeMutablePointer<Float>, ldfo: Int, ldc: Int, frames: Int, d: Int, n: Int,
                               scale: Float, bias: UnsafePointer<Float>, max mx: UnsafeMutablePointer<Float>,
                               inverseSum inv: UnsafeMutablePointer<Float>, ldl: Int, scratch: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        (isa == .avx512 ? t2v_frame_attention_avx512 : t2v_frame_attention_avx2)(
            q, k, v, ldf, out, ldfo, ldc, frames, d, n, scale, bias, mx, inv, ldl, scratch)
        #else
        preconditionFailure("frameAttention: vector kernels exist only on x86_64")
        #endif
    }

    /// Scratch floats `frameAttention` needs.
    static func frameAttentionScratch(frames: Int, d: Int) -> Int { 16 * (3 * frames * d + frames) }

    /// The backward pass of `frameAttention` (see `t2v_frame_attention_backward`): writes gq, gk,
    /// gv for its positions and adds dS per lane into `gbias` (frames² vectors of 16 floats).
    @inline(__always)
    static func frameAttentionBackward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldf: Int,
                                       o: UnsafePointer<Float>, go: UnsafePointer<Float>, ldfo: Int, ldc: Int,
                                       frames: Int, d: Int, n: Int, scale: Float, bias: UnsafePointer<Float>,
                                       max mx: UnsafePointer<Float>, inverseSum inv: UnsafePointer<Float>, ldl: Int,
                                       gq: UnsafeMutablePointer<Float>, gk: UnsafeMutablePointer<Float>,
                                       gv: UnsafeMutablePointer<Float>, gbias: UnsafeMutablePointer<Float>,
                                       scratch: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        (isa == .avx512 ? t2v_frame_attention_backward_avx512 : t2v_frame_attention_backward_avx2)(
            q, k, v, ldf, o, go, ldfo, ldc, frames, d, n, scale, bias, mx, inv, ldl, gq, gk, gv, gbias, scratch)
        #else
        preconditionFailure("frameAttentionBackward: vector kernels exist only on x86_64")
        #endif
    }

    /// Scratch floats `frameAttentionBackward` needs.
    static func frameAttentionBackwardScratch(frames: Int, d: Int) -> Int { 16 * (6 * frames * d + frames + d) }

    /// Layer norm over the channels of a channel-major map at up to 16 positions (see
    /// `t2v_layernorm_channels`; scratch: 16 · channels floats). Only call when `available`.
    @inline(__always)
    static func layerNormChannels(_ x: UnsafePointer<Float>, channels: Int, ldc: Int, n: Int, weight: UnsafePointer<Float>?,
                                  bias: UnsafePointer<Float>?, eps: Float, into y: UnsafeMutablePointer<Float>,
                                  mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                                  scratch: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        (isa == .avx512 ? t2v_layernorm_channels_avx512 : t2v_layernorm_channels_avx2)(
            x, channels, ldc, n, weight, bias, eps, y, mean, rstd, scratch)
        #else
        preconditionFailure("layerNormChannels: vector kernels exist only on x86_64")
        #endif
    }

    /// The backward pass of `layerNormChannels` (see `t2v_layernorm_channels_backward`): writes gx
    /// (when not nil) and adds per-lane weight and bias gradients into gw, gb (`channels` vectors
    /// of 16 floats each, when not nil); scratch: 32 · channels floats.
    @inline(__always)
    static func layerNormChannelsBackward(_ g: UnsafePointer<Float>, _ x: UnsafePointer<Float>, channels: Int, ldc: Int, n: Int,
                                          weight: UnsafePointer<Float>?, mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>,
                                          gx: UnsafeMutablePointer<Float>?, gw: UnsafeMutablePointer<Float>?,
                                          gb: UnsafeMutablePointer<Float>?, scratch: UnsafeMutablePointer<Float>) {
        #if arch(x86_64)
        (isa == .avx512 ? t2v_layernorm_channels_backward_avx512 : t2v_layernorm_channels_backward_avx2)(
            g, x, channels, ldc, n, weight, mean, rstd, gx, gw, gb, scratch)
        #else
        preconditionFailure("layerNormChannelsBackward: vector kernels exist only on x86_64")
        #endif
    }
}

extension VectorKernels {
    /// Direct stride-1 convolution over a zero-padded image (see `t2v_conv_direct` in
    /// vector_kernels.inc): Y'[o, j] = Σ_t Σ_c W[t][o][c] · xp[c·cs + off[t] + j] for o < cout (a
    /// multiple of 8) and j < ncols (a multiple of 16). Only call when `directConvolution`.
    @inline(__always)
    static func convDirect(_ xp: UnsafePointer<Float>, channelStride cs: Int, cin: Int, packedWeights wpk: UnsafePointer<Float>,
                           cout: Int, offsets: UnsafePointer<Int>, taps: Int, into y: UnsafeMutablePointer<Float>, ldy: Int,
                           columns: Int) {
        #if arch(x86_64)
        precondition(directConvolution && cout % 8 == 0 && columns % 16 == 0, "convDirect: needs AVX-512, cout % 8 and columns % 16")
        t2v_conv_direct_avx512(xp, cs, cin, wpk, cout, offsets, taps, y, ldy, columns)
        #else
        preconditionFailure("convDirect: AVX-512 kernels exist only on x86_64")
        #endif
    }

    /// Tap-major weight gradient of a direct convolution (see `t2v_conv_wgrad` in
    /// vector_kernels.inc): gw[t·ldt + o·cin + c] += Σ_{j < columns} g[o·ldg + j] · xt[(j + off[t])·cin + c]
    /// for o < cout (a multiple of 4) and c < cin (a multiple of 16). Only call when
    /// `directConvolution`.
    @inline(__always)
    static func convWeightGradient(_ g: UnsafePointer<Float>, ldg: Int, cout: Int, channelLast xt: UnsafePointer<Float>, cin: Int,
                                   offsets: UnsafePointer<Int>, taps: Int, into gw: UnsafeMutablePointer<Float>, tapStride ldt: Int,
                                   columns: Int) {
        #if arch(x86_64)
        precondition(directConvolution && cout % 4 == 0 && cin % 16 == 0, "convWeightGradient: needs AVX-512, cout % 4 and cin % 16")
        t2v_conv_wgrad_avx512(g, ldg, cout, xt, cin, offsets, taps, gw, ldt, columns)
        #else
        preconditionFailure("convWeightGradient: AVX-512 kernels exist only on x86_64")
        #endif
    }
}
