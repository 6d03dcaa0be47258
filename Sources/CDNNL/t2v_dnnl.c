// bf16 convolutions through oneDNN's C API. See include/t2v_dnnl.h.
//
// Each convolution kind and shape gets one cache entry per thread: the primitive (its formats
// left to oneDNN, so the jit kernels get their blocked layouts), a reorder for each argument
// whose layout or type differs from the caller's plain fp32 tensor (fp32 -> bf16 rounds to
// nearest even), and the buffers between them. Threads never share an entry.
#define _GNU_SOURCE
#include "t2v_dnnl.h"

#include <cpuid.h>
#include <dlfcn.h>
#include <oneapi/dnnl/dnnl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { KIND_FORWARD = 0, KIND_BACKWARD_DATA = 1, KIND_BACKWARD_WEIGHTS = 2, KIND_MATMUL = 3 };
enum { MAX_BINDINGS = 4, CACHE_CAPACITY = 256 };

typedef struct {
    int arg;                   // DNNL_ARG_*
    int output;                // the primitive writes it: reordered into the caller's tensor after
    dnnl_memory_t user;        // caller's fp32 plain tensor; handle set per call
    dnnl_memory_t inner;       // the primitive's layout and type, or NULL when `user` serves
    dnnl_primitive_t reorder;  // user -> inner (inputs) or inner -> user (outputs)
    void *buffer;
} binding;

// What a matmul entry is keyed by (with kind KIND_MATMUL).
typedef struct {
    int m, n, k, trans_a, trans_b, lda, ldb, ldc, accumulate;
} matmul_shape;

typedef struct {
    int kind, has_bias;
    t2v_conv_shape shape;
    matmul_shape product;
    int supported;
    dnnl_primitive_t primitive;
    binding bindings[MAX_BINDINGS];
    int binding_count;
    dnnl_memory_t scratchpad;
    void *scratchpad_buffer;
    char implementation[128];
} entry;

static dnnl_engine_t engine;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static dnnl_status_t engine_status = dnnl_runtime_error;

static _Thread_local dnnl_stream_t stream;
static _Thread_local entry *cache[CACHE_CAPACITY];
static _Thread_local int cache_count;
static _Thread_local int single_threaded;
static _Thread_local char last_implementation[128];
static _Thread_local char last_error[256];

static void make_engine(void) { engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0); }

int t2v_dnnl_cpu_has_bf16(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(1, 0, &a, &b, &c, &d)) return 0;
    if (!(c & (1u << 27))) return 0;  // OSXSAVE
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 0xE6) != 0xE6) return 0;  // XMM, YMM, opmask, ZMM state enabled by the OS
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
    if (!(b & (1u << 16)) || !(b & (1u << 30))) return 0;  // AVX512F, AVX512BW
    if (a < 1) return 0;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
    return (a >> 5) & 1;  // AVX512_BF16
}

const char *t2v_dnnl_version(void) {
    static char text[32];
    const dnnl_version_t *v = dnnl_version();
    snprintf(text, sizeof text, "%d.%d.%d", v->major, v->minor, v->patch);
    return text;
}

const char *t2v_dnnl_last_implementation(void) { return last_implementation; }
const char *t2v_dnnl_last_error(void) { return last_error; }

static int fail(const char *what, dnnl_status_t status) {
    snprintf(last_error, sizeof last_error, "oneDNN %s failed (status %d)", what, (int)status);
    return T2V_DNNL_FAILED;
}

#define CHECK(call, what)                                   \
    do {                                                    \
        dnnl_status_t st_ = (call);                         \
        if (st_ != dnnl_success) return fail((what), st_);  \
    } while (0)

// oneDNN's OpenMP runtime would start a team of all cores in every call; the callers run one
// convolution per thread of their own pool, so each thread asks for a team of one.
static void use_one_openmp_thread(void) {
    if (single_threaded) return;
    void (*set_threads)(int) = (void (*)(int))dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    if (set_threads) set_threads(1);
    single_threaded = 1;
}

