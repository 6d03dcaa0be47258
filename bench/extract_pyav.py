#!/usr/bin/env python3
"""The PyAV peer of `t2v-render extract` (bench/run times the two side by side).

Does the same work as `t2v-render extract VIDEO... -o DIR --frames T --fps R --size WxH`
(defaults, --resize crop, no --skip-cuts): decode each video with PyAV (frame threading), pick
frames by timestamp at R frames/s (the first decoded frame at or after each k/R), scale so the
short side fits with swscale's area filter (bicubic when enlarging), centre-crop to WxH, keep
uint8 RGB, cut non-overlapping clips of T frames and write them as safetensors shards of one
tensor `clips` [N, T, H, W, 3] uint8 (the layout of t2v-render's shards) plus a manifest.jsonl.

    python3 bench/extract_pyav.py VIDEO... -o DIR [--frames 16] [--fps 8] [--size 64x64]
"""
import argparse
import json
import os
import sys
import time

import av
import numpy as np
from safetensors.numpy import save_file


def fit(sw, sh, w, h):
    """Scaled size for --resize crop (t2v-render's ClipExtractor.fit)."""
    s = max(w / sw, h / sh)
    return max(w, round(sw * s)), max(h, round(sh * s))


def clips_of(path, frames, fps, w, h):
    with av.open(path) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        sw, sh = fit(stream.codec_context.width, stream.codec_context.height, w, h)
        interp = "AREA" if (sw < stream.codec_context.width or sh < stream.codec_context.height) else "BICUBIC"
        x0, y0 = (sw - w) // 2, (sh - h) // 2
        ring, starts, k = [], [], 0
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base) if frame.pts is not None else k / fps
            if t + 1e-9 < k / fps:
                continue
            k += 1
            rgb = frame.reformat(width=sw, height=sh, format="rgb24", interpolation=interp).to_ndarray()
            ring.append(np.ascontiguousarray(rgb[y0:y0 + h, x0:x0 + w]))
            starts.append(t)
            if len(ring) == frames:
                yield np.stack(ring), starts[0]
                ring, starts = [], []


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("inputs", nargs="+")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--fps", type=float, default=8)
    ap.add_argument("--size", default="64x64")
    ap.add_argument("--shard-clips", type=int, default=1024, help="clips per shard")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    os.makedirs(args.output, exist_ok=True)
    t0 = time.perf_counter()
    pending, manifest, shard, total = [], [], 0, 0

    def flush():
        nonlocal pending, shard
        if not pending:
            return
        name = f"shard-{shard:05d}.safetensors"
        tmp = os.path.join(args.output, f".{name}.tmp-{os.getpid()}")
        save_file({"clips": np.stack([c for c, _ in pending])}, tmp, metadata={"format": "clips [N,T,H,W,3] uint8 RGB"})
        os.replace(tmp, os.path.join(args.output, name))
        for i, (_, rec) in enumerate(pending):
            manifest.append(dict(rec, shard=name, index=i))
        pending, shard = [], shard + 1

    for path in args.inputs:
        for clip, start in clips_of(path, args.frames, args.fps, w, h):
            pending.append((clip, {"source": path, "start": start, "fps": args.fps}))
            total += 1
            if len(pending) == args.shard_clips:
                flush()
    flush()
    with open(os.path.join(args.output, "manifest.jsonl"), "w") as f:
        for rec in manifest:
            f.write(json.dumps(rec) + "\n")
    print(json.dumps({"clips": total, "seconds": time.perf_counter() - t0}))


if __name__ == "__main__":
    sys.exit(main())
