#!/usr/bin/env bash
# Reproduces the shipped default model, weights/t2v-default.safetensors, through the project's
# own pipeline: render the procedural scene corpus (t2v-scenes) to H.264 MP4s with FrameIO, turn
# it into a dataset with `t2v-render extract`, train the teacher with `t2v-render train`, distil
# it to a 4-step student with `t2v-render distill`, and copy the student into weights/.
#
# Resumable: every stage skips what is done; training resumes from its checkpoint. Run it again
# after an interruption (or across sessions). Work files go to $WORK (default work/default-model,
# gitignored). Knobs: FIRST_STEPS, SECOND_STEPS and STEPS (where the teacher's first and second cosine cycles end, and its total), ABLATION_STEPS, DISTILL_STEPS (per round).
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=${WORK:-work/default-model}
FIRST_STEPS=${FIRST_STEPS:-1000}
SECOND_STEPS=${SECOND_STEPS:-3500}
STEPS=${STEPS:-3500}
DISTILL_STEPS=${DISTILL_STEPS:-150}
PER_FAMILY=${PER_FAMILY:-40}
BIN=$(swift build -c release --show-bin-path)
swift build -c release --product t2v-render >/dev/null
swift build -c release --product t2v-scenes >/dev/null
mkdir -p "$WORK" weights

echo "== 1/5 corpus: $PER_FAMILY clips per family (train split) and 8 per family (held-out split)"
"$BIN/t2v-scenes" render -o "$WORK/corpus" --per-family "$PER_FAMILY" --size 64 --frames 16 --fps 8 --quiet
"$BIN/t2v-scenes" render -o "$WORK/heldout" --split heldout --captions training --per-family 8 --size 64 --frames 16 --fps 8 --quiet

echo "== 2/5 extract: 16 frames at 8 fps, 32x32"
"$BIN/t2v-render" extract "$WORK/corpus" -o "$WORK/dataset" --frames 16 --fps 8 --size 32x32 --quiet || true
"$BIN/t2v-render" extract "$WORK/heldout" -o "$WORK/heldout-dataset" --frames 16 --fps 8 --size 32x32 --quiet || true

echo "== 3/5 train the teacher: $FIRST_STEPS steps, then on to $SECOND_STEPS (a warm restart of the cosine schedule)"
# Two cosine cycles over one checkpoint: the shipped teacher was trained this way (each cycle
# was one session's budget; `train --resume --extend` continued the finished run). STEPS beyond
# SECOND_STEPS adds a third cycle.
CKPT="$WORK/teacher.ckpt.safetensors"
teacher_cycle() { # $1 total steps, $2 output, $3 extra flags
    "$BIN/t2v-render" train --data "$WORK/dataset" --config samples/default-model.json --steps "$1" \
        --batch 4 --lr 4e-4 --warmup 50 --checkpoint-every 25 --seed 1 $3 \
        --checkpoint "$CKPT" --log "$WORK/teacher.loss.csv" --plot "$WORK/teacher.loss.png" -o "$2"
}
if [ ! -f "$WORK/teacher-phase1.safetensors" ]; then
    RESUME=""
    [ -f "$CKPT" ] && RESUME="--resume"
    teacher_cycle "$FIRST_STEPS" "$WORK/teacher-phase1.safetensors" "$RESUME"
fi
if [ ! -f "$WORK/teacher-phase2.safetensors" ]; then
    teacher_cycle "$SECOND_STEPS" "$WORK/teacher-phase2.safetensors" "--resume --extend"
fi
if [ ! -f "$WORK/teacher.safetensors" ]; then
    if [ "$STEPS" -gt "$SECOND_STEPS" ]; then
        # An optional third cycle (not what shipped: see docs/experiments/teacher-5800.md).
        teacher_cycle "$STEPS" "$WORK/teacher.safetensors" "--resume --extend"
    else
        cp "$WORK/teacher-phase2.safetensors" "$WORK/teacher.safetensors"
    fi
fi

echo "== 3b/5 the ablation for the report: same recipe, no temporal stream, 150 steps"
if [ ! -f "$WORK/ablation.safetensors" ]; then
    RESUME=""
    [ -f "$WORK/ablation.ckpt.safetensors" ] && RESUME="--resume"
    "$BIN/t2v-render" train --data "$WORK/dataset" --config samples/default-model.json --no-temporal --steps 150 \
        --batch 4 --lr 4e-4 --warmup 50 --checkpoint-every 25 --seed 1 $RESUME -o "$WORK/ablation.safetensors"
fi

echo "== 4/5 distil 32 -> 4 steps ($DISTILL_STEPS steps per round)"
if [ ! -f "$WORK/student.safetensors" ]; then
    "$BIN/t2v-render" distill --teacher "$WORK/teacher.safetensors" --data "$WORK/dataset" \
        --from-steps 32 --to-steps 4 --steps-per-round "$DISTILL_STEPS" --batch 4 --lr 5e-5 --seed 2 \
        -o "$WORK/student.safetensors"
fi

echo "== 5/5 ship"
cp "$WORK/student.safetensors" weights/t2v-default.safetensors
echo "weights/t2v-default.safetensors: $(sha256sum weights/t2v-default.safetensors | cut -c1-16)... ($(stat -c %s weights/t2v-default.safetensors) bytes)"
