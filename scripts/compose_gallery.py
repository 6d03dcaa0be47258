"""Composes samples/gallery.png from the per-prompt contact sheets that scripts/gallery.sh
renders into samples/gallery/: one row per prompt (label, then every other frame of the 16), and
under it the baseline model's row where gallery.sh rendered one (NAME.baseline.png); quantised
to 256 colours to keep the repository light. Needs Pillow."""
import argparse
import os
import re

from PIL import Image, ImageDraw

ap = argparse.ArgumentParser(description=__doc__)
ap.add_argument("--cell", type=int, default=64, help="frame size in the sheets (pixels)")
ap.add_argument("--label", default="", help="the model's name, shown under each prompt when a baseline is present")
ap.add_argument("--baseline-label", default="", help="the baseline model's name")
args = ap.parse_args()

rows = [m.groups() for m in (re.match(r"^([a-z\-]+)\|(.+)$", l.strip()) for l in open("scripts/gallery.sh")) if m]
cell, cols, pad = args.cell, 8, 2
label = 300


def frames(path):
    sheet = Image.open(path).convert("RGB")
    per = (sheet.width + 2) // 8  # 8 columns, 2 px spacing
    return [sheet.crop(((i % 8) * per, (i // 8) * per, (i % 8) * per + cell, (i // 8) * per + cell)) for i in range(16)]


lines = []  # (text, subtext, sheet path)
for name, prompt in rows:
    base = f"samples/gallery/{name}.baseline.png"
    if os.path.exists(base):
        lines.append((prompt, args.label, f"samples/gallery/{name}.png"))
        lines.append(("", args.baseline_label, base))
    else:
        lines.append((prompt, "", f"samples/gallery/{name}.png"))
out = Image.new("RGB", (label + cols * (cell + pad), len(lines) * (cell + pad)), (24, 24, 24))
draw = ImageDraw.Draw(out)
for r, (text, sub, path) in enumerate(lines):
    y = r * (cell + pad)
    if text:
        draw.text((6, y + cell // 2 - 12), text, fill=(230, 230, 230))
    if sub:
        draw.text((6, y + cell // 2 + 4), sub, fill=(150, 150, 150))
    fr = frames(path)
    for c in range(cols):
        out.paste(fr[2 * c], (label + c * (cell + pad), y))
out.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save("samples/gallery.png", optimize=True)
