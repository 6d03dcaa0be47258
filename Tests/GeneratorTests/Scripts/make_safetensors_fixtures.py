#!/usr/bin/env python3
"""Writes the fixtures that SafeTensorsTests and RandomTests read, from oracles written by others.

Run from the package root:  python3 Tests/GeneratorTests/Scripts/make_safetensors_fixtures.py
Needs: numpy, safetensors, torch (BF16 oracle), randomgen (Philox4x32-10 oracle).
Output: Tests/GeneratorTests/Fixtures/safetensors/*.safetensors (committed; tests need no torch).

Fixtures
- numpy_mixed.safetensors   safetensors.numpy.save_file: F32/F16/F64/U8/I64/BOOL tensors, a
                            scalar, an empty tensor and metadata with escapes and non-ASCII text.
- torch_bf16.safetensors    safetensors.torch.save_file: a BF16 tensor (numpy has no bfloat16,
                            so torch writes it) and the same values widened to F32 by torch.
- conversions.safetensors   Float -> F16 by numpy (astype(float16)), Float -> BF16 by torch
                            (.to(torch.bfloat16)), F16 -> Float by numpy, on edge values: ties
                            between neighbouring halves, overflow and subnormal boundaries, inf,
                            quiet NaN, random values over all exponents.
- philox_golden.safetensors Philox4x32-10 words from randomgen (an independent implementation
                            whose counter is incremented before each block, hence counter - 1),
                            and uniform/normal/permutation values built from those words with
                            numpy, following the conventions documented in RandomGenerator.swift.
"""
import os
import sys

import numpy as np
from safetensors.numpy import save_file as np_save
from safetensors import safe_open

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "safetensors")
os.makedirs(ROOT, exist_ok=True)


def path(name):
    return os.path.join(ROOT, name)


# ---------------------------------------------------------------------------------------------
# numpy_mixed.safetensors
# ---------------------------------------------------------------------------------------------
def make_mixed():
    f32 = (np.arange(24, dtype=np.float32).reshape(2, 3, 4) - 11.5) / np.float32(3.0)
    f32[0, 0, 0] = -0.0
    f32[1, 2, 3] = np.float32(3.4028235e38)
    f32[1, 2, 2] = np.float32(1e-45)  # smallest subnormal
    f32[1, 2, 1] = np.inf
    f16 = np.array([0.0, -0.0, 65504.0, 6.103515625e-05, 5.960464477539063e-08, 1.0 / 3.0, -np.inf, 2.5],
                   dtype=np.float16)
    f64 = np.array([np.pi, -1e-300, 1e300, 0.1], dtype=np.float64)  # 1e300 overflows Float -> inf
    u8 = (np.arange(2 * 2 * 2 * 3) * 37 % 256).astype(np.uint8).reshape(2, 2, 2, 3)
    i64 = np.array([0, -1, 2**62 + 3, -(2**63)], dtype=np.int64)
    bools = np.array([True, False, True], dtype=bool)
    scalar = np.array(7.25, dtype=np.float32)  # shape []
    empty = np.zeros((0, 3), dtype=np.float32)
    np_save(
        {"weight_f32": f32, "half_f16": f16, "double_f64": f64, "frames_u8": u8, "steps_i64": i64,
         "mask_bool": bools, "scalar": scalar, "empty": empty},
        path("numpy_mixed.safetensors"),
        # One key only: the reference writer orders metadata keys by hash, so with one key the
        # file is byte-for-byte predictable and SafeTensorsTests can compare Swift's layout to it.
        metadata={"note": "caf\u00e9 \u2713 \"quoted\" back\\slash\nnew line\ttab \x01"},
    )


# ---------------------------------------------------------------------------------------------
# torch_bf16.safetensors
# ---------------------------------------------------------------------------------------------
def make_bf16():
    import torch
    from safetensors.torch import save_file as torch_save

    values = torch.tensor([0.0, -0.0, 1.0, -2.5, 3.140625, 1e-40, 3.0e38, float("inf"), float("-inf"),
                           0.1, 1234.5, -7e-3], dtype=torch.float32)
    bf16 = values.to(torch.bfloat16).reshape(3, 4)
    torch_save({"bf16": bf16, "bf16_as_f32": bf16.to(torch.float32)}, path("torch_bf16.safetensors"),
               metadata={"format": "pt"})