static int prepare_thread(void) {
    pthread_once(&engine_once, make_engine);
    if (engine_status != dnnl_success) return fail("engine creation", engine_status);
    use_one_openmp_thread();
    if (!stream) CHECK(dnnl_stream_create(&stream, engine, dnnl_stream_default_flags), "stream creation");
    return T2V_DNNL_OK;
}

static int output_size(int in, int k, int stride, int padding) { return (in + 2 * padding - k) / stride + 1; }

static void plain_md(dnnl_memory_desc_t *md, int64_t d0, int64_t d1, int64_t d2, int64_t d3, dnnl_data_type_t type,
                     dnnl_format_tag_t tag) {
    dnnl_dims_t dims = {d0, d1, d2, d3};
    dnnl_memory_desc_init_by_tag(md, 4, dims, type, tag);
}

static void *aligned_buffer(size_t size) {
    size_t rounded = (size + 63) / 64 * 64;
    return aligned_alloc(64, rounded ? rounded : 64);
}

// Binds argument `arg` of `pd` (queried as `query`) to a caller tensor described by `user_md`.
static int bind(entry *e, const_dnnl_primitive_desc_t pd, int arg, dnnl_query_t query, int index,
                const dnnl_memory_desc_t *user_md, int output) {
    binding *b = &e->bindings[e->binding_count++];
    memset(b, 0, sizeof *b);
    b->arg = arg;
    b->output = output;
    CHECK(dnnl_memory_create(&b->user, user_md, engine, DNNL_MEMORY_NONE), "memory creation");
    const dnnl_memory_desc_t *inner_md = dnnl_primitive_desc_query_md(pd, query, index);
    if (dnnl_memory_desc_equal(inner_md, user_md)) return T2V_DNNL_OK;
    b->buffer = aligned_buffer(dnnl_memory_desc_get_size(inner_md));
    if (!b->buffer) return fail("buffer allocation", dnnl_out_of_memory);
    CHECK(dnnl_memory_create(&b->inner, inner_md, engine, b->buffer), "memory creation");
    dnnl_primitive_desc_t rpd;
    if (output) {
        CHECK(dnnl_reorder_primitive_desc_create(&rpd, inner_md, engine, user_md, engine, NULL), "reorder");
    } else {
        CHECK(dnnl_reorder_primitive_desc_create(&rpd, user_md, engine, inner_md, engine, NULL), "reorder");
    }
    dnnl_status_t st = dnnl_primitive_create(&b->reorder, rpd);
    dnnl_primitive_desc_destroy(rpd);
    CHECK(st, "reorder creation");
    return T2V_DNNL_OK;
}

