// Debian's OpenBLAS CBLAS interface (libopenblas-dev, pkg-config openblas), plus a few
// AVX-512 vector kernels for the tensor engine (compiled by Clang from this header; Swift code
// alone is compiled for baseline x86-64/SSE2). Callers must check for AVX-512F first; only
// Generator/Tensor/BLAS.swift uses this module.
#ifndef CBLAS_SHIM_H
#define CBLAS_SHIM_H
#include <cblas.h>
#include <malloc.h>
#include <math.h>
#include <unistd.h>

// A spin-wait hint for the tensor engine's worker pool (Generator/Tensor/Parallel.swift).
static inline void t2v_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

// glibc heap tuning for large, short-lived tensor buffers (see TensorStorage). Returns 1 when
// glibc accepted both settings. 32 MiB is HEAP_MAX_SIZE / 2 on 64-bit, the largest mmap
// threshold every glibc accepts; every buffer up to it comes from the heap and is reused.
static inline int t2v_keep_freed_heap_memory(void) {
    int ok = mallopt(M_MMAP_THRESHOLD, 32 << 20);
    ok &= mallopt(M_TRIM_THRESHOLD, 1 << 30);
    // One arena per core at most: every arena keeps its freed buffers (the trim threshold above),
    // and worker threads that come and go would otherwise each start one (up to 8 per core).
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    ok &= mallopt(M_ARENA_MAX, cores > 0 ? (int)cores : 1);
    return ok;
}

#if defined(__x86_64__)
#define T2V_HAVE_AVX512_KERNELS 1
typedef float t2v_f32x16 __attribute__((vector_size(64), aligned(4)));
typedef int t2v_i32x16 __attribute__((vector_size(64), aligned(4)));

#define T2V_AVX512 __attribute__((target("avx512f,avx512dq,fma")))

// e^x for 16 lanes: Cody-Waite reduction and the Cephes expf polynomial (about 1 ulp);
// inputs clamped to [-87.3, 88.7]. Same formula as FastMath.exp in Swift.
static inline T2V_AVX512 t2v_f32x16 t2v_exp16(t2v_f32x16 x) {
    const t2v_f32x16 zero = {0};
    x = __builtin_elementwise_min(__builtin_elementwise_max(x, zero - 87.3f), zero + 88.7f);
    t2v_f32x16 t = x * 1.44269504088896341f + 12582912.0f;
    t2v_f32x16 n = t - 12582912.0f;
    t2v_f32x16 r = x - n * 0.693359375f + n * 2.12194440e-4f;
    t2v_f32x16 p = zero + 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    t2v_f32x16 er = p * r * r + r + 1.0f;
    t2v_i32x16 bits = ((t2v_i32x16)t - 0x4B400000 + 127) << 23;
    return er * (t2v_f32x16)bits;
}

// p[i] = e^(p[i] - shift) for i < n; returns the sum of the new values.
static inline T2V_AVX512 float t2v_exp_shift_sum_avx512(float *p, long n, float shift) {
    t2v_f32x16 acc = {0};
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        t2v_f32x16 e = t2v_exp16(*(t2v_f32x16 *)(p + i) - shift);
        *(t2v_f32x16 *)(p + i) = e;
        acc += e;
    }
    if (i < n) {
        t2v_f32x16 tail = {0};
        for (long j = 0; j < n - i; j++) tail[j] = p[i + j] - shift;
        t2v_f32x16 e = t2v_exp16(tail);
        for (long j = 0; j < n - i; j++) { p[i + j] = e[j]; acc[j] += e[j]; }
    }
    float s = 0;
    for (int j = 0; j < 16; j++) s += acc[j];
    return s;
}

// Maximum of n floats (-inf for n = 0).
static inline T2V_AVX512 float t2v_max_avx512(const float *p, long n) {
    const t2v_f32x16 zero = {0};
    t2v_f32x16 acc = zero - __builtin_inff();
    long i = 0;
    for (; i + 16 <= n; i += 16) acc = __builtin_elementwise_max(acc, *(const t2v_f32x16 *)(p + i));
    float m = -__builtin_inff();
    for (int j = 0; j < 16; j++) m = acc[j] > m ? acc[j] : m;
    for (; i < n; i++) m = p[i] > m ? p[i] : m;
    return m;
}

