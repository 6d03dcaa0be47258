// Debian's OpenBLAS CBLAS interface (libopenblas-dev, pkg-config openblas), plus the tensor
// engine's vector kernels (vector_kernels.inc, compiled by Clang from this header for AVX-512 and
// for AVX2; Swift code alone is compiled for baseline x86-64/SSE2). Callers must check the CPU
// first; only Generator/Tensor/BLAS.swift uses this module.
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
typedef float t2v_f32x16 __attribute__((vector_size(64), aligned(4)));
typedef int t2v_i32x16 __attribute__((vector_size(64), aligned(4)));

// The kernels of vector_kernels.inc, once per instruction set: t2v_*_avx512 (AVX-512F/DQ) and
// t2v_*_avx2 (AVX2 + FMA, the same 16-lane code in pairs of ymm registers).
#define T2V_TARGET __attribute__((target("avx512f,avx512dq,fma")))
#define T2V_K(name) name##_avx512
#include "vector_kernels.inc"
#undef T2V_TARGET
#undef T2V_K
#define T2V_TARGET __attribute__((target("avx2,fma")))
#define T2V_K(name) name##_avx2
#include "vector_kernels.inc"
#undef T2V_TARGET
#undef T2V_K
#endif
#endif
