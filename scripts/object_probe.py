"""Render ball prompts with t2v-render at the model's native size and judge each clip with the
same rules as Scenes' ObjectTracker.ball (a compact blob of saturated colour of a ball's size,
coloured by its mean hue): is the ball there, in the named colour, and how far it moves per frame.
A quick probe for small experiments; the report (`t2v-scenes report`) runs the Swift tracker.

    python3 scripts/object_probe.py MODEL [--seeds 4] [--guidance 3] [--steps 32] [--sampler ddim] [--eta 0]
                                    [--guidance-rescale 0]
                                    [--sheet OUT.png]

Seeds start at 500. Prints one line per clip and a summary per prompt; --sheet writes every
other frame of every clip, a row per clip (red prompt first), upscaled 3x.
"""
import argparse, colorsys, glob, os, subprocess, sys, tempfile

import numpy as np
from PIL import Image
from scipy import ndimage

PROMPTS = [("a red ball bouncing", "red"), ("a blue ball bouncing on a plain background", "blue")]
HUES = {"red": 0.0, "yellow": 1 / 6, "green": 1 / 3, "blue": 0.62}


def frame_ball(frame):
    """(x, y, colour, area) of the ball in a uint8 [H, W, 3] frame, or None."""
    x = frame.astype(np.float32) / 255
    h, w, _ = x.shape
    chroma = x.max(-1) - x.min(-1)
    mask = chroma > max(0.25, float(np.median(chroma)) + 0.2)
    labels, n = ndimage.label(mask)
    if n == 0:
        return None
    sizes = ndimage.sum(mask, labels, range(1, n + 1))
    k = int(np.argmax(sizes)) + 1
    area = sizes[k - 1]
    ys, xs = np.nonzero(labels == k)
    bh, bw = np.ptp(ys) + 1, np.ptp(xs) + 1
    if not (np.pi * (0.075 * w) ** 2 * 0.35 <= area <= np.pi * (0.11 * w) ** 2 * 2):
        return None
    if max(bh, bw) > 2.2 * min(bh, bw) or area < 0.45 * bh * bw:
        return None
    r, g, b = x[labels == k].mean(0)
    hue = colorsys.rgb_to_hsv(r, g, b)[0]
    colour = min(HUES, key=lambda c: min(abs(hue - HUES[c]), 1 - abs(hue - HUES[c])))
    return (xs.mean() / w, ys.mean() / h, colour, area)


def judge(clip):
    found = [frame_ball(f) for f in clip]
    colours = [d[2] for d in found if d]
    steps = [np.hypot(a[0] - b[0], a[1] - b[1]) for a, b in zip(found, found[1:]) if a and b]
    return dict(present=len(colours), colour=max(set(colours), key=colours.count) if colours else None,
                step=float(np.median(steps)) if steps else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("--seeds", type=int, default=4)
    ap.add_argument("--guidance", default="3")
    ap.add_argument("--steps", default="32")
    ap.add_argument("--sampler", default="ddim", choices=["ddim", "ddpm", "dpmpp"])
    ap.add_argument("--eta", default="0", help="DDIM's eta (0: deterministic)")
    ap.add_argument("--guidance-rescale", default="0", help="render --guidance-rescale (0: plain guidance)")
    ap.add_argument("--sheet")
    args = ap.parse_args()
    binary = os.environ.get("T2V_RENDER", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                       ".build", "release", "t2v-render"))
    rows = []
    for prompt, colour in PROMPTS:
        held = named = 0
        steps = []
        for seed in range(500, 500 + args.seeds):
            with tempfile.TemporaryDirectory() as d:
                subprocess.run([binary, "--prompt", prompt, "--model", args.model, "--seed", str(seed), "--steps", args.steps,
                                "--guidance", args.guidance, "--sampler", args.sampler] + (["--eta", args.eta] if args.eta != "0" else [])
                               + (["--guidance-rescale", args.guidance_rescale] if args.guidance_rescale != "0" else []) + ["--size", "32x32", "--format", "png", "-o", d + "/f_%02d.png", "-q"],
                               check=True)
                clip = np.stack([np.array(Image.open(f).convert("RGB")) for f in sorted(glob.glob(d + "/f_*.png"))])
            r = judge(clip)
            held += r["present"] >= 14
            named += r["present"] >= 8 and r["colour"] == colour
            if r["step"] is not None:
                steps.append(r["step"])
            rows.append(np.concatenate(list(clip[::2]), 1))
            print(f"  {prompt!r} seed {seed}: ball in {r['present']}/16 frames, colour {r['colour']}, median step {r['step']}")
        print(f"{prompt!r}: ball held (>= 14/16 frames) {held}/{args.seeds}; in the named colour {named}/{args.seeds}; "
              f"median step {np.median(steps) if steps else None}")
    if args.sheet:
        img = np.concatenate(rows, 0)
        Image.fromarray(img).resize((img.shape[1] * 3, img.shape[0] * 3), Image.NEAREST).save(args.sheet)
        print("sheet", args.sheet)


if __name__ == "__main__":
    main()