// Keeps `pd`'s primitive in `e` with its argument bindings (the caller's plain fp32 tensors:
// x/src, w/weights, y/dst, b/bias) and scratchpad; destroys `pd`.
static int finish(entry *e, dnnl_primitive_desc_t pd, int kind, const dnnl_memory_desc_t *x_md,
                  const dnnl_memory_desc_t *w_md, const dnnl_memory_desc_t *y_md, const dnnl_memory_desc_t *b_md) {
    const char *impl = "";
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &impl);
    snprintf(e->implementation, sizeof e->implementation, "%s", impl);
    // The reference kernels are slower than the caller's fp32 path by orders of magnitude.
    if (strncmp(impl, "ref", 3) == 0) {
        dnnl_primitive_desc_destroy(pd);
        return T2V_DNNL_UNSUPPORTED;
    }

    int ok = T2V_DNNL_OK;
    switch (kind) {
    case KIND_MATMUL:
        if (!ok) ok = bind(e, pd, DNNL_ARG_SRC, dnnl_query_src_md, 0, x_md, 0);
        if (!ok) ok = bind(e, pd, DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0, w_md, 0);
        if (!ok) ok = bind(e, pd, DNNL_ARG_DST, dnnl_query_dst_md, 0, y_md, 0);
        break;
    case KIND_FORWARD:
        if (!ok) ok = bind(e, pd, DNNL_ARG_SRC, dnnl_query_src_md, 0, x_md, 0);
        if (!ok) ok = bind(e, pd, DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0, w_md, 0);
        if (!ok && e->has_bias) ok = bind(e, pd, DNNL_ARG_BIAS, dnnl_query_weights_md, 1, b_md, 0);
        if (!ok) ok = bind(e, pd, DNNL_ARG_DST, dnnl_query_dst_md, 0, y_md, 1);
        break;
    case KIND_BACKWARD_DATA:
        if (!ok) ok = bind(e, pd, DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0, y_md, 0);
        if (!ok) ok = bind(e, pd, DNNL_ARG_WEIGHTS, dnnl_query_weights_md, 0, w_md, 0);
        if (!ok) ok = bind(e, pd, DNNL_ARG_DIFF_SRC, dnnl_query_diff_src_md, 0, x_md, 1);
        break;
    default:
        if (!ok) ok = bind(e, pd, DNNL_ARG_SRC, dnnl_query_src_md, 0, x_md, 0);
        if (!ok) ok = bind(e, pd, DNNL_ARG_DIFF_DST, dnnl_query_diff_dst_md, 0, y_md, 0);
        if (!ok) ok = bind(e, pd, DNNL_ARG_DIFF_WEIGHTS, dnnl_query_diff_weights_md, 0, w_md, 1);
        break;
    }
    if (!ok) {
        const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
        size_t size = smd ? dnnl_memory_desc_get_size(smd) : 0;
        if (size > 0) {
            e->scratchpad_buffer = aligned_buffer(size);
            if (!e->scratchpad_buffer) ok = fail("scratchpad allocation", dnnl_out_of_memory);
            if (!ok) {
                dnnl_status_t st = dnnl_memory_create(&e->scratchpad, smd, engine, e->scratchpad_buffer);
                if (st != dnnl_success) ok = fail("scratchpad creation", st);
            }
        }
    }
    if (!ok) {
        dnnl_status_t st = dnnl_primitive_create(&e->primitive, pd);
        if (st != dnnl_success) ok = fail("primitive creation", st);
    }
    dnnl_primitive_desc_destroy(pd);
    return ok;
}

// The memory descriptors of a convolution's source, weights and destination, each of `type` and
// `tag` (dnnl_format_tag_any: the primitive's choice), and of its fp32 bias.
typedef struct {
    dnnl_memory_desc_t src, weights, dst, bias;
} conv_mds;

static conv_mds conv_descriptors(const t2v_conv_shape *s, dnnl_data_type_t src_type, dnnl_data_type_t weights_type,
                                 dnnl_data_type_t dst_type, dnnl_format_tag_t src_tag, dnnl_format_tag_t weights_tag) {
    int ho = output_size(s->h, s->kh, s->stride, s->padding), wo = output_size(s->w, s->kw, s->stride, s->padding);
    conv_mds d;
    plain_md(&d.src, s->n, s->cin, s->h, s->w, src_type, src_tag);
    plain_md(&d.weights, s->cout, s->cin, s->kh, s->kw, weights_type, weights_tag);
    plain_md(&d.dst, s->n, s->cout, ho, wo, dst_type, src_tag);
    dnnl_dims_t bias_dims = {s->cout};
    dnnl_memory_desc_init_by_tag(&d.bias, 1, bias_dims, dnnl_f32, dnnl_a);
    return d;
}