# ---------------------------------------------------------------------------------------------
# conversions.safetensors
# ---------------------------------------------------------------------------------------------
def f32_from_bits(bits):
    return np.asarray(bits, dtype=np.uint32).view(np.float32)


def make_conversions():
    import torch

    rng = np.random.default_rng(20240611)
    # All finite positive halves h; the float32 midpoint to the next half is exact in float32.
    halves = np.arange(0, 0x7C00, dtype=np.uint16).view(np.float16).astype(np.float32)
    nexts = np.arange(1, 0x7C01, dtype=np.uint16).view(np.float16).astype(np.float32)
    mids = (halves.astype(np.float64) + nexts.astype(np.float64)) / 2
    mids = mids[np.isfinite(nexts)].astype(np.float32)
    # Keep a stratified subset: every midpoint below the normal range and a sample above.
    pick = np.concatenate([np.arange(0, 1100), np.arange(1100, len(mids), 23)])
    mids = mids[pick]
    mid_bits = mids.view(np.uint32)
    around = np.concatenate([mid_bits, mid_bits - 1, mid_bits + 1])
    special = np.array([0.0, -0.0, 65504.0, 65519.996, 65520.0, 65536.0, 1e9, -1e9, 2.0**-24, 2.0**-25,
                        2.0**-25 * 1.0000001, 2.0**-26, 2.0**-14, 2.0**-14 * (1 - 2.0**-11), 1e-45, 1e-40,
                        np.inf, -np.inf, np.nan, 3.4028235e38, -3.4028235e38], dtype=np.float32)
    randoms = f32_from_bits(rng.integers(0, 2**32, size=3000, dtype=np.uint64).astype(np.uint32))
    randoms = randoms[~np.isnan(randoms)]
    inputs = np.concatenate([special, f32_from_bits(around), -f32_from_bits(around[::5]), randoms])
    inputs = np.ascontiguousarray(inputs.astype(np.float32))
    with np.errstate(over="ignore"):
        numpy_f16 = inputs.astype(np.float16)  # overflow to inf is one of the cases under test
    # BF16 ties: values whose low 16 bits are exactly 0x8000, with odd and even kept parts.
    ties = f32_from_bits((rng.integers(0, 2**16, size=400).astype(np.uint32) << 16) | 0x8000)
    ties = ties[np.isfinite(ties)]
    bf16_inputs = np.ascontiguousarray(np.concatenate([inputs, ties]).astype(np.float32))
    torch_bf16 = torch.from_numpy(bf16_inputs.copy()).to(torch.bfloat16)
    # F16 -> Float32 over subnormals, small normals, inf/NaN patterns and a sample of the rest.
    patterns = np.unique(np.concatenate([
        np.arange(0x0000, 0x0900), np.arange(0x8000, 0x8900), np.arange(0x7B00, 0x7E10),
        np.arange(0xFB00, 0xFC10), np.arange(0x0900, 0x7B00, 13), np.arange(0x8900, 0xFB00, 17),
    ])).astype(np.uint16)
    half_patterns = patterns.view(np.float16)
    half_values = half_patterns.astype(np.float32)

    from safetensors.torch import save_file as torch_save
    torch_save({
        "f16_inputs": torch.from_numpy(inputs),
        "f16_numpy": torch.from_numpy(numpy_f16),
        "bf16_inputs": torch.from_numpy(bf16_inputs),
        "bf16_torch": torch_bf16,
        "half_patterns": torch.from_numpy(half_patterns.copy()),
        "half_values_numpy": torch.from_numpy(half_values),
    }, path("conversions.safetensors"), metadata={"producer": "numpy astype(float16), torch .to(bfloat16)"})


