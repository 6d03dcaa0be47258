import CDNNL

/// The only place that calls oneDNN: bf16 convolutions and matrix products on fp32 tensors (plain NCHW/OIHW layout
/// in and out; bf16 inputs rounded to nearest even, fp32 accumulation and results).
///
/// Each call runs on the calling thread alone (one OpenMP thread); callers split the images over
/// `Parallel`'s workers, as the fp32 convolution does, so there is one level of parallelism.
/// Primitives are built once per shape and thread and kept.
enum OneDNN {
    /// Outcome of one call.
    enum Status {
        case done
        /// No bf16 kernel for this shape on this CPU: the caller's fp32 path serves.
        case unsupported
    }

    /// Whether this CPU has AVX512_BF16 (with the OS saving AVX-512 state).
    static let cpuHasBF16: Bool = t2v_dnnl_cpu_has_bf16() != 0

    /// oneDNN's version, "major.minor.patch".
    static var version: String { String(cString: t2v_dnnl_version()) }

    /// The kernel oneDNN chose for the last call on this thread, e.g. "jit_bf16:avx512_core_bf16".
    static var lastImplementation: String { String(cString: t2v_dnnl_last_implementation()) }

    struct ConvShape {
        var images: Int, cin: Int, h: Int, w: Int, cout: Int, kh: Int, kw: Int, stride: Int, padding: Int

        fileprivate var c: t2v_conv_shape {
            t2v_conv_shape(n: Int32(images), cin: Int32(cin), h: Int32(h), w: Int32(w), cout: Int32(cout),
                           kh: Int32(kh), kw: Int32(kw), stride: Int32(stride), padding: Int32(padding))
        }
    }

    /// Bytes of the bf16 copy of a convolution's source that the forward can keep for the weight
    /// gradient (0 when the two passes want different layouts for this shape).
    static func sourceCopyBytes(_ shape: ConvShape, hasBias: Bool) -> Int {
        var s = shape.c
        var bytes = 0
        _ = check(t2v_dnnl_conv_source_copy_bytes(&s, hasBias ? 1 : 0, &bytes), "convolution", shape)
        return bytes
    }

    /// Bytes of the bf16 copy of a convolution's output gradient that the input gradient can keep
    /// for the weight gradient (0 when the two passes want different layouts for this shape).
    static func gradientCopyBytes(_ shape: ConvShape) -> Int {
        var s = shape.c
        var bytes = 0
        _ = check(t2v_dnnl_conv_gradient_copy_bytes(&s, &bytes), "convolution", shape)
        return bytes
    }

    /// y = conv(x, w) + b over `shape.images` images; x's bf16 copy is left in `sourceCopy`
    /// (`sourceCopyBytes` bytes) when given.
    static func convForward(_ shape: ConvShape, x: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                            bias: UnsafePointer<Float>?, into y: UnsafeMutablePointer<Float>,
                            keepingSourceIn sourceCopy: UnsafeMutableRawPointer? = nil) -> Status {
        var s = shape.c
        return check(t2v_dnnl_conv_forward(&s, x, weight, bias, y, sourceCopy), "convolution", shape)
    }

    /// dx = the input gradient of dy (overwritten); dy's bf16 copy is left in `gradientCopy`
    /// (`gradientCopyBytes` bytes) when given.
    static func convBackwardData(_ shape: ConvShape, gradient dy: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                 into dx: UnsafeMutablePointer<Float>,
                                 keepingGradientIn gradientCopy: UnsafeMutableRawPointer? = nil) -> Status {
        var s = shape.c
        return check(t2v_dnnl_conv_backward_data(&s, dy, weight, dx, gradientCopy), "convolution input gradient", shape)
    }

    /// dw = the weight gradient of dy summed over the images (overwritten), reading the kept bf16
    /// copies of x and dy where given (nil: converted from `x` or `dy`).
    static func convBackwardWeights(_ shape: ConvShape, x: UnsafePointer<Float>, sourceCopy: UnsafeRawPointer? = nil,
                                    gradient dy: UnsafePointer<Float>, gradientCopy: UnsafeRawPointer? = nil,
                                    into dw: UnsafeMutablePointer<Float>) -> Status {
        var s = shape.c
        return check(t2v_dnnl_conv_backward_weights(&s, x, sourceCopy, dy, gradientCopy, dw), "convolution weight gradient", shape)
    }

    /// C = op(A) · op(B) + beta · C with bf16 inputs and fp32 accumulation (`BLAS.sgemm`'s
    /// row-major contract, alpha 1, beta 0 or 1).
    static func matmul(transA: Bool, transB: Bool, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
                       b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) -> Status {
        let rc = t2v_dnnl_matmul(Int32(m), Int32(n), Int32(k), transA ? 1 : 0, transB ? 1 : 0, a, Int32(lda), b, Int32(ldb),
                                 beta, c, Int32(ldc))
        return check(rc, "matmul", "\(m)x\(k) · \(k)x\(n)")
    }

    /// A failed call (out of memory, a descriptor oneDNN rejects) is a broken invariant, not a
    /// shape to skip: it stops with oneDNN's message rather than computing something else.
    private static func check(_ rc: Int32, _ what: String, _ shape: Any) -> Status {
        switch Int(rc) {
        case T2V_DNNL_OK: return .done
        case T2V_DNNL_UNSUPPORTED: return .unsupported
        default:
            fatalError("bf16 \(what) \(shape): \(String(cString: t2v_dnnl_last_error())); "
                       + "run with T2V_PRECISION=fp32 to use the fp32 kernels")
        }
    }
}
