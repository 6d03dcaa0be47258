#!/usr/bin/env bash
# The conditioning study (docs/conditioning.md): short teachers at 32x32 in pixel space, one lever
# each against the baseline, at equal compute (STEPS steps, batch 4, peak lr 1e-3, warm-up 50,
# seed 1, the shipped DenoiserConfig), each judged by `t2v-scenes report` (32 DDIM steps,
# guidance 3, SEEDS seeds per family and caption set).
#
#   bash scripts/conditioning-study.sh ARM [ARM...]     # arms: baseline corpus200 grammar joint shift-1 shift-2 dropout0.2 minsnr5 highnoise xattn joint-xattn
#
# Resumable: a finished teacher or report is skipped, a started teacher resumes from its
# checkpoint. Work files go to $WORK (default work/conditioning).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/train-arm.sh
WORK=${WORK:-work/conditioning}
STEPS=${STEPS:-1500}
SEEDS=${SEEDS:-4}
BIN=${BIN:-$(swift build -c release --show-bin-path)}
BASE=work/default-model
mkdir -p "$WORK"

# The corpus of 40 clips a family and the held-out set (the 32x32 pixel chain's stages 1-2,
# `LATENT=0 WORK=work/default-model bash scripts/train-default.sh`).
data() { # $1 folder, $2 clips per family, $3 extra render flags
    if [ ! -f "$1/dataset/manifest.jsonl" ]; then
        "$BIN/t2v-scenes" render -o "$1/corpus" --per-family "$2" --size 64 --frames 16 --fps 8 --quiet $3
        "$BIN/t2v-render" extract "$1/corpus" -o "$1/dataset" --frames 16 --fps 8 --size 32x32 --quiet
    fi
}
data "$BASE" 40 ""
[ -f "$BASE/heldout-dataset/manifest.jsonl" ] || {
    "$BIN/t2v-scenes" render -o "$BASE/heldout" --split heldout --captions training --per-family 8 --size 64 --frames 16 --fps 8 --quiet
    "$BIN/t2v-render" extract "$BASE/heldout" -o "$BASE/heldout-dataset" --frames 16 --fps 8 --size 32x32 --quiet
}

shifted_config() { # $1 log-SNR shift -> a DenoiserConfig JSON path
    local path="$WORK/config-shift$1.json"
    python3 - "$1" "$path" <<'PY'
import json, sys
cfg = json.load(open("samples/default-model.json"))
cfg["schedule"] = {"betaSchedule": {"shiftedCosine": {"maxBeta": 0.999, "logSNRShift": float(sys.argv[1])}}, "trainSteps": 1000}
json.dump(cfg, open(sys.argv[2], "w"), indent=2)
PY
    echo "$path"
}

# The shipped DenoiserConfig with cross-attention to MiniLM's token states.
cross_attention_config() {
    local path="$WORK/config-xattn.json"
    python3 -c 'import json, sys; c = json.load(open("samples/default-model.json")); c["crossAttention"] = True; json.dump(c, open(sys.argv[1], "w"), indent=2)' "$path"
    echo "$path"
}

for ARM in "$@"; do
    DATA=$BASE/dataset
    CONFIG=samples/default-model.json
    FLAGS=""
    FRACTION=0  # clips only, as every arm but joint trains (train's default is 0.5)
    case "$ARM" in
        baseline) ;;
        corpus200) data "$WORK/corpus200" 200 ""; DATA=$WORK/corpus200/dataset ;;
        grammar) data "$WORK/grammar" 40 "--captions grammar"; DATA=$WORK/grammar/dataset ;;
        joint) FRACTION=0.5 ;;
        shift-1) CONFIG=$(shifted_config -1) ;;
        shift-2) CONFIG=$(shifted_config -2) ;;
        dropout0.2) FLAGS="--condition-dropout 0.2" ;;
        minsnr5) FLAGS="--min-snr-gamma 5" ;;
        highnoise) FLAGS="--high-noise-fraction 0.5" ;;  # half the clips at the noisiest tenth of the schedule
        xattn) CONFIG=$(cross_attention_config) ;;
        joint-xattn) CONFIG=$(cross_attention_config); FRACTION=0.5 ;;  # the two levers that moved adherence
        *) echo "unknown arm $ARM" >&2; exit 2 ;;
    esac
    OUT=$WORK/$ARM
    train_arm "$OUT" "$ARM" --data "$DATA" --config "$CONFIG" --steps "$STEPS" --batch 4 --lr 1e-3 \
        --warmup 50 --checkpoint-every 50 --seed 1 --image-fraction "$FRACTION" $FLAGS
    if [ ! -f "$OUT/REPORT.md" ]; then
        start=$(date +%s)
        "$BIN/t2v-scenes" report --model "$OUT/teacher.safetensors" --heldout "$BASE/heldout-dataset" \
            --seeds "$SEEDS" -o "$OUT/REPORT.md" > "$OUT/report.log" 2>&1
        echo "$ARM: report in $(( $(date +%s) - start )) s" | tee -a "$WORK/times.txt"
    fi
done
