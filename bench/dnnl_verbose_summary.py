#!/usr/bin/env python3
"""oneDNN's own time per primitive kind, from a DNNL_VERBOSE=1 log: the last quarter of the exec
lines (after the warm-up and the forward passes, about one training step of
`t2v-bench denoiser-time --repeats 3 --forward-batch 1 --train-batch 4`), summed over threads,
grouped by primitive and implementation (reorders by their source and destination layouts).

    DNNL_VERBOSE=1 .build/release/t2v-bench denoiser-time --model weights/t2v-default.safetensors \\
        --threads 2 --repeats 3 --forward-batch 1 --train-batch 4 --precision bf16 > verbose.txt 2>&1
    python3 bench/dnnl_verbose_summary.py verbose.txt [--tail 0.25] [--top 14]
"""
import argparse
import collections


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log")
    ap.add_argument("--tail", type=float, default=0.25, help="share of the exec lines, from the end, to sum")
    ap.add_argument("--top", type=int, default=14)
    args = ap.parse_args()
    with open(args.log) as f:
        lines = [l.strip().split(",") for l in f if l.startswith(("onednn_verbose,exec", "dnnl_verbose,exec"))]
    tail = lines[int(len(lines) * (1 - args.tail)):]
    groups = collections.defaultdict(lambda: [0, 0.0])
    total = 0.0
    for f in tail:
        prim, impl, prop, mds, ms = f[3], f[4], f[5], f[6], float(f[-1])
        key = (prim, mds.replace("::blocked:", ":").replace(":f0", "")) if prim == "reorder" else (prim, prop, impl)
        groups[key][0] += 1
        groups[key][1] += ms
        total += ms
    print(f"{len(tail)} of {len(lines)} exec lines, {total:.1f} ms")
    for key, (n, ms) in sorted(groups.items(), key=lambda kv: -kv[1][1])[:args.top]:
        print(f"{ms:8.1f} ms {100 * ms / total:5.1f}%  {n:4d} calls  {' '.join(key)}")


if __name__ == "__main__":
    main()
