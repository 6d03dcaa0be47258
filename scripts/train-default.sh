#!/usr/bin/env bash
# Reproduces the shipped default model, weights/t2v-default.safetensors, through the project's
# own pipeline: render the procedural scene corpus (t2v-scenes) at 128x128 to H.264 MP4s with
# FrameIO, turn it into a dataset with `t2v-render extract`, train the autoencoder
# (`train-autoencoder`, 5000 steps) and code the clips to 32x32x4 latents (`encode-latents`),
# train the latent teacher with `t2v-render train` (samples/latent-model.json: the temporal
# convolution on; 5000 steps at peak learning rate 1e-3 in two cosine cycles ending at 1000 and
# 5000, half of every batch single frames, `--image-fraction 0.5`), distil its 64-step sampler to
# an 8-step student with `t2v-render distill` (64 -> 32 -> 16 -> 8; guided distillation: guidance
# 3 with guidance rescale 0.7 is distilled into the student; each round's learning rate annealed
# linearly to 0), and copy the student, which carries the autoencoder, into weights/.
#
# Measured on this project's 2-core machine (AVX-512 with BF16), stage by stage in separate runs:
# corpus 270 s, autoencoder 1601 s (fp32), latents about 4 min, teacher 914 + 6060 s (fp32, the
# machine partly shared), the ablation and the distillation 1314 s together (bf16); the extraction
# was not timed on its own. About 2 h 55 min in all plus the extraction; never timed end to end. The
# shipped teacher trained in fp32 and its distillation ran in bf16; PRECISION picks one for every
# stage. A rerun on another CPU rounds differently and ends at other weights of the same recipe,
# so it reproduces the recipe and its figures, not the bytes. The 32x32 pixel-space model shipped
# before (LATENT=0 CONFIG=samples/default-model.json CYCLES="1000 5000 6000" IMAGE_FRACTION=0
# GUIDANCE_RESCALE=0) is docs/experiments/default-model-history.md's.
#
# Resumable: every stage skips what is done; training and distillation resume from their checkpoints. Run it again
# after an interruption (or on another day). Work files go to $WORK (default work/default-latent,
# gitignored). Knobs: CONFIG (the DenoiserConfig JSON of teacher and ablation, default
# samples/latent-model.json), FROM_STEPS (the teacher sampler's steps that distillation starts from,
# default 64 as shipped; 32 before), CYCLES (where each cosine cycle of the teacher ends; each later cycle is a
# warm restart, `train --resume --extend`), DISTILL_STEPS (per round), TO_STEPS (the student's),
# LR (the teacher's and the ablation's peak learning rate, default 1e-3 as shipped; the model
# shipped before 2026-11-27 used LR=4e-4 CYCLES="1000 3500 5800 8000 11000", and later ones
# shipped CYCLES="1000 5000"; the 32x32 model shipped until 2026-12-06 used CYCLES="1000 5000 6000"),
# GUIDANCE (the classifier-free guidance scale distilled into the student; 1 = unguided),
# GUIDANCE_RESCALE (guidance rescale applied to the teacher's guided output, 0...1, default 0.7 as
# shipped; 0 = plain guidance; docs/experiments/objects.md),
# GUIDANCE_INTERVAL (FIRST:LAST, the teacher timesteps where that guidance applies, `distill
# --guidance-interval`; empty = every step; docs/experiments/objects.md),
# LR_SCHEDULE (distillation's learning rate within a round: linear, as shipped, or
# constant, as before), GUIDANCE_STEPS (steps of a guidance stage before halving, Meng et al.'s
# stage 1; 0 = the guidance is distilled in the first halving round, as shipped),
# FAMILY_CLIPS (families rendered with more training clips than PER_FAMILY, e.g. "ball=120
# car=120 clouds=120": the families whose attributes the words must bind get more of the
# teacher's batches; empty, as shipped, = PER_FAMILY for every family),
# TEACHER_FLAGS (further `train` flags for the teacher only, e.g. "--high-noise-fraction 0.5
# --high-noise-from 0.98"; empty as shipped),
# IMAGE_FRACTION (the teacher's `train --image-fraction`: joint image-video training, default 0.5
# as shipped; docs/experiments/objects.md),
# LATENT (1, the default: the latent model, the corpus rendered and extracted at LATENT_SIZE,
# default 128, the autoencoder trained on it (AE_STEPS, default 5000), the clips coded to
# latents, and the teacher, the ablation and the students trained on the latents, each model file
# carrying the autoencoder, docs/latent.md; 0: the 32x32 pixel-space model),
# CAPTIONS (the corpus's `t2v-scenes render --captions` for the training split: training, one
# training caption a clip, as shipped; all, every training wording of a clip's attributes, one of
# which training draws each time it uses the clip),
# BIN (a folder holding t2v-render and t2v-scenes to run instead of building the package: a
# long run keeps its binaries while the package is rebuilt),
# SHIP=0 (stop before copying the student into weights/: for trial runs in another WORK),
# PRECISION (fp32 or bf16: every training, coding and distillation stage's --precision; unset,
# each command's default, bf16 where the CPU has AVX512_BF16; docs/precision.md),
# REPORT=1 (after shipping: write samples/REPORT.md, 8 seeds, with the 64-step teacher on 3 seeds
# and the ablation, and BASELINE, a model file to put beside the new one (e.g. the previous
# default); about 20 min on a quiet machine).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-work/default-latent}
CONFIG=${CONFIG:-samples/latent-model.json}
CYCLES=${CYCLES:-"1000 5000"}
LR=${LR:-1e-3}
DISTILL_STEPS=${DISTILL_STEPS:-300}
FROM_STEPS=${FROM_STEPS:-64}
TO_STEPS=${TO_STEPS:-8}
REPORT=${REPORT:-0}
GUIDANCE=${GUIDANCE:-3}
GUIDANCE_RESCALE=${GUIDANCE_RESCALE:-0.7}
GUIDANCE_INTERVAL=${GUIDANCE_INTERVAL-}
LR_SCHEDULE=${LR_SCHEDULE:-linear}
GUIDANCE_STEPS=${GUIDANCE_STEPS:-0}
BASELINE=${BASELINE:-}
CAPTIONS=${CAPTIONS:-training}
PER_FAMILY=${PER_FAMILY:-40}
FAMILY_CLIPS=${FAMILY_CLIPS:-}
TEACHER_FLAGS=${TEACHER_FLAGS:-}
for spec in $FAMILY_CLIPS; do
    [[ "$spec" =~ ^[a-z]+=[0-9]+$ ]] || { echo "error: FAMILY_CLIPS entry '$spec' is not FAMILY=COUNT (e.g. ball=120)" >&2; exit 1; }
