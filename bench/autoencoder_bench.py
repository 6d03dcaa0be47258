#!/usr/bin/env python3
"""Autoencoder benchmark: the Swift VideoAutoencoder (t2v-bench autoencoder-time) against its
PyTorch twin (python/t2v_twin/autoencoder.py) in fp32 and in bf16 autocast, all on 2 threads, same
file, same shapes, no gradients:
  - decode: one clip's latents (16 x C x 32 x 32) to 16 frames of 128x128, 4 frames at a time, as
    VideoPipeline decodes after sampling;
  - encode: one clip's 16 frames of 128x128 to latents, 8 frames at a time, as encode-latents does.
Rounds alternate between the engines; each round reports every timed repetition (after one
warm-up). The peer is PyTorch's better mode. Used by bench/run; standalone:

    swift build -c release --product t2v-bench
    python3 bench/autoencoder_bench.py [--model work/latent/ae.safetensors] [--rounds 3] [--repeats 3] [--threads 2]

Without --model it times a fresh default-width autoencoder (the weights do not change the work).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from t2v_twin.autoencoder import AutoencoderConfig, VideoAutoencoder, load_autoencoder, save_autoencoder  # noqa: E402
from denoiser_bench import SWIFT_DEFAULT, SWIFT_SIDES  # noqa: E402  (the Swift engine's precisions)

BIN = os.path.join(ROOT, ".build", "release", "t2v-bench")


def torch_times(path, repeats, threads=2, bf16=False, frames=16, size=128, decode_chunk=4, encode_chunk=8):
    """(decode ms list, encode ms list) for the twin."""
    torch.set_num_threads(threads)
    torch.manual_seed(3)
    model, _ = load_autoencoder(path)
    model.eval()
    cfg = model.config
    f = cfg.downsamplingFactor
    c, r = cfg.latentChannels, size // f
    latents, pixels = torch.randn(frames, c, r, r), torch.rand(frames, 3, size, size) * 2 - 1
    decode, encode = [], []
    ctx = (lambda: torch.autocast("cpu", dtype=torch.bfloat16)) if bf16 else torch.no_grad
    for i in range(repeats + 1):
        with torch.no_grad(), ctx():
            t0 = time.perf_counter()
            out = [model.decode(latents[s:s + decode_chunk]).float() for s in range(0, frames, decode_chunk)]
            t1 = time.perf_counter()
            z = [model.latents(pixels[s:s + encode_chunk]).float() for s in range(0, frames, encode_chunk)]
            t2 = time.perf_counter()
        assert sum(o.shape[0] for o in out) == frames and sum(x.shape[0] for x in z) == frames
        if i:
            decode.append((t1 - t0) * 1e3)
            encode.append((t2 - t1) * 1e3)
    return decode, encode


def swift_times(path, repeats, threads=2, binary=BIN, precision="fp32"):
    out = subprocess.run([binary, "autoencoder-time", "--model", path, "--threads", str(threads),
                          "--repeats", str(repeats), "--precision", precision], check=True, capture_output=True, text=True).stdout
    row = json.loads(out.strip().splitlines()[-1])
    return row["decode_ms"], row["encode_ms"]


def fresh_model(tmp):
    """A default-width autoencoder with random weights, in the Swift file format."""
    torch.manual_seed(1)
    path = os.path.join(tmp, "ae-random.safetensors")
    save_autoencoder(VideoAutoencoder(AutoencoderConfig(), scaleFactor=0.5), path)
    return path


def measure(model, rounds, repeats, threads):
    """{side: (decode ms list, encode ms list)} for the Swift sides (fp32, and bf16 where the CPU
    has AVX512_BF16), torch-fp32 and torch-bf16."""
    res = {k: ([], []) for k in SWIFT_SIDES + ["torch-fp32", "torch-bf16"]}
    order = list(res)
    for r in range(rounds):
        for side in (order if r % 2 == 0 else order[::-1]):
            if side.startswith("swift"):
                d, e = swift_times(model, repeats, threads, precision=side[6:])
            else:
                d, e = torch_times(model, repeats, threads, bf16=side == "torch-bf16")
            res[side][0].extend(d)
            res[side][1].extend(e)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or fresh_model(tmp)
        res = measure(model, args.rounds, args.repeats, args.threads)
    for i, what in enumerate(["decode 16 frames 128x128 (4 at a time)", "encode 16 frames 128x128 (8 at a time)"]):
        s = statistics.median(res[SWIFT_DEFAULT][i])
        peers = {k: statistics.median(res[k][i]) for k in ("torch-fp32", "torch-bf16")}
        best = min(peers, key=peers.get)
        swift_modes = ", ".join(f"{k[6:]} {statistics.median(res[k][i]):.0f} ms" for k in SWIFT_SIDES)
        print(f"{what}, {args.threads} thread(s): Swift {SWIFT_DEFAULT[6:]} {s:.0f} ms ({swift_modes}); PyTorch fp32 {peers['torch-fp32']:.0f} ms, "
              f"bf16 autocast {peers['torch-bf16']:.0f} ms; ratio PyTorch best ({best})/Swift {peers[best] / s:.2f} "
              f"(Swift {min(res[SWIFT_DEFAULT][i]):.0f}-{max(res[SWIFT_DEFAULT][i]):.0f} ms)")


if __name__ == "__main__":
    main()