// y[i] = x[i] * sigmoid(x[i]) (SiLU).
static inline T2V_AVX512 void t2v_silu_avx512(const float *x, float *y, long n) {
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        t2v_f32x16 v = *(const t2v_f32x16 *)(x + i);
        *(t2v_f32x16 *)(y + i) = v / (1.0f + t2v_exp16(-v));
    }
    for (; i < n; i++) {
        t2v_f32x16 v = {0};
        v[0] = x[i];
        y[i] = x[i] / (1.0f + t2v_exp16(-v)[0]);
    }
}

// gx[i] = g[i] * d/dx SiLU(x[i]) = g * (s + x s (1 - s)), s = sigmoid(x).
static inline T2V_AVX512 void t2v_silu_backward_avx512(const float *x, const float *g, float *gx, long n) {
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        t2v_f32x16 v = *(const t2v_f32x16 *)(x + i);
        t2v_f32x16 sg = 1.0f / (1.0f + t2v_exp16(-v));
        *(t2v_f32x16 *)(gx + i) = *(const t2v_f32x16 *)(g + i) * (sg + v * sg * (1.0f - sg));
    }
    for (; i < n; i++) {
        t2v_f32x16 v = {0};
        v[0] = -x[i];
        float sg = 1.0f / (1.0f + t2v_exp16(v)[0]);
        gx[i] = g[i] * (sg + x[i] * sg * (1.0f - sg));
    }
}
// erf(x) for 16 lanes, Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7); the same formula
// as FastMath.erf in Swift.
static inline T2V_AVX512 t2v_f32x16 t2v_erf16(t2v_f32x16 x) {
    const t2v_f32x16 zero = {0};
    t2v_f32x16 ax = __builtin_elementwise_abs(x);
    t2v_f32x16 t = 1.0f / (1.0f + 0.3275911f * ax);
    t2v_f32x16 y = zero + 1.061405429f;
    y = y * t - 1.453152027f;
    y = y * t + 1.421413741f;
    y = y * t - 0.284496736f;
    y = y * t + 0.254829592f;
    t2v_f32x16 v = 1.0f - y * t * t2v_exp16(zero - ax * ax);
    return __builtin_elementwise_copysign(v, x);
}

// Loads n < 16 floats into the low lanes (zeros above).
static inline T2V_AVX512 t2v_f32x16 t2v_load_tail(const float *p, long n) {
    t2v_f32x16 v = {0};
    for (long j = 0; j < n; j++) v[j] = p[j];
    return v;
}

// y[i] = x[i] * Phi(x[i]) = 0.5 x (1 + erf(x / sqrt 2)) (GELU, erf form).
static inline T2V_AVX512 t2v_f32x16 t2v_gelu16(t2v_f32x16 v) {
    return 0.5f * v * (1.0f + t2v_erf16(v * 0.70710678118654752f));
}
static inline T2V_AVX512 void t2v_gelu_avx512(const float *x, float *y, long n) {
    long i = 0;
    for (; i + 16 <= n; i += 16) *(t2v_f32x16 *)(y + i) = t2v_gelu16(*(const t2v_f32x16 *)(x + i));
    if (i < n) {
        t2v_f32x16 r = t2v_gelu16(t2v_load_tail(x + i, n - i));
        for (long j = 0; j < n - i; j++) y[i + j] = r[j];
    }
}

// gx[i] = g[i] * GELU'(x[i]) = g * (Phi(x) + x phi(x)).
static inline T2V_AVX512 t2v_f32x16 t2v_gelu_grad16(t2v_f32x16 v) {
    const t2v_f32x16 zero = {0};
    t2v_f32x16 cdf = 0.5f * (1.0f + t2v_erf16(v * 0.70710678118654752f));
    t2v_f32x16 pdf = 0.39894228040143268f * t2v_exp16(zero - 0.5f * v * v);
    return cdf + v * pdf;
}
static inline T2V_AVX512 void t2v_gelu_backward_avx512(const float *x, const float *g, float *gx, long n) {
    long i = 0;
    for (; i + 16 <= n; i += 16)
        *(t2v_f32x16 *)(gx + i) = *(const t2v_f32x16 *)(g + i) * t2v_gelu_grad16(*(const t2v_f32x16 *)(x + i));
    if (i < n) {
        t2v_f32x16 r = t2v_gelu_grad16(t2v_load_tail(x + i, n - i));
        for (long j = 0; j < n - i; j++) gx[i + j] = g[i + j] * r[j];
    }
}
// The additive score terms of key j for queries i0 .. i0 + nq - 1 (lanes beyond nq get 0):
// bias + mask at their strides, -inf for keys after the query when causal_first >= 0.
static inline T2V_AVX512 t2v_f32x16 t2v_attention_additive16(
    long i0, long nq, long j, const float *bias, long bias_rs, long bias_cs,
    const float *mask, long mask_rs, long mask_cs, long causal_first) {
    float add[16] __attribute__((aligned(64)));
    for (long l = 0; l < 16; l++) {
        float a = 0;
        if (l < nq) {
            const long i = i0 + l;
            if (bias) a += bias[i * bias_rs + j * bias_cs];
            if (mask) a += mask[i * mask_rs + j * mask_cs];
            if (causal_first >= 0 && j > causal_first + i) a = -__builtin_inff();
        }
        add[l] = a;
    }
    return *(const t2v_f32x16 *)add;
}