done
IMAGE_FRACTION=${IMAGE_FRACTION:-0.5}
LATENT=${LATENT:-1}
LATENT_SIZE=${LATENT_SIZE:-128}
AE_STEPS=${AE_STEPS:-5000}
SHIP=${SHIP:-1}
PRECISION=${PRECISION:-}
PFLAG=${PRECISION:+--precision $PRECISION}
if [ -z "${BIN:-}" ]; then
    BIN=$(swift build -c release --show-bin-path)
    swift build -c release --product t2v-render >/dev/null
    swift build -c release --product t2v-scenes >/dev/null
fi
mkdir -p "$WORK" weights
# Wall-clock seconds of each stage run, appended to $WORK/stage-times.txt.
stage_started=$(date +%s)
stage_done() { local now; now=$(date +%s); echo "$1 $((now - stage_started)) s" >> "$WORK/stage-times.txt"; stage_started=$now; }

# The corpus is rendered at twice the model's frame size (64 for the 32x32 pixel model) or at the
# latent model's decoded size, and extracted (Lanczos) to that size. The held-out clips are always
# extracted at 32x32 too: the report's classifier judges every model there.
if [ "$LATENT" = 1 ]; then RENDER_SIZE=$LATENT_SIZE; FRAME_SIZE=$LATENT_SIZE; else RENDER_SIZE=64; FRAME_SIZE=32; fi
echo "== 1/5 corpus: $PER_FAMILY clips per family (train split) and 8 per family (held-out split), ${RENDER_SIZE}x${RENDER_SIZE}"
"$BIN/t2v-scenes" render -o "$WORK/corpus" --per-family "$PER_FAMILY" --size "$RENDER_SIZE" --frames 16 --fps 8 --captions "$CAPTIONS" --quiet
for spec in $FAMILY_CLIPS; do  # FAMILY=N: that family's clips 0..<N (the first PER_FAMILY are already there)
    "$BIN/t2v-scenes" render -o "$WORK/corpus" --families "${spec%%=*}" --per-family "${spec#*=}" --size "$RENDER_SIZE" --frames 16 --fps 8 --captions "$CAPTIONS" --quiet
