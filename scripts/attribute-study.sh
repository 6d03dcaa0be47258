#!/usr/bin/env bash
# Attribute binding at equal compute (docs/conditioning.md, "Attribute binding"): short teachers on
# the three families whose captions name an attribute (ball colour, car and cloud direction), one
# lever each against the baseline, each judged by `t2v-scenes attributes` (every colour and
# direction, training captions and held-out paraphrases, SEEDS clips each with the same noise
# seeds, read from the pixels).
#
#   bash scripts/attribute-study.sh ARM [ARM...]     # arms: baseline xattn ttext tconv tconv-ttext tconv-joint tconv-whiten tconv-pos pos strong strong-xattn highnoise tconv-highnoise joint-highnoise shift-1 shift-2 dropout0.2 motion1 whiten grammar joint corpus200,
#   and wordings or ARM-wordings (e.g. strong-wordings): that arm with each clip under every training wording of its
#   attributes, one drawn each time it is used (`t2v-scenes render --captions all`)
#
# Every arm: the shipped 32x32 DenoiserConfig, STEPS steps, batch 4, peak lr 1e-3, warm-up 50,
# seed 1, on 40 clips a family (the default corpus's clips of those families; corpus200: 200).
# FAMILIES (default ball,car,clouds) picks the families trained and probed, e.g. FAMILIES=ball
# WORK=work/ball-binding STEPS=800 for the ball family alone (docs/experiments/objects.md).
# NEGATIVE=1 adds a second probe guided against the attribute-free caption
# (attributes-negative.md). Resumable; work files go to $WORK (default work/attributes).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/train-arm.sh
WORK=${WORK:-work/attributes}
STEPS=${STEPS:-1200}
SEEDS=${SEEDS:-8}
BIN=${BIN:-$(swift build -c release --show-bin-path)}
FAMILIES=${FAMILIES:-ball,car,clouds}
NEGATIVE=${NEGATIVE:-0}
mkdir -p "$WORK"

data() { # $1 folder, $2 extra render flags, $3 clips a family (default 40)
    if [ ! -f "$1/dataset/manifest.jsonl" ]; then
        "$BIN/t2v-scenes" render -o "$1/corpus" --per-family "${3:-40}" --families $FAMILIES --size 64 --frames 16 --fps 8 --quiet $2
        "$BIN/t2v-render" extract "$1/corpus" -o "$1/dataset" --frames 16 --fps 8 --size 32x32 --quiet
    fi
}

# The shipped DenoiserConfig with keys set: $1 arm name, then KEY JSON-VALUE pairs -> the path.
config_with() {
    local path="$WORK/config-$1.json"
    shift
    python3 -c 'import json, sys; c = json.load(open("samples/default-model.json")); a = sys.argv[2:]
for k, v in zip(a[::2], a[1::2]): c[k] = json.loads(v)
json.dump(c, open(sys.argv[1], "w"), indent=2)' "$path" "$@"
    echo "$path"
}

