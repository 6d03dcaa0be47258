#!/usr/bin/env bash
# Renders the README gallery: one contact sheet (16 frames) per prompt with the shipped default
# model, into samples/gallery/, composed into samples/gallery.png. Prompts include training-style
# captions and paraphrases the model never saw.
# Usage: bash scripts/gallery.sh [SEED]
# Knobs: MODEL (default: weights/t2v-default.safetensors), SIZE (the frames' size, default
# 128x128), BASELINE (a second model rendered under each row with the same seed and size, e.g.
# an earlier default model, for a side-by-side gallery), BIN (a folder holding a built t2v-render
# to use instead of building the package).
set -euo pipefail
cd "$(dirname "$0")/.."
SEED=${1:-1}
MODEL=${MODEL:-weights/t2v-default.safetensors}
SIZE=${SIZE:-128x128}
BASELINE=${BASELINE:-}
if [ -z "${BIN:-}" ]; then BIN=$(swift build -c release --show-bin-path); swift build -c release --product t2v-render >/dev/null; fi
OUT=samples/gallery
mkdir -p "$OUT"
while IFS='|' read -r name prompt; do
    [ -z "$name" ] && continue
    "$BIN/t2v-render" --prompt "$prompt" --model "$MODEL" --seed "$SEED" --size "$SIZE" -o "$OUT/$name.mp4" --sheet "$OUT/$name.png" --quiet
    if [ -n "$BASELINE" ]; then
        "$BIN/t2v-render" --prompt "$prompt" --model "$BASELINE" --seed "$SEED" --size "$SIZE" -o "$OUT/$name.mp4" --sheet "$OUT/$name.baseline.png" --quiet
    fi
    echo "$name: $prompt"
done <<'PROMPTS'
city|A cyberpunk city at night
metropolis|a neon-lit metropolis after dark
sunset|a sunset over the ocean
dusk-sea|the sun going down over the sea
snow|snow falling in a forest
fireworks|fireworks in the night sky
ball-red|a red ball bouncing
clouds-left|clouds drifting to the left across a blue sky
storm|a thunderstorm with lightning
stars|a starry night with a shooting star
campfire|a campfire flickering in the dark
underwater|underwater, bubbles rising
car|a car driving at night, headlights moving right
aurora|the northern lights over a dark landscape
leaves|autumn leaves falling
sunrise|a sunrise over mountains
PROMPTS
rm -f "$OUT"/*.mp4
python3 scripts/compose_gallery.py --cell "${SIZE%%x*}" ${BASELINE:+--baseline-label "$(basename "$BASELINE")"} \
    --label "$(basename "$MODEL")" && rm -rf "$OUT"
echo "wrote samples/gallery.png"
