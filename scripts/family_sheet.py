#!/usr/bin/env python3
"""One contact sheet of a model across the corpus's families: for each family, the caption of its
first clip in a dataset's manifest (e.g. the held-out set), rendered with `t2v-render` at the
given size and sampler for each seed; one row per (family, seed), `--columns` frames evenly spaced.

    python3 scripts/family_sheet.py MODEL --manifest work/default-model/heldout-dataset/manifest.jsonl \\
        --size 128 --seeds 2 --steps 32 --guidance 3 -o sheet.png

Two models at the same --size (e.g. a 128x128 latent model and a 32x32 pixel model upscaled by
t2v-render's Lanczos scaler) give sheets that compare cell for cell; `--baseline MODEL` puts the
second model's row (same caption, seed and size) under each of the first's. `--steps model` and
`--guidance model` leave each model at its own defaults (a distilled student's step count and
guidance). An output ending in .jpg is written as JPEG (quality 88), to keep large sheets light.
"""
import argparse
import glob
import json
import os
import subprocess
import tempfile

import numpy as np
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def first_captions(manifest):
    """{family: caption of its first clip}, families in manifest order."""
    out = {}
    with open(manifest) as f:
        for line in f:
            rec = json.loads(line)
            family = os.path.basename(rec["source"]).rsplit("-", 1)[0]
            out.setdefault(family, rec["caption"])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--first-seed", type=int, default=500)
    ap.add_argument("--steps", default="32")
    ap.add_argument("--guidance", default="3")
    ap.add_argument("--columns", type=int, default=8)
    ap.add_argument("--baseline", help="a second model, rendered under each row of the first")
    ap.add_argument("-o", "--output", required=True)
    args = ap.parse_args()
    binary = os.environ.get("T2V_RENDER", os.path.join(ROOT, ".build", "release", "t2v-render"))
    def render(model, caption, seed):
        flags = [] if args.steps == "model" else ["--steps", args.steps]
        flags += [] if args.guidance == "model" else ["--guidance", args.guidance]
        with tempfile.TemporaryDirectory() as d:
            subprocess.run([binary, "--prompt", caption, "--model", model, "--seed", str(seed), *flags,
                            "--sampler", "ddim", "--size", f"{args.size}x{args.size}",
                            "--format", "png", "-o", d + "/f_%02d.png", "-q"], check=True)
            frames = [np.array(Image.open(f).convert("RGB")) for f in sorted(glob.glob(d + "/f_*.png"))]
        picks = np.linspace(0, len(frames) - 1, args.columns).round().astype(int)
        return np.concatenate([frames[i] for i in picks], 1)

    rows = []
    for family, caption in first_captions(args.manifest).items():
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            rows.append(render(args.model, caption, seed))
            if args.baseline:
                rows.append(render(args.baseline, caption, seed))
                rows.append(np.full((4,) + rows[-1].shape[1:], 24, np.uint8))  # a gap between families' pairs
            print(f"{family} seed {seed}: {caption!r}", flush=True)
    image = Image.fromarray(np.concatenate(rows, 0))
    if args.output.lower().endswith((".jpg", ".jpeg")):
        image.save(args.output, quality=88)
    else:
        image.save(args.output)
    print("sheet", args.output)


if __name__ == "__main__":
    main()