// Scaled dot-product attention of one sequence with few keys (the temporal attention over 16
// frames, spatial attention over an 8x8 map), 16 queries at a time with one query per lane:
// the scores are held key by key as vectors over queries, so the softmax over keys is lane-wise
// (no horizontal reductions) and each output column is lk FMAs.
//   q [lq, d] (row stride ldq), k [lk, d] (ldk), v [lk, dv] (ldv), out [lq, dv] (ldo);
//   bias / mask (either may be NULL): additive terms at p[i * rs + j * cs] for query i, key j;
//   causal_first >= 0: keys j > causal_first + i are dropped (causal_first: the absolute index
//   of query row 0), -1: not causal;
//   lse (may be NULL): per query, max + log(sum) of the scores, +inf when every key is dropped
//   (those rows get zeros);
//   scratch: (d + lk + dv) * 16 floats.
// Scores of -inf get weight exactly 0.
static inline T2V_AVX512 void t2v_attention_small_avx512(
    const float *q, long ldq, const float *k, long ldk, const float *v, long ldv,
    long lq, long lk, long d, long dv, float scale,
    const float *bias, long bias_rs, long bias_cs, const float *mask, long mask_rs, long mask_cs,
    long causal_first, float *out, long ldo, float *lse, float *scratch) {
    const t2v_f32x16 zero = {0};
    const float ninf = -__builtin_inff();
    float *qs = scratch, *ss = scratch + 16 * d, *os = ss + 16 * lk;
    t2v_f32x16 *qt = (t2v_f32x16 *)qs, *st = (t2v_f32x16 *)ss, *ot = (t2v_f32x16 *)os;
    const int additive = bias != 0 || mask != 0 || causal_first >= 0;
    for (long i0 = 0; i0 < lq; i0 += 16) {
        const long nq = lq - i0 < 16 ? lq - i0 : 16;
        for (long p = 0; p < d; p++)
            for (long l = 0; l < 16; l++) qs[p * 16 + l] = l < nq ? q[(i0 + l) * ldq + p] : 0.0f;
        t2v_f32x16 mx = zero + ninf;
        for (long j = 0; j < lk; j++) {
            const float *kj = k + j * ldk;
            t2v_f32x16 s = zero;
            for (long p = 0; p < d; p++) s += qt[p] * kj[p];
            s *= scale;
            if (additive) s += t2v_attention_additive16(i0, nq, j, bias, bias_rs, bias_cs, mask, mask_rs, mask_cs, causal_first);
            st[j] = s;
            mx = __builtin_elementwise_max(mx, s);
        }
        // Queries whose every key is dropped: shift 0, all weights 0, output 0.
        const t2v_i32x16 dead = mx == zero + ninf;
        const t2v_f32x16 shift = (t2v_f32x16)((t2v_i32x16)mx & ~dead);
        t2v_f32x16 sum = zero;
        for (long j = 0; j < lk; j++) {
            const t2v_i32x16 dropped = st[j] == zero + ninf;
            const t2v_f32x16 e = (t2v_f32x16)((t2v_i32x16)t2v_exp16(st[j] - shift) & ~dropped);
            st[j] = e;
            sum += e;
        }
        const t2v_f32x16 inv = (t2v_f32x16)((t2v_i32x16)(1.0f / sum) & (sum > zero));
        for (long t = 0; t < dv; t++) {
            t2v_f32x16 acc = zero;
            for (long j = 0; j < lk; j++) acc += st[j] * v[j * ldv + t];
            ot[t] = acc * inv;
        }
        for (long l = 0; l < nq; l++)
            for (long t = 0; t < dv; t++) out[(i0 + l) * ldo + t] = os[t * 16 + l];
        if (lse)
            for (long l = 0; l < nq; l++) lse[i0 + l] = dead[l] ? __builtin_inff() : mx[l] + logf(sum[l]);
    }
}
// The backward pass of t2v_attention_small_avx512 for one sequence, from the forward's row
// log-sum-exps: P = exp(S - lse), dV += P^T dO, dP = dO V^T, dS = P * (dP - rowsum(dO * O)),
// dQ = scale dS K (written), dK += scale dS^T Q, dBias += dS (accumulated at the bias's own
// strides, so a bias broadcast over queries sums over them). Lanes are queries, as forward;
// dK and dV accumulate 16 keys at a time (lanes over keys, no horizontal reductions).
//   o, go: the forward output and its gradient, row stride ldo; lse: per query (from forward);
//   gk, gv, gbias (may be NULL): accumulated; gq: written;
//   scratch: (3 d + 3 dv + 2 lk + 32) * 16 floats, 64-byte aligned.
static inline T2V_AVX512 void t2v_attention_small_backward_avx512(
    const float *q, long ldq, const float *k, long ldk, const float *v, long ldv,
    const float *o, const float *go, long ldo, const float *lse,
    long lq, long lk, long d, long dv, float scale,
    const float *bias, long bias_rs, long bias_cs, const float *mask, long mask_rs, long mask_cs,
    long causal_first, float *gq, float *gk, float *gv, float *gbias, float *scratch) {
    const t2v_f32x16 zero = {0};
    const float ninf = -__builtin_inff(), pinf = __builtin_inff();
    float *qs = scratch, *gos = qs + 16 * d, *oss = gos + 16 * dv, *gqs = oss + 16 * dv;
    float *ps = gqs + 16 * d, *dss = ps + 16 * lk;
    float *prs = dss + 16 * lk, *drs = prs + 256, *gvs = drs + 256, *gks = gvs + 16 * dv;
    t2v_f32x16 *qt = (t2v_f32x16 *)qs, *got = (t2v_f32x16 *)gos, *ot = (t2v_f32x16 *)oss, *gqt = (t2v_f32x16 *)gqs;
    t2v_f32x16 *pt = (t2v_f32x16 *)ps, *dst = (t2v_f32x16 *)dss;
    t2v_f32x16 *prt = (t2v_f32x16 *)prs, *drt = (t2v_f32x16 *)drs, *gvt = (t2v_f32x16 *)gvs, *gkt = (t2v_f32x16 *)gks;
    const int additive = bias != 0 || mask != 0 || causal_first >= 0;
    for (long i0 = 0; i0 < lq; i0 += 16) {
        const long nq = lq - i0 < 16 ? lq - i0 : 16;
        for (long p = 0; p < d; p++) {
            for (long l = 0; l < 16; l++) qs[p * 16 + l] = l < nq ? q[(i0 + l) * ldq + p] : 0.0f;
            gqt[p] = zero;
        }
        for (long t = 0; t < dv; t++)
            for (long l = 0; l < 16; l++) {
                gos[t * 16 + l] = l < nq ? go[(i0 + l) * ldo + t] : 0.0f;
                oss[t * 16 + l] = l < nq ? o[(i0 + l) * ldo + t] : 0.0f;
            }
        float lses[16] __attribute__((aligned(64)));
        for (long l = 0; l < 16; l++) lses[l] = l < nq ? lse[i0 + l] : pinf;
        const t2v_f32x16 lv = *(const t2v_f32x16 *)lses;
        const t2v_i32x16 dead = lv == zero + pinf;
        const t2v_f32x16 lshift = (t2v_f32x16)((t2v_i32x16)lv & ~dead);
        t2v_f32x16 rowdot = zero;
        for (long t = 0; t < dv; t++) rowdot += got[t] * ot[t];
        for (long j = 0; j < lk; j++) {
            const float *kj = k + j * ldk, *vj = v + j * ldv;
            t2v_f32x16 s = zero;
            for (long p = 0; p < d; p++) s += qt[p] * kj[p];
            s *= scale;
            if (additive) s += t2v_attention_additive16(i0, nq, j, bias, bias_rs, bias_cs, mask, mask_rs, mask_cs, causal_first);
            const t2v_i32x16 dropped = (s == zero + ninf) | dead;
            const t2v_f32x16 pr = (t2v_f32x16)((t2v_i32x16)t2v_exp16(s - lshift) & ~dropped);
            t2v_f32x16 dp = zero;
            for (long t = 0; t < dv; t++) dp += got[t] * vj[t];
            const t2v_f32x16 ds = pr * (dp - rowdot);
            pt[j] = pr;
            dst[j] = ds;
            for (long p = 0; p < d; p++) gqt[p] += ds * (scale * kj[p]);
            if (gbias)
                for (long l = 0; l < nq; l++) gbias[(i0 + l) * bias_rs + j * bias_cs] += dss[j * 16 + l];
        }
        // dV += P^T dO and dK += scale dS^T Q, 16 keys at a time with lanes over keys: the
        // block's P and dS are transposed into rows per query, each query row then adds
        // P[l, keys] * dO[l, t] to dV's column t (one FMA per t), and the block's sums go back
        // to dV / dK rows once.
        for (long j0 = 0; j0 < lk; j0 += 16) {
            const long nk = lk - j0 < 16 ? lk - j0 : 16;
            for (long l = 0; l < nq; l++)
                for (long jj = 0; jj < 16; jj++) {
                    prs[l * 16 + jj] = jj < nk ? ps[(j0 + jj) * 16 + l] : 0.0f;
                    drs[l * 16 + jj] = jj < nk ? scale * dss[(j0 + jj) * 16 + l] : 0.0f;
                }
            for (long t = 0; t < dv; t++) gvt[t] = zero;
            for (long p = 0; p < d; p++) gkt[p] = zero;
            for (long l = 0; l < nq; l++) {
                const t2v_f32x16 pl = prt[l], dl = drt[l];
                const float *gol = go + (i0 + l) * ldo, *ql = q + (i0 + l) * ldq;
                for (long t = 0; t < dv; t++) gvt[t] += pl * gol[t];
                for (long p = 0; p < d; p++) gkt[p] += dl * ql[p];
            }
            for (long jj = 0; jj < nk; jj++) {
                float *gvj = gv + (j0 + jj) * ldv, *gkj = gk + (j0 + jj) * ldk;
                for (long t = 0; t < dv; t++) gvj[t] += gvs[t * 16 + jj];
                for (long p = 0; p < d; p++) gkj[p] += gks[p * 16 + jj];
            }
        }
        for (long l = 0; l < nq; l++)
            for (long p = 0; p < d; p++) gq[(i0 + l) * ldq + p] = gqs[p * 16 + l];
    }
}
// Layer-norm backward over `rows` rows of width d, in one pass. With x̂ = (x − mean)·rstd
// (`stats` holds (mean, rstd) per row) and ĝ = g·w (w NULL: ones):
//   gx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂))   (when gx is not NULL),
//   gw += Σ_rows g·x̂ and gb += Σ_rows g      (when not NULL; rows added in order).
static inline T2V_AVX512 void t2v_layernorm_backward_avx512(
    const float *g, const float *x, const float *stats, const float *w, long rows, long d,
    float *gx, float *gw, float *gb) {
    const t2v_f32x16 zero = {0};
    for (long r = 0; r < rows; r++) {
        const float *gr = g + r * d, *xr = x + r * d;
        const float mean = stats[2 * r], rstd = stats[2 * r + 1];
        float s1 = 0, s2 = 0;
        if (gx) {
            t2v_f32x16 a1 = zero, a2 = zero;
            long i = 0;
            for (; i + 16 <= d; i += 16) {
                t2v_f32x16 gv = *(const t2v_f32x16 *)(gr + i), xv = *(const t2v_f32x16 *)(xr + i);
                t2v_f32x16 gh = w ? gv * *(const t2v_f32x16 *)(w + i) : gv;
                a1 += gh;
                a2 += gh * ((xv - mean) * rstd);
            }
            for (long j = 0; j < 16; j++) { s1 += a1[j]; s2 += a2[j]; }
            for (; i < d; i++) {
                float gh = w ? gr[i] * w[i] : gr[i];
                s1 += gh;
                s2 += gh * ((xr[i] - mean) * rstd);
            }
            s1 /= (float)d;
            s2 /= (float)d;
            float *o = gx + r * d;
            for (i = 0; i + 16 <= d; i += 16) {
                t2v_f32x16 gv = *(const t2v_f32x16 *)(gr + i), xv = *(const t2v_f32x16 *)(xr + i);
                t2v_f32x16 gh = w ? gv * *(const t2v_f32x16 *)(w + i) : gv;
                *(t2v_f32x16 *)(o + i) = rstd * (gh - s1 - ((xv - mean) * rstd) * s2);
            }
            for (; i < d; i++) {
                float gh = w ? gr[i] * w[i] : gr[i];
                o[i] = rstd * (gh - s1 - ((xr[i] - mean) * rstd) * s2);
            }
        }
        if (gw || gb) {
            long i = 0;
            for (; i + 16 <= d; i += 16) {
                t2v_f32x16 gv = *(const t2v_f32x16 *)(gr + i), xv = *(const t2v_f32x16 *)(xr + i);
                if (gw) *(t2v_f32x16 *)(gw + i) += gv * ((xv - mean) * rstd);
                if (gb) *(t2v_f32x16 *)(gb + i) += gv;
            }
            for (; i < d; i++) {
                if (gw) gw[i] += gr[i] * ((xr[i] - mean) * rstd);
                if (gb) gb[i] += gr[i];
            }
        }
    }
}
// s in all 16 lanes (one vbroadcastss; `zero + s` would add a vaddss, since −0 + 0 ≠ −0).
static inline __attribute__((always_inline)) T2V_AVX512 t2v_f32x16 t2v_splat16(float s) {
    return (t2v_f32x16){s, s, s, s, s, s, s, s, s, s, s, s, s, s, s, s};
}