done
"$BIN/t2v-scenes" render -o "$WORK/heldout" --split heldout --captions training --per-family 8 --size "$RENDER_SIZE" --frames 16 --fps 8 --quiet
stage_done corpus

echo "== 2/5 extract: 16 frames at 8 fps, ${FRAME_SIZE}x${FRAME_SIZE}"
"$BIN/t2v-render" extract "$WORK/corpus" -o "$WORK/dataset" --frames 16 --fps 8 --size "${FRAME_SIZE}x${FRAME_SIZE}" --quiet || true
"$BIN/t2v-render" extract "$WORK/heldout" -o "$WORK/heldout-dataset" --frames 16 --fps 8 --size 32x32 --quiet || true
stage_done extract
TRAIN_DATA="$WORK/dataset"
AE_FLAG=""
if [ "$LATENT" = 1 ]; then
    echo "== 2b/5 the autoencoder ($AE_STEPS steps) and the latents"
    if [ ! -f "$WORK/ae.safetensors" ]; then
        RESUME=""
        [ -f "$WORK/ae.ckpt.safetensors" ] && RESUME="--resume"
        "$BIN/t2v-render" train-autoencoder $PFLAG --data "$WORK/dataset" -o "$WORK/ae.safetensors" --steps "$AE_STEPS" --batch 8 \
            --crop $((LATENT_SIZE < 64 ? LATENT_SIZE : 64)) --checkpoint-every 250 --seed 1 $RESUME
    fi
    stage_done autoencoder
    # The manifest is written last: a folder with one is complete; an interrupted one is redone.
    if [ ! -f "$WORK/latents/manifest.jsonl" ]; then
        rm -rf "$WORK/latents"
        "$BIN/t2v-render" encode-latents $PFLAG "$WORK/dataset" --autoencoder "$WORK/ae.safetensors" -o "$WORK/latents" --quiet
    fi
    stage_done encode-latents
    TRAIN_DATA="$WORK/latents"
    AE_FLAG="--autoencoder $WORK/ae.safetensors"
fi

echo "== 3/5 train the teacher: cosine cycles ending at steps $CYCLES"
# One checkpoint through every cycle: the first cycle trains from scratch (or resumes), each later
# one continues the finished run with `train --resume --extend` (a warm restart of the cosine
# learning-rate schedule). The shipped teacher was trained this way, one cycle at a time.
CKPT="$WORK/teacher.ckpt.safetensors"
teacher_cycle() { # $1 total steps, $2 output, $3 extra flags
    "$BIN/t2v-render" train $PFLAG --data "$TRAIN_DATA" $AE_FLAG --config "$CONFIG" --steps "$1" \
        --batch 4 --lr "$LR" --warmup 50 --checkpoint-every 25 --seed 1 --image-fraction "$IMAGE_FRACTION" $TEACHER_FLAGS $3 \
        --checkpoint "$CKPT" --log "$WORK/teacher.loss.csv" --plot "$WORK/teacher.loss.png" -o "$2"
}
FIRST=1
for END in $CYCLES; do
    OUT="$WORK/teacher-$END.safetensors"
    if [ ! -f "$OUT" ]; then
        if [ "$FIRST" = 1 ]; then
            RESUME=""
            [ -f "$CKPT" ] && RESUME="--resume"
            teacher_cycle "$END" "$OUT" "$RESUME"
        else
            teacher_cycle "$END" "$OUT" "--resume --extend"
        fi
    fi
    FIRST=0
    LAST="$OUT"
done
cmp -s "$LAST" "$WORK/teacher.safetensors" || cp "$LAST" "$WORK/teacher.safetensors"
stage_done teacher

