# Sourced by the study scripts: train_arm OUT LABEL TRAIN-ARGS... trains $OUT/teacher.safetensors
# with `$BIN/t2v-render train TRAIN-ARGS`, resuming from $OUT/teacher.ckpt.safetensors when a run
# was stopped, skipping a finished one, and logs the leg's wall time to $WORK/times.txt.
train_arm() {
    local out=$1 label=$2
    shift 2
    mkdir -p "$out"
    [ -f "$out/teacher.safetensors" ] && return 0
    local resume="" start
    [ -f "$out/teacher.ckpt.safetensors" ] && resume="--resume"
    start=$(date +%s)
    "$BIN/t2v-render" train "$@" $resume --quiet -o "$out/teacher.safetensors"
    echo "$label: trained $STEPS steps in $(( $(date +%s) - start )) s (this leg)" | tee -a "$WORK/times.txt"
}
