// bf16 convolutions through oneDNN (Debian's libdnnl 2.6): fp32 tensors in plain NCHW/OIHW
// layout in and out, bf16 inputs and fp32 accumulation inside, as PyTorch's CPU autocast does.
// Each calling thread owns its primitives (built once per shape and kept) and runs them on one
// OpenMP thread, so the caller's own thread pool decides the parallelism.
#ifndef T2V_DNNL_H
#define T2V_DNNL_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Geometry of one convolution call: `n` images of `cin`×`h`×`w`, `cout`×`cin`×`kh`×`kw`
/// weights, the same stride and zero padding on every side.
typedef struct {
    int n, cin, h, w, cout, kh, kw, stride, padding;
} t2v_conv_shape;

/// Results of the calls below.
enum {
    T2V_DNNL_OK = 0,
    /// oneDNN has no bf16 kernel for this shape on this CPU (only its reference code would
    /// run); the caller keeps its fp32 path for it.
    T2V_DNNL_UNSUPPORTED = 1,
    /// oneDNN failed (out of memory, bad descriptor); `t2v_dnnl_last_error` says where.
    T2V_DNNL_FAILED = 2,
};

/// 1 when this CPU has AVX512_BF16 (and the OS saves AVX-512 state), else 0.
int t2v_dnnl_cpu_has_bf16(void);

/// The oneDNN version, "major.minor.patch".
const char *t2v_dnnl_version(void);

/// A convolution's passes can share their bf16 copies, so each activation is converted once: the
/// forward keeps its source's copy for the weight gradient, and the input gradient keeps the
/// output gradient's copy for the weight gradient. Each copy pointer may be NULL (no copy kept,
/// or none to read: the pass converts from the fp32 tensor).

/// Bytes of the source copy the forward can keep for the weight gradient; 0 when the two passes
/// want different layouts for this shape (then no copy is kept).
int t2v_dnnl_conv_source_copy_bytes(const t2v_conv_shape *s, int has_bias, size_t *bytes);

/// Bytes of the output-gradient copy the input gradient can keep for the weight gradient; 0 when
/// the two passes want different layouts.
int t2v_dnnl_conv_gradient_copy_bytes(const t2v_conv_shape *s, size_t *bytes);

/// y = conv(x, w) + b. `b` may be NULL. y: [n, cout, hout, wout], overwritten. `x_copy`: where
/// to leave x's bf16 copy (`t2v_dnnl_conv_source_copy_bytes` bytes, 64-byte aligned), or NULL.
int t2v_dnnl_conv_forward(const t2v_conv_shape *s, const float *x, const float *w, const float *b, float *y,
                          void *x_copy);

/// dx = conv_backward_data(dy, w), overwritten. dy: [n, cout, hout, wout], dx: [n, cin, h, w].
/// `dy_copy`: where to leave dy's bf16 copy (`t2v_dnnl_conv_gradient_copy_bytes` bytes), or NULL.
int t2v_dnnl_conv_backward_data(const t2v_conv_shape *s, const float *dy, const float *w, float *dx, void *dy_copy);

/// dw = conv_backward_weights(x, dy) summed over the n images, overwritten. dw: [cout, cin, kh, kw].
/// `x_copy` / `dy_copy`: the copies the forward and the input gradient kept, read instead of
/// converting `x` / `dy`; NULL converts.
int t2v_dnnl_conv_backward_weights(const t2v_conv_shape *s, const float *x, const void *x_copy, const float *dy,
                                   const void *dy_copy, float *dw);

/// C = op(A) · op(B) + beta · C in bf16 inputs with fp32 accumulation; row-major, op(X) = X or
/// Xᵀ (A is m×k, stored k×m when `trans_a`; B is k×n, stored n×k when `trans_b`); beta is 0 or 1.
int t2v_dnnl_matmul(int m, int n, int k, int trans_a, int trans_b, const float *a, int lda, const float *b, int ldb,
                    float beta, float *c, int ldc);

/// The implementation oneDNN chose for the last successful call on this thread ("jit_bf16:..."),
/// or "" before any.
const char *t2v_dnnl_last_implementation(void);

/// What failed in the last call on this thread that returned T2V_DNNL_FAILED.
const char *t2v_dnnl_last_error(void);

#ifdef __cplusplus
}
#endif

#endif