static int forward_pd(const t2v_conv_shape *s, int has_bias, const_dnnl_primitive_attr_t attr, dnnl_primitive_desc_t *pd) {
    conv_mds d = conv_descriptors(s, dnnl_bf16, dnnl_bf16, dnnl_f32, dnnl_format_tag_any, dnnl_format_tag_any);
    dnnl_dims_t strides = {s->stride, s->stride}, pads = {s->padding, s->padding};
    dnnl_convolution_desc_t desc;
    CHECK(dnnl_convolution_forward_desc_init(&desc, dnnl_forward_training, dnnl_convolution_direct, &d.src, &d.weights,
                                             has_bias ? &d.bias : NULL, &d.dst, strides, pads, pads),
          "convolution descriptor");
    dnnl_status_t st = dnnl_primitive_desc_create(pd, &desc, attr, engine, NULL);
    if (st == dnnl_unimplemented) return T2V_DNNL_UNSUPPORTED;
    CHECK(st, "forward convolution primitive descriptor");
    return T2V_DNNL_OK;
}

static int build(entry *e) {
    const t2v_conv_shape *s = &e->shape;
    // The caller's tensors: fp32, plain layouts.
    conv_mds user = conv_descriptors(s, dnnl_f32, dnnl_f32, dnnl_f32, dnnl_nchw, dnnl_oihw);

    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr), "attribute creation");
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);

    dnnl_primitive_desc_t hint = NULL, pd = NULL;
    int rc = forward_pd(s, e->kind == KIND_FORWARD && e->has_bias, attr, &hint);
    if (rc != T2V_DNNL_OK) {
        dnnl_primitive_attr_destroy(attr);
        return rc;
    }
    if (e->kind == KIND_FORWARD) {
        pd = hint;
        hint = NULL;
    } else {
        dnnl_dims_t strides = {s->stride, s->stride}, pads = {s->padding, s->padding};
        dnnl_convolution_desc_t desc;
        dnnl_status_t st;
        if (e->kind == KIND_BACKWARD_DATA) {
            conv_mds d = conv_descriptors(s, dnnl_f32, dnnl_bf16, dnnl_bf16, dnnl_format_tag_any, dnnl_format_tag_any);
            st = dnnl_convolution_backward_data_desc_init(&desc, dnnl_convolution_direct, &d.src, &d.weights, &d.dst,
                                                          strides, pads, pads);
        } else {
            conv_mds d = conv_descriptors(s, dnnl_bf16, dnnl_f32, dnnl_bf16, dnnl_format_tag_any, dnnl_format_tag_any);
            st = dnnl_convolution_backward_weights_desc_init(&desc, dnnl_convolution_direct, &d.src, &d.weights, NULL,
                                                             &d.dst, strides, pads, pads);
        }
        if (st == dnnl_success) st = dnnl_primitive_desc_create(&pd, &desc, attr, engine, hint);
        dnnl_primitive_desc_destroy(hint);
        if (st == dnnl_unimplemented) {
            dnnl_primitive_attr_destroy(attr);
            return T2V_DNNL_UNSUPPORTED;
        }
        if (st != dnnl_success) {
            dnnl_primitive_attr_destroy(attr);
            return fail("backward convolution primitive descriptor", st);
        }
    }
    dnnl_primitive_attr_destroy(attr);

    return finish(e, pd, e->kind, &user.src, &user.weights, &user.dst, &user.bias);
}

