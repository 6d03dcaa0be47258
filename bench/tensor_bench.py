#!/usr/bin/env python3
"""Side-by-side benchmark: the Swift tensor engine (t2v-bench, release build) against PyTorch
on the CPU with torch.set_num_threads(2) (and --threads 2 for t2v-bench).

    swift build -c release --product t2v-bench
    python3 bench/tensor_bench.py [--rounds 3] [--repeats 5] [--threads 2] [case ...]

For every case the two engines run alternately for --rounds rounds (so both see the same
machine load); each round reports the median of --repeats timed runs after one warm-up, and the
table shows the best round of each. Forward runs without gradients (inference); backward times
only y.backward(ones) after an untimed recorded forward. Ratio = PyTorch ms / Swift ms (> 1
means the Swift engine is faster). GFLOP/s use the nominal FLOP counts below for both engines.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, ".build", "release", "t2v-bench")


def conv_case(n, c, hw):
    x, w, b = torch.rand(n, c, hw, hw) * 2 - 1, torch.rand(c, c, 3, 3) * 2 - 1, torch.rand(c) * 2 - 1
    flops = 2 * n * c * c * hw * hw * 9
    return (lambda: F.conv2d(x, w, b, padding=1)), [x, w, b], (lambda xs: F.conv2d(*xs, padding=1)), flops


def attn_case(shape):
    q, k, v = (torch.rand(*shape) * 2 - 1 for _ in range(3))
    lead = 1
    for s in shape[:-2]:
        lead *= s
    flops = 4 * lead * shape[-2] * shape[-2] * shape[-1]
    f = lambda xs: F.scaled_dot_product_attention(*xs)
    return (lambda: f([q, k, v])), [q, k, v], f, flops


def unary_case(fn, extra=None):
    x = torch.rand(32, 64, 32, 32) * 2 - 1
    xs = [x] + (extra or [])
    return (lambda: fn(xs)), xs, fn, None


CASES = {
    "conv3x3_32x64x32x32": lambda: conv_case(32, 64, 32),
    "conv3x3_32x128x16x16": lambda: conv_case(32, 128, 16),
    "conv3x3_32x32x64x64": lambda: conv_case(32, 32, 64),
    "attention_16x4x1024x16": lambda: attn_case((16, 4, 1024, 16)),
    "attention_32x256x64": lambda: attn_case((32, 256, 64)),
    "groupnorm_32x64x32x32": lambda: unary_case(lambda xs: F.group_norm(xs[0], 32, xs[1], xs[2]),
                                                [torch.rand(64), torch.rand(64)]),
    "silu_32x64x32x32": lambda: unary_case(lambda xs: F.silu(xs[0])),
    "softmax_32x64x32x32": lambda: unary_case(lambda xs: torch.softmax(xs[0], dim=-1)),
}


def torch_times(name, repeats):
    fwd, inputs, fn, flops = CASES[name]()
    f_times, b_times = [], []
    for i in range(repeats + 1):
        t0 = time.perf_counter()
        with torch.no_grad():
            fwd()
        t1 = time.perf_counter()
        if i:
            f_times.append((t1 - t0) * 1e3)
    grads = [x.detach().clone().requires_grad_() for x in inputs]
    for i in range(repeats + 1):
        y = fn(grads)
        gy = torch.ones_like(y)
        t0 = time.perf_counter()
        y.backward(gy)
        t1 = time.perf_counter()
        for g in grads:
            g.grad = None
        if i:
            b_times.append((t1 - t0) * 1e3)
    return statistics.median(f_times), statistics.median(b_times), flops


def swift_times(name, repeats, threads):
    out = subprocess.run([BIN, "--threads", str(threads), "--repeats", str(repeats), name],
                         check=True, capture_output=True, text=True).stdout
    row = json.loads(out.strip().splitlines()[-1])
    return row["fwd_ms"], row["bwd_ms"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("cases", nargs="*")
    args = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"{BIN} not found: run `swift build -c release --product t2v-bench` first")
    torch.set_num_threads(args.threads)
    names = args.cases or list(CASES)
    print(f"torch {torch.__version__}, {args.threads} threads, best of {args.rounds} rounds x median of {args.repeats}; "
          f"load average {os.getloadavg()[0]:.1f}")
    print("| case | PyTorch fwd ms | Swift fwd ms | Swift fwd GFLOP/s | fwd ratio | PyTorch bwd ms | Swift bwd ms | Swift bwd GFLOP/s | bwd ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in names:
        tf, tb, sf, sb = [], [], [], []
        flops = None
        for _ in range(args.rounds):
            a, b, flops = torch_times(name, args.repeats)
            tf.append(a)
            tb.append(b)
            c, d = swift_times(name, args.repeats, args.threads)
            sf.append(c)
            sb.append(d)
        tf, tb, sf, sb = min(tf), min(tb), min(sf), min(sb)

        def gf(ms, mult):
            return f"{flops * mult / ms / 1e6:.0f}" if flops else "-"

        print(f"| {name} | {tf:.2f} | {sf:.2f} | {gf(sf, 1)} | {tf / sf:.2f} | {tb:.2f} | {sb:.2f} | {gf(sb, 2)} | {tb / sb:.2f} |",
              flush=True)


if __name__ == "__main__":
    main()