# ---------------------------------------------------------------------------------------------
# philox_golden.safetensors
# ---------------------------------------------------------------------------------------------
KAT = [  # Random123 tests/kat_vectors, "philox4x32 10" lines: counter[4] key[2] -> out[4]
    ((0x00000000, 0x00000000, 0x00000000, 0x00000000), (0x00000000, 0x00000000),
     (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
    ((0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff),
     (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
    ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
     (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1)),
]


def words(seed, stream, first_block, nblocks):
    """randomgen's Philox4x32-10 words for key = seed and counters (block, stream)."""
    import warnings
    from randomgen import Philox
    counter = ((stream << 64) | first_block) - 1  # randomgen increments before each block
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = Philox(key=seed, counter=counter % 2**128, number=4, width=32)
        return np.asarray(g.random_raw(4 * nblocks), dtype=np.uint64).astype(np.uint32)


def check_kat():
    for ctr, key, out in KAT:
        c = sum(v << (32 * i) for i, v in enumerate(ctr))
        k = key[0] | (key[1] << 32)
        got = words(k, c >> 64, c & (2**64 - 1), 1)
        assert tuple(int(x) for x in got) == out, (ctr, key, [hex(int(x)) for x in got])


def uniform(w):
    return ((w >> 8).astype(np.float64) * 2.0**-24).astype(np.float32)


def normal(w, count, mean, std):
    a = w[0::2].astype(np.float64)
    b = w[1::2].astype(np.float64)
    u1 = (a + 0.5) * 2.0**-32
    theta = 2 * np.pi * (b * 2.0**-32)
    r = np.sqrt(-2 * np.log(u1))
    z = np.empty(2 * len(a))
    z[0::2] = r * np.cos(theta)
    z[1::2] = r * np.sin(theta)
    return (mean + std * z[:count]).astype(np.float32)


def permutation(w, n):
    """Fisher-Yates with Lemire's bounded integers on 64-bit draws (low word first)."""
    it = iter(int(x) for x in w)

    def draw():
        lo = next(it)
        return lo | (next(it) << 32)

    def below(bound):
        m = draw() * bound
        if (m & (2**64 - 1)) < bound:
            t = (2**64 - bound) % bound
            while (m & (2**64 - 1)) < t:
                m = draw() * bound
        return m >> 64

    p = list(range(n))
    for i in range(n - 1, 0, -1):
        j = below(i + 1)
        p[i], p[j] = p[j], p[i]
    return np.array(p, dtype=np.int64)


def make_philox():
    check_kat()
    seed = 0x0123456789ABCDEF
    out = {
        # Raw words: seed 0 stream 0 from the start, the test seed on streams 0 and 7, and a
        # window deep into stream 3 (block 2^40 + 5) for advance(by:).
        "words_seed0_stream0": words(0, 0, 0, 8),
        "words_seed_stream0": words(seed, 0, 0, 16),
        "words_seed_stream7": words(seed, 7, 0, 16),
        "words_seed_stream3_block2p40p5": words(seed, 3, 2**40 + 5, 4),
        # 1000 uniforms of the test seed, stream 1 (one word each).
        "uniform_seed_stream1": uniform(words(seed, 1, 0, 250)),
        # 1001 normals (odd count: the last sine is dropped), mean 0.5, std 2, stream 2.
        "normal_seed_stream2": normal(words(seed, 2, 0, 251), 1001, 0.5, 2.0),
        # A permutation of 0..<100 on stream 5 (64-bit draws; 100 blocks is plenty).
        "permutation100_seed_stream5": permutation(words(seed, 5, 0, 100), 100),
    }
    np_save(out, path("philox_golden.safetensors"),
            metadata={"source": f"randomgen Philox(number=4, width=32) + numpy, seed {seed}"})


if __name__ == "__main__":
    make_mixed()
    make_bf16()
    make_conversions()
    make_philox()
    for name in sorted(os.listdir(ROOT)):
        with safe_open(path(name), framework="np") as f:
            print(f"{name}: {len(list(f.keys()))} tensors, {os.path.getsize(path(name))} bytes", file=sys.stderr)