// A matmul: A and B rounded to bf16 (A into a dense copy in its own orientation, B into the
// layout the kernel prefers), C written in place in fp32, with a sum post-op when accumulating.
static int build_matmul(entry *e) {
    const matmul_shape *p = &e->product;
    dnnl_dims_t a_dims = {p->m, p->k}, b_dims = {p->k, p->n}, c_dims = {p->m, p->n};
    dnnl_dims_t a_strides = {p->trans_a ? 1 : p->lda, p->trans_a ? p->lda : 1};
    dnnl_dims_t b_strides = {p->trans_b ? 1 : p->ldb, p->trans_b ? p->ldb : 1};
    dnnl_dims_t c_strides = {p->ldc, 1};
    dnnl_memory_desc_t a_user, b_user, c_user, a_md, b_md, c_md;
    CHECK(dnnl_memory_desc_init_by_strides(&a_user, 2, a_dims, dnnl_f32, a_strides), "matmul descriptor");
    CHECK(dnnl_memory_desc_init_by_strides(&b_user, 2, b_dims, dnnl_f32, b_strides), "matmul descriptor");
    CHECK(dnnl_memory_desc_init_by_strides(&c_user, 2, c_dims, dnnl_f32, c_strides), "matmul descriptor");
    // A transposed A stays transposed in its bf16 copy: the kernel reads either, and a plain
    // conversion takes less than half the time of a transposing one (docs/precision.md).
    CHECK(dnnl_memory_desc_init_by_tag(&a_md, 2, a_dims, dnnl_bf16, p->trans_a ? dnnl_ba : dnnl_ab), "matmul descriptor");
    CHECK(dnnl_memory_desc_init_by_tag(&b_md, 2, b_dims, dnnl_bf16, dnnl_format_tag_any), "matmul descriptor");
    c_md = c_user;
    dnnl_matmul_desc_t desc;
    CHECK(dnnl_matmul_desc_init(&desc, &a_md, &b_md, NULL, &c_md), "matmul descriptor");
    dnnl_primitive_attr_t attr;
    CHECK(dnnl_primitive_attr_create(&attr), "attribute creation");
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (p->accumulate) {
        dnnl_post_ops_t ops;
        dnnl_post_ops_create(&ops);
        dnnl_post_ops_append_sum(ops, 1.0f);
        dnnl_primitive_attr_set_post_ops(attr, ops);
        dnnl_post_ops_destroy(ops);
    }
    dnnl_primitive_desc_t pd;
    dnnl_status_t st = dnnl_primitive_desc_create(&pd, &desc, attr, engine, NULL);
    dnnl_primitive_attr_destroy(attr);
    if (st == dnnl_unimplemented) return T2V_DNNL_UNSUPPORTED;
    CHECK(st, "matmul primitive descriptor");
    return finish(e, pd, KIND_MATMUL, &a_user, &b_user, &c_user, NULL);
}

static void release(entry *e) {
    for (int i = 0; i < e->binding_count; i++) {
        binding *b = &e->bindings[i];
        if (b->reorder) dnnl_primitive_destroy(b->reorder);
        if (b->inner) dnnl_memory_destroy(b->inner);
        if (b->user) dnnl_memory_destroy(b->user);
        free(b->buffer);
    }
    e->binding_count = 0;
    if (e->primitive) dnnl_primitive_destroy(e->primitive);
    e->primitive = NULL;
    if (e->scratchpad) dnnl_memory_destroy(e->scratchpad);
    e->scratchpad = NULL;
    free(e->scratchpad_buffer);
    e->scratchpad_buffer = NULL;
}

// The thread's entry for (kind, shape, bias), built on first use; NULL with *rc set when the
// shape has no bf16 kernel or building failed.
static entry *lookup(int kind, const t2v_conv_shape *s, const matmul_shape *product, int has_bias, int *rc) {
    for (int i = 0; i < cache_count; i++) {
        entry *e = cache[i];
        if (e->kind == kind && e->has_bias == has_bias && memcmp(&e->shape, s, sizeof *s) == 0 &&
            (!product || memcmp(&e->product, product, sizeof *product) == 0)) {
            *rc = e->supported ? T2V_DNNL_OK : T2V_DNNL_UNSUPPORTED;
            return e->supported ? e : NULL;
        }
    }
    entry *e = calloc(1, sizeof *e);
    if (!e) {
        *rc = fail("cache allocation", dnnl_out_of_memory);
        return NULL;
    }
    e->kind = kind;
    e->has_bias = has_bias;
    e->shape = *s;
    if (product) e->product = *product;
    *rc = product ? build_matmul(e) : build(e);
    if (*rc == T2V_DNNL_FAILED) {
        release(e);
        free(e);
        return NULL;
    }
    e->supported = *rc == T2V_DNNL_OK;
    if (!e->supported) release(e);
    if (cache_count == CACHE_CAPACITY) {  // evict the oldest
        release(cache[0]);
        free(cache[0]);
        memmove(cache, cache + 1, (CACHE_CAPACITY - 1) * sizeof cache[0]);
        cache_count--;
    }
    cache[cache_count++] = e;
    return e->supported ? e : NULL;
}

