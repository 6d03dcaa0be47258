#!/usr/bin/env bash
# Can the network bind a direction word at all? Overfit a minimal pair: PER car clips that drive
# left, captioned "a car driving left along a road at night", and PER that drive right, captioned
# the same with "right"; the two captions differ in one word, so only the word can tell the model
# which way to send the car. Then render SEEDS clips for each caption (the same seeds for both)
# and read the direction back from the pixels with `t2v-scenes track`.
#
#   bash scripts/direction-overfit.sh ARM [ARM...]    # arms: plain (the shipped 32x32 config), tconv, tconv-pos, tconv-pos-top, strong,
#   strong-nowhiten, strong-nottext
#
# PER (default 2), STEPS (default 800), SEEDS (default 8), WORK (default work/direction-overfit).
# The car clips come from the default corpus's renderer (t2v-scenes render --families car).
# Resumable; work files go to $WORK.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/train-arm.sh
WORK=${WORK:-work/direction-overfit}
PER=${PER:-2}
STEPS=${STEPS:-800}
SEEDS=${SEEDS:-8}
BIN=${BIN:-$(swift build -c release --show-bin-path)}
LEFT="a car driving left along a road at night"
RIGHT="a car driving right along a road at night"
mkdir -p "$WORK"

if [ ! -f "$WORK/dataset/manifest.jsonl" ]; then
    rm -rf "$WORK/all" "$WORK/corpus"
    "$BIN/t2v-scenes" render -o "$WORK/all" --per-family 40 --families car --size 64 --frames 16 --fps 8 --quiet
    mkdir -p "$WORK/corpus"
    # the first PER clips whose caption names each direction, recaptioned as the minimal pair
    python3 - "$WORK" "$PER" "$LEFT" "$RIGHT" <<'PY'
import os, shutil, sys
work, per, left, right = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
names = sorted((n[:-4] for n in os.listdir(f"{work}/all") if n.endswith(".txt") and n != "manifest.txt"),
               key=lambda n: int(n.split("-")[1]))
taken = {"left": 0, "right": 0}
for n in names:
    words = open(f"{work}/all/{n}.txt").read().split()
    side = "left" if "left" in words else "right" if "right" in words or "right," in words else None
    if side is None or taken[side] == per:
        continue
    taken[side] += 1
    shutil.copy(f"{work}/all/{n}.mp4", f"{work}/corpus/{n}.mp4")
    open(f"{work}/corpus/{n}.txt", "w").write(left if side == "left" else right)
if min(taken.values()) < per:
    sys.exit(f"only {taken} clips with a direction word in {work}/all")
PY
    "$BIN/t2v-render" extract "$WORK/corpus" -o "$WORK/dataset" --frames 16 --fps 8 --size 32x32 --quiet
fi

for ARM in "$@"; do
    case "$ARM" in
        plain) CONFIG=samples/default-model.json ;;
        tconv | tconv-pos | tconv-pos-top | strong | strong-nowhiten | strong-nottext)  # the temporal convolution; each frame's place in the clip; and
            # half of the clips trained at the top of the schedule, t = 980-999, where the noisy clip no
            # longer shows its direction and only the word can say it; strong: all of these, and the
            # text inside the temporal blocks and whitened (every path this network has for the word);
            # strong-nowhiten, strong-nottext: strong without one of those two
            CONFIG=$WORK/config-$ARM.json
            python3 -c 'import json, sys; c = json.load(open("samples/default-model.json")); c["temporalConvolution"] = True
arm = sys.argv[2]
c["temporalPositions"] = arm.startswith("tconv-pos") or arm.startswith("strong")
if arm in ("strong", "strong-nowhiten"): c["temporalConditioning"] = True
if arm in ("strong", "strong-nottext"): c["textWhitening"] = 0.001
json.dump(c, open(sys.argv[1], "w"), indent=2)' "$CONFIG" "$ARM" ;;
        *) echo "unknown arm $ARM" >&2; exit 2 ;;
    esac
    FLAGS=""
    case "$ARM" in tconv-pos-top | strong*) FLAGS="--high-noise-fraction 0.5 --high-noise-from 0.98" ;; esac
    OUT=$WORK/$ARM
    train_arm "$OUT" "$ARM" --data "$WORK/dataset" --config "$CONFIG" --steps "$STEPS" --batch 4 --lr 1e-3 \
        --warmup 50 --checkpoint-every 50 --seed 1 --image-fraction 0 $FLAGS
    if [ ! -f "$OUT/track.txt" ]; then
        rm -rf "$OUT/samples" "$OUT/samples-dataset"
        python3 - "$OUT/prompts.jsonl" "$SEEDS" "$LEFT" "$RIGHT" <<'PY'
import json, sys
path, seeds, left, right = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(path, "w") as f:
    # named family-index, as the tracker reads the family from the name; seeds 0..<N for each word
    for k, caption in enumerate((left, right)):
        for s in range(seeds):
            f.write(json.dumps({"prompt": caption, "seed": s, "output": f"car-{k * seeds + s}.mp4"}) + "\n")
            open(path.rsplit("/", 1)[0] + f"/car-{k * seeds + s}.txt", "w").write(caption + "\n")
PY
        "$BIN/t2v-render" render --prompts "$OUT/prompts.jsonl" --output-dir "$OUT/samples" --model "$OUT/teacher.safetensors" \
            --steps 32 --sampler ddim --guidance 3 --size 64x64 --quiet
        mv "$OUT"/car-*.txt "$OUT/samples/"
        "$BIN/t2v-render" extract "$OUT/samples" -o "$OUT/samples-dataset" --frames 16 --fps 8 --size 32x32 --quiet
        "$BIN/t2v-scenes" track "$OUT/samples-dataset" > "$OUT/track.txt.tmp"
        "$BIN/t2v-scenes" track "$OUT/samples-dataset" --json > "$OUT/track.jsonl"
        mv "$OUT/track.txt.tmp" "$OUT/track.txt"
    fi
    echo "$ARM: $(cat "$OUT/track.txt")"
done
