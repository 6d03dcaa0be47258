#!/usr/bin/env bash
# Attribute binding on a model that draws the objects (docs/conditioning.md, "Binding on a model
# that draws the ball"): the chain's latent teacher fine-tuned STEPS more steps on the latents of
# the three attribute families (ball, car, clouds), with its own architecture (arm "plain") and
# with token cross-attention grown in (arm "xattn"), then `t2v-scenes attributes` on the teacher
# and on each arm.
#
#   bash scripts/binding-finetune.sh [ARM ...]      # arms: plain xattn (default: both)
#
# TEACHER (default work/v2/chain/teacher.safetensors), AE (its autoencoder, default
# work/v2/chain/ae.safetensors), LATENTS (the chain's latents, default work/v2/chain/latents),
# STEPS (800), SEEDS (8), WORK (work/bind), BIN (the release build). Resumable.
set -euo pipefail
cd "$(dirname "$0")/.."
TEACHER=${TEACHER:-work/v2/chain/teacher.safetensors}
AE=${AE:-work/v2/chain/ae.safetensors}
LATENTS=${LATENTS:-work/v2/chain/latents}
STEPS=${STEPS:-800}
SEEDS=${SEEDS:-8}
WORK=${WORK:-work/bind}
BIN=${BIN:-$(swift build -c release --show-bin-path)}
ARMS=("$@"); [ ${#ARMS[@]} -eq 0 ] && ARMS=(plain xattn)
mkdir -p "$WORK/latents"

# The attribute families' rows of the latent manifest, beside links to the shards.
if [ ! -f "$WORK/latents/manifest.jsonl" ]; then
    for f in "$(cd "$LATENTS" && pwd)"/shard-*.safetensors; do ln -sf "$f" "$WORK/latents/"; done
    python3 - "$LATENTS/manifest.jsonl" "$WORK/latents/manifest.jsonl.tmp" <<'PY'
import json, os, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
keep = [r for r in rows if os.path.basename(r["source"]).split("-")[0] in ("ball", "car", "clouds")]
with open(sys.argv[2], "w") as out:
    out.writelines(json.dumps(r, separators=(",", ":")) + "\n" for r in keep)
print(f"{len(keep)} of {len(rows)} clips")
PY
    mv "$WORK/latents/manifest.jsonl.tmp" "$WORK/latents/manifest.jsonl"
fi

# The teacher's own DenoiserConfig with cross-attention added.
python3 - "$TEACHER" "$WORK/config-xattn.json" <<'PY'
import json, sys
from safetensors import safe_open
with safe_open(sys.argv[1], "np") as f:
    config = json.loads(f.metadata()["t2v.denoiser_config"])
json.dump(dict(config, crossAttention=True), open(sys.argv[2], "w"), indent=2)
PY

probe() { # $1 name, $2 model
    if [ ! -f "$WORK/$1.attributes.md" ]; then
        "$BIN/t2v-scenes" attributes --model "$2" --steps 32 --guidance 3 --guidance-rescale 0.7 --seeds "$SEEDS" \
            --json "$WORK/$1.attributes.json" --quiet > "$WORK/$1.attributes.md.tmp"
        mv "$WORK/$1.attributes.md.tmp" "$WORK/$1.attributes.md"
    fi
}

for ARM in "${ARMS[@]}"; do
    case "$ARM" in
        plain) CONFIG="" ;;
        xattn) CONFIG="--config $WORK/config-xattn.json" ;;
        *) echo "unknown arm $ARM (plain or xattn)" >&2; exit 2 ;;
    esac
    if [ ! -f "$WORK/$ARM.safetensors" ]; then
        start=$(date +%s)
        if [ -f "$WORK/$ARM.ckpt.safetensors" ]; then
            "$BIN/t2v-render" train --data "$WORK/latents" --checkpoint "$WORK/$ARM.ckpt.safetensors" --resume \
                --autoencoder "$AE" --precision bf16 --quiet -o "$WORK/$ARM.safetensors"
        else
            "$BIN/t2v-render" train --data "$WORK/latents" --init "$TEACHER" $CONFIG --autoencoder "$AE" --steps "$STEPS" \
                --batch 4 --lr 5e-4 --warmup 50 --checkpoint-every 50 --seed 1 --image-fraction 0.5 --precision bf16 \
                --checkpoint "$WORK/$ARM.ckpt.safetensors" --quiet -o "$WORK/$ARM.safetensors"
        fi
        echo "$ARM: trained in $(( $(date +%s) - start )) s (this leg)" | tee -a "$WORK/times.txt"
    fi
done
probe teacher "$TEACHER"
for ARM in "${ARMS[@]}"; do probe "$ARM" "$WORK/$ARM.safetensors"; done