# A work folder from a run with other CYCLES holds students of another teacher. `distill` records
# the sha256 of its --teacher file in each student (t2v.teacher_sha256) and refuses to --resume a
# checkpoint of another teacher; a finished student is checked here before it is kept.
recorded_teacher() { # the t2v.teacher_sha256 in the safetensors header of $1 ("" if none)
    python3 -c 'import sys, json, struct
f = open(sys.argv[1], "rb"); n = struct.unpack("<Q", f.read(8))[0]
print(json.loads(f.read(n)).get("__metadata__", {}).get("t2v.teacher_sha256", ""))' "$1"
}
check_student() { # $1 a student (if it exists), $2 the teacher it must come from
    [ -f "$1" ] || return 0
    local want got
    want=$(sha256sum "$2" | cut -c1-64)
    got=$(recorded_teacher "$1")
    if [ "$got" != "$want" ]; then
        local from="a teacher it does not record (made by an older t2v-render)"
        [ -n "$got" ] && from="the teacher with sha256 ${got:0:16}..."
        echo "error: $1 was distilled from $from, not from $2 (sha256 ${want:0:16}...);" \
             "move it aside (or use another WORK) and run again" >&2
        exit 1
    fi
}
check_student "$WORK/student.safetensors" "$WORK/teacher.safetensors"

echo "== 3b/5 the ablation for the report: same recipe, no temporal stream, 150 steps"
if [ ! -f "$WORK/ablation.safetensors" ]; then
    RESUME=""
    [ -f "$WORK/ablation.ckpt.safetensors" ] && RESUME="--resume"
    "$BIN/t2v-render" train $PFLAG --data "$TRAIN_DATA" $AE_FLAG --config "$CONFIG" --no-temporal --steps 150 \
        --batch 4 --lr "$LR" --warmup 50 --checkpoint-every 25 --seed 1 $RESUME -o "$WORK/ablation.safetensors"
fi

echo "== 4/5 distil $FROM_STEPS -> $TO_STEPS steps ($DISTILL_STEPS steps per round, guidance $GUIDANCE distilled in)"
if [ ! -f "$WORK/student.safetensors" ]; then
    RESUME=""
    [ -f "$WORK/student.ckpt.safetensors" ] && RESUME="--resume"
    "$BIN/t2v-render" distill $PFLAG $RESUME --teacher "$WORK/teacher.safetensors" --data "$TRAIN_DATA" \
        --from-steps "$FROM_STEPS" --to-steps "$TO_STEPS" --steps-per-round "$DISTILL_STEPS" --batch 4 --lr 5e-5 --lr-schedule "$LR_SCHEDULE" --seed 2 \
        --guidance "$GUIDANCE" --guidance-rescale "$GUIDANCE_RESCALE" ${GUIDANCE_INTERVAL:+--guidance-interval "$GUIDANCE_INTERVAL"} \
        --guidance-steps "$GUIDANCE_STEPS" -o "$WORK/student.safetensors"
fi

stage_done distill
if [ "$SHIP" != 1 ]; then
    echo "SHIP=$SHIP: the student is $WORK/student.safetensors; weights/ is unchanged"
    exit 0
fi
echo "== 5/5 ship"
cp "$WORK/student.safetensors" weights/t2v-default.safetensors
echo "weights/t2v-default.safetensors: $(sha256sum weights/t2v-default.safetensors | cut -c1-16)... ($(stat -c %s weights/t2v-default.safetensors) bytes)"

if [ "$REPORT" = 1 ]; then
    echo "== report: samples/REPORT.md (8 seeds; the 64-step teacher on 3, the ablation${BASELINE:+, and $BASELINE beside the new model})"
    "$BIN/t2v-scenes" report --model weights/t2v-default.safetensors --teacher "$WORK/teacher.safetensors" --fid-seeds 3 \
        --ablation "$WORK/ablation.safetensors" ${BASELINE:+--baseline "$BASELINE"} --heldout "$WORK/heldout-dataset" --seeds 8 \
        --guidance-rescale "$GUIDANCE_RESCALE" -o samples/REPORT.md
fi