// ---- Direct stride-1 convolution over a zero-padded image (ShiftedConv's layout) ----
// Xp holds cin channels of one padded image, channel c at xp + c·cs; an output column j (in
// padded-width coordinates) of tap t reads xp[c·cs + off[t] + j].

// One 8-row × (16·NV)-column tile of Y' = Σ_t Σ_c W[t][o][c] · Xp[c, off[t] + j]; accumulates
// over every tap and channel in registers and stores the tile once.
static inline __attribute__((always_inline)) T2V_AVX512 void t2v_conv_tile_8xnv(
    const float *xp, long cs, long cin, const float *wb, const long *off, long taps, float *y, long ldy,
    const int nv) {
    const t2v_f32x16 zero = {0};
    t2v_f32x16 acc[8][2];
#pragma clang loop unroll(full)
    for (int r = 0; r < 8; r++) {
#pragma clang loop unroll(full)
        for (int v = 0; v < 2; v++) acc[r][v] = zero;
    }
    for (long t = 0; t < taps; t++) {
        const float *xt = xp + off[t];
        const float *wt = wb + t * cin * 8;
        for (long c = 0; c < cin; c++) {
            const float *xc = xt + c * cs;
            const float *w = wt + c * 8;
            t2v_f32x16 x0 = *(const t2v_f32x16 *)xc;
            t2v_f32x16 x1 = nv > 1 ? *(const t2v_f32x16 *)(xc + 16) : zero;
#pragma clang loop unroll(full)
            for (int r = 0; r < 8; r++) {
                t2v_f32x16 b = t2v_splat16(w[r]);
                acc[r][0] = __builtin_elementwise_fma(b, x0, acc[r][0]);
                if (nv > 1) acc[r][1] = __builtin_elementwise_fma(b, x1, acc[r][1]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < 8; r++) {
        *(t2v_f32x16 *)(y + r * ldy) = acc[r][0];
        if (nv > 1) *(t2v_f32x16 *)(y + r * ldy + 16) = acc[r][1];
    }
}

// Y'[o, j] = Σ_t Σ_c W[t][o][c] · xp[c·cs + off[t] + j] for o < cout (a multiple of 8) and
// j < ncols (a multiple of 16), into y (row stride ldy). wpk is the weight packed
// [cout/8][taps][cin][8]. Reads xp up to index (cin−1)·cs + off[taps−1] + ncols − 1.
// Column blocks of 32 outside, output-channel blocks inside: a block's input columns stay in
// L1 across all blocks of output channels.
static inline T2V_AVX512 void t2v_conv_direct_avx512(
    const float *xp, long cs, long cin, const float *wpk, long cout, const long *off, long taps,
    float *y, long ldy, long ncols) {
    for (long j0 = 0; j0 < ncols; j0 += 32) {
        const int two = j0 + 32 <= ncols;
        for (long ob = 0; ob < cout / 8; ob++) {
            const float *wb = wpk + ob * taps * cin * 8;
            float *yb = y + ob * 8 * ldy + j0;
            if (two) t2v_conv_tile_8xnv(xp + j0, cs, cin, wb, off, taps, yb, ldy, 2);
            else t2v_conv_tile_8xnv(xp + j0, cs, cin, wb, off, taps, yb, ldy, 1);
        }
    }
}

// One 4-row × (16·NV)-column tile of the weight gradient of tap `off`, over columns [j0, j1):
// gw[o][c] += Σ_j g[o·ldg + j] · xt[(j + off)·ldx + c].
static inline __attribute__((always_inline)) T2V_AVX512 void t2v_conv_wgrad_tile(
    const float *g, long ldg, const float *xt, long ldx, long off, long j0, long j1, float *gw, long ldw,
    const int nv) {
    const t2v_f32x16 zero = {0};
    t2v_f32x16 acc[4][4];
#pragma clang loop unroll(full)
    for (int r = 0; r < 4; r++) {
#pragma clang loop unroll(full)
        for (int v = 0; v < 4; v++) if (v < nv) acc[r][v] = *(const t2v_f32x16 *)(gw + r * ldw + 16 * v);
    }
    for (long j = j0; j < j1; j++) {
        const float *xr = xt + (j + off) * ldx;
        t2v_f32x16 x[4];
#pragma clang loop unroll(full)
        for (int v = 0; v < 4; v++) if (v < nv) x[v] = *(const t2v_f32x16 *)(xr + 16 * v);
#pragma clang loop unroll(full)
        for (int r = 0; r < 4; r++) {
            const float s = g[r * ldg + j];
#pragma clang loop unroll(full)
            for (int v = 0; v < 4; v++) if (v < nv) acc[r][v] = __builtin_elementwise_fma(t2v_splat16(s), x[v], acc[r][v]);
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < 4; r++) {
#pragma clang loop unroll(full)
        for (int v = 0; v < 4; v++) if (v < nv) *(t2v_f32x16 *)(gw + r * ldw + 16 * v) = acc[r][v];
    }
}

// Weight gradient of a direct convolution, tap-major: for every tap t, output channel o < cout
// (a multiple of 4) and input channel c < cin (a multiple of 16),
//   gw[t·ldt + o·cin + c] += Σ_{j < ncols} g[o·ldg + j] · xt[(j + off[t])·cin + c],
// where xt is the padded image channel-last ([padded position][cin]) and g is dY' (zero in the
// garbage columns). Columns in blocks of 64 outside, so the block's rows of xt stay in L1
// across taps and tiles; the sums over j run in column order within each block, blocks in order.
static inline T2V_AVX512 void t2v_conv_wgrad_avx512(
    const float *g, long ldg, long cout, const float *xt, long cin, const long *off, long taps,
    float *gw, long ldt, long ncols) {
    for (long j0 = 0; j0 < ncols; j0 += 64) {
        const long j1 = j0 + 64 < ncols ? j0 + 64 : ncols;
        for (long c0 = 0; c0 < cin; c0 += 64) {
            const long nv = (cin - c0) / 16 < 4 ? (cin - c0) / 16 : 4;
            for (long o0 = 0; o0 < cout; o0 += 4) {
                for (long t = 0; t < taps; t++) {
                    float *w = gw + t * ldt + o0 * cin + c0;
                    const float *gr = g + o0 * ldg;
                    switch (nv) {
                    case 4: t2v_conv_wgrad_tile(gr, ldg, xt + c0, cin, off[t], j0, j1, w, cin, 4); break;
                    case 3: t2v_conv_wgrad_tile(gr, ldg, xt + c0, cin, off[t], j0, j1, w, cin, 3); break;
                    case 2: t2v_conv_wgrad_tile(gr, ldg, xt + c0, cin, off[t], j0, j1, w, cin, 2); break;
                    default: t2v_conv_wgrad_tile(gr, ldg, xt + c0, cin, off[t], j0, j1, w, cin, 1); break;
                    }
                }
            }
        }
    }
}
#endif
#endif