// Where an input's converted copy lives for one call: `inner` (when not NULL) replaces the entry's
// own buffer; `ready` says it already holds the converted input, so its reorder is skipped.
typedef struct {
    void *inner;
    int ready;
} placement;

// Runs the entry for (kind, shape, bias) on the caller's tensors `pointers` (one per binding);
// `places` (NULL, or one per binding) moves converted copies into caller-owned buffers.
static int run(int kind, const t2v_conv_shape *s, const matmul_shape *product, int has_bias, const void *const *pointers,
               const placement *places) {
    int rc = prepare_thread();
    if (rc) return rc;
    entry *e = lookup(kind, s, product, has_bias, &rc);
    if (!e) return rc;
    dnnl_exec_arg_t args[MAX_BINDINGS + 1];
    int count = 0;
    for (int i = 0; i < e->binding_count; i++) {
        binding *b = &e->bindings[i];
        CHECK(dnnl_memory_set_data_handle(b->user, (void *)pointers[i]), "set data handle");
        const placement *place = places && places[i].inner ? &places[i] : NULL;
        if (b->inner) CHECK(dnnl_memory_set_data_handle(b->inner, place ? place->inner : b->buffer), "set data handle");
        if (b->inner && !b->output && !(place && place->ready)) {
            dnnl_exec_arg_t r[2] = {{DNNL_ARG_FROM, b->user}, {DNNL_ARG_TO, b->inner}};
            CHECK(dnnl_primitive_execute(b->reorder, stream, 2, r), "input reorder");
        }
        args[count].arg = b->arg;
        args[count].memory = b->inner ? b->inner : b->user;
        count++;
    }
    if (e->scratchpad) {
        args[count].arg = DNNL_ARG_SCRATCHPAD;
        args[count].memory = e->scratchpad;
        count++;
    }
    CHECK(dnnl_primitive_execute(e->primitive, stream, count, args), "convolution");
    for (int i = 0; i < e->binding_count; i++) {
        binding *b = &e->bindings[i];
        if (b->inner && b->output) {
            dnnl_exec_arg_t r[2] = {{DNNL_ARG_FROM, b->inner}, {DNNL_ARG_TO, b->user}};
            CHECK(dnnl_primitive_execute(b->reorder, stream, 2, r), "output reorder");
        }
    }
    CHECK(dnnl_stream_wait(stream), "stream wait");
    snprintf(last_implementation, sizeof last_implementation, "%s", e->implementation);
    return T2V_DNNL_OK;
}

static int valid(const t2v_conv_shape *s) {
    return s->n > 0 && s->cin > 0 && s->cout > 0 && s->kh > 0 && s->kw > 0 && s->stride > 0 && s->padding >= 0;
}

int t2v_dnnl_conv_forward(const t2v_conv_shape *s, const float *x, const float *w, const float *b, float *y,
                          void *x_copy) {
    // The bindings' order: source, weights, bias when there is one, destination.
    const void *with_bias[4] = {x, w, b, y}, *without_bias[3] = {x, w, y};
    const placement places[4] = {{x_copy, 0}, {NULL, 0}, {NULL, 0}, {NULL, 0}};
    if (!valid(s)) return fail("shape check", dnnl_invalid_arguments);
    return run(KIND_FORWARD, s, NULL, b != NULL, b ? with_bias : without_bias, places);
}

