"""Composes samples/gallery.png from the per-prompt contact sheets that scripts/gallery.sh
renders into samples/gallery/: one row per prompt (label, then every other frame of the 16),
quantised to 256 colours to keep the repository light. Needs Pillow."""
import re
from PIL import Image, ImageDraw

rows = [m.groups() for m in (re.match(r"^([a-z\-]+)\|(.+)$", l.strip()) for l in open("scripts/gallery.sh")) if m]
cell, label, cols, pad = 64, 300, 8, 2
out = Image.new("RGB", (label + cols * (cell + pad), len(rows) * (cell + pad)), (24, 24, 24))
draw = ImageDraw.Draw(out)
for r, (name, prompt) in enumerate(rows):
    sheet = Image.open(f"samples/gallery/{name}.png").convert("RGB")
    per = (sheet.width + 2) // 8
    frames = [sheet.crop(((i % 8) * per, (i // 8) * per, (i % 8) * per + cell, (i // 8) * per + cell)) for i in range(16)]
    y = r * (cell + pad)
    draw.text((6, y + 26), prompt, fill=(230, 230, 230))
    for c in range(cols):
        out.paste(frames[2 * c], (label + c * (cell + pad), y))
out.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save("samples/gallery.png", optimize=True)