for ARM in "$@"; do
    DATA=$WORK/base/dataset
    CONFIG=samples/default-model.json
    FLAGS=""
    FRACTION=0  # clips only, as every arm but joint trains (train's default is 0.5)
    BASE=$ARM  # the arm's recipe; ARM-wordings trains it on the every-wording data
    case "$ARM" in
        wordings) BASE=baseline ;;
        grammar-wordings | corpus200-wordings) echo "$ARM: ${ARM%-wordings} brings its own data; it has no -wordings form" >&2; exit 2 ;;
        *-wordings) BASE=${ARM%-wordings} ;;
    esac
    case "$BASE" in
        baseline) ;;
        grammar) data "$WORK/grammar" "--captions grammar"; DATA=$WORK/grammar/dataset ;;
        joint) FRACTION=0.5 ;;
        corpus200) data "$WORK/corpus200" "" 200; DATA=$WORK/corpus200/dataset ;;
        dropout0.2) FLAGS="--condition-dropout 0.2" ;;
        motion1) FLAGS="--motion-loss 1" ;;  # the frame-difference term (TrainingConfig.motionLossWeight)
        whiten) CONFIG=$(config_with whiten textWhitening 0.001) ;;  # caption-whitened text input (TextWhitening)
        xattn) CONFIG=$(config_with xattn crossAttention true) ;;
        ttext) CONFIG=$(config_with ttext temporalConditioning true) ;;  # the pooled text in every temporal block
        tconv) CONFIG=$(config_with tconv temporalConvolution true) ;;  # the temporal convolution, as the shipped recipe has
        tconv-ttext) CONFIG=$(config_with tconv-ttext temporalConvolution true temporalConditioning true) ;;
        tconv-joint) CONFIG=$(config_with tconv temporalConvolution true); FRACTION=0.5 ;;
        tconv-whiten) CONFIG=$(config_with tconv-whiten temporalConvolution true textWhitening 0.001) ;;
        tconv-pos) CONFIG=$(config_with tconv-pos temporalConvolution true temporalPositions true) ;;  # and each frame's place in the clip
        pos) CONFIG=$(config_with pos temporalPositions true) ;;
        strong)  # every path this network has for the word: the temporal convolution, frame positions, the
            # text inside the temporal blocks and whitened, and half of the clips at t = 980-999
            CONFIG=$(config_with strong temporalConvolution true temporalPositions true temporalConditioning true textWhitening 0.001)
            FLAGS="--high-noise-fraction 0.5 --high-noise-from 0.98" ;;
        strong-xattn)  # and cross-attention to the token states, where "left" is a token of its own whatever the wording
            CONFIG=$(config_with strong-xattn temporalConvolution true temporalPositions true temporalConditioning true textWhitening 0.001 crossAttention true)
            FLAGS="--high-noise-fraction 0.5 --high-noise-from 0.98" ;;
        highnoise) FLAGS="--high-noise-fraction 0.5" ;;  # half the clips at timesteps 900-999
        tconv-highnoise) CONFIG=$(config_with tconv temporalConvolution true); FLAGS="--high-noise-fraction 0.5" ;;
        joint-highnoise) FRACTION=0.5; FLAGS="--high-noise-fraction 0.5" ;;
        shift-1 | shift-2)  # the cosine schedule's log-SNR shifted towards noise by 1 or 2
            CONFIG=$(config_with "$BASE" schedule \
                "{\"betaSchedule\": {\"shiftedCosine\": {\"maxBeta\": 0.999, \"logSNRShift\": ${BASE#shift}}}, \"trainSteps\": 1000}") ;;
        *) echo "unknown arm $ARM" >&2; exit 2 ;;
    esac
    if [ "$BASE" != "$ARM" ]; then
        data "$WORK/wordings" "--captions all"
        DATA=$WORK/wordings/dataset
    fi
    data "$WORK/base" ""
    OUT=$WORK/$ARM
    train_arm "$OUT" "$ARM" --data "$DATA" --config "$CONFIG" --steps "$STEPS" --batch 4 --lr 1e-3 \
        --warmup 50 --checkpoint-every 50 --seed 1 --image-fraction "$FRACTION" $FLAGS
    if [ ! -f "$OUT/attributes.md" ]; then
        "$BIN/t2v-scenes" attributes --model "$OUT/teacher.safetensors" --families $FAMILIES --seeds "$SEEDS" \
            --json "$OUT/attributes.json" --quiet > "$OUT/attributes.md.tmp"
        mv "$OUT/attributes.md.tmp" "$OUT/attributes.md"
    fi
    if [ "$NEGATIVE" = 1 ] && [ ! -f "$OUT/attributes-negative.md" ]; then
        "$BIN/t2v-scenes" attributes --model "$OUT/teacher.safetensors" --families $FAMILIES --seeds "$SEEDS" \
            --attribute-free-negative --json "$OUT/attributes-negative.json" --quiet > "$OUT/attributes-negative.md.tmp"
        mv "$OUT/attributes-negative.md.tmp" "$OUT/attributes-negative.md"
    fi
done