int t2v_dnnl_conv_backward_data(const t2v_conv_shape *s, const float *dy, const float *w, float *dx, void *dy_copy) {
    const void *p[3] = {dy, w, dx};
    const placement places[3] = {{dy_copy, 0}, {NULL, 0}, {NULL, 0}};
    if (!valid(s)) return fail("shape check", dnnl_invalid_arguments);
    return run(KIND_BACKWARD_DATA, s, NULL, 0, p, places);
}

int t2v_dnnl_conv_backward_weights(const t2v_conv_shape *s, const float *x, const void *x_copy, const float *dy,
                                   const void *dy_copy, float *dw) {
    const void *p[3] = {x, dy, dw};
    const placement places[3] = {{(void *)x_copy, 1}, {(void *)dy_copy, 1}, {NULL, 0}};
    if (!valid(s)) return fail("shape check", dnnl_invalid_arguments);
    return run(KIND_BACKWARD_WEIGHTS, s, NULL, 0, p, places);
}

int t2v_dnnl_matmul(int m, int n, int k, int trans_a, int trans_b, const float *a, int lda, const float *b, int ldb,
                    float beta, float *c, int ldc) {
    if (m <= 0 || n <= 0 || k <= 0 || (beta != 0 && beta != 1)) return fail("matmul shape check", dnnl_invalid_arguments);
    t2v_conv_shape none = {0};
    matmul_shape product = {m, n, k, trans_a != 0, trans_b != 0, lda, ldb, ldc, beta != 0};
    const void *p[3] = {a, b, c};
    return run(KIND_MATMUL, &none, &product, 0, p, NULL);
}

// The converted (bf16, blocked) memory descriptor of binding `index` of an entry, or NULL when
// that binding is used as the caller gives it.
static const dnnl_memory_desc_t *inner_md(const entry *e, int index) {
    const dnnl_memory_desc_t *md = NULL;
    if (index >= e->binding_count || !e->bindings[index].inner) return NULL;
    if (dnnl_memory_get_memory_desc(e->bindings[index].inner, &md) != dnnl_success) return NULL;
    return md;
}

// Bytes of a copy both entries can share: binding `ia` of `a` and binding `ib` of `b` converted
// to the same layout; 0 when they differ.
static size_t shared_bytes(int kind_a, int has_bias_a, int ia, int kind_b, int ib, const t2v_conv_shape *s, int *rc) {
    if (!valid(s)) {
        *rc = fail("shape check", dnnl_invalid_arguments);
        return 0;
    }
    *rc = prepare_thread();
    if (*rc) return 0;
    entry *a = lookup(kind_a, s, NULL, has_bias_a, rc);
    if (!a) return 0;
    entry *b = lookup(kind_b, s, NULL, 0, rc);
    if (!b) return 0;
    const dnnl_memory_desc_t *ma = inner_md(a, ia), *mb = inner_md(b, ib);
    if (!ma || !mb || !dnnl_memory_desc_equal(ma, mb)) return 0;
    return dnnl_memory_desc_get_size(ma);
}

int t2v_dnnl_conv_source_copy_bytes(const t2v_conv_shape *s, int has_bias, size_t *bytes) {
    int rc = T2V_DNNL_OK;
    // Forward bindings: source 0; weight-gradient bindings: source 0.
    *bytes = shared_bytes(KIND_FORWARD, has_bias, 0, KIND_BACKWARD_WEIGHTS, 0, s, &rc);
    return rc;
}

int t2v_dnnl_conv_gradient_copy_bytes(const t2v_conv_shape *s, size_t *bytes) {
    int rc = T2V_DNNL_OK;
    // Input-gradient bindings: gradient 0; weight-gradient bindings: gradient 1.
    *bytes = shared_bytes(KIND_BACKWARD_DATA, 0, 0, KIND_BACKWARD_WEIGHTS, 1, s, &rc);
    return rc;
}
