#!/usr/bin/env bash
# Times two t2v-render builds alternately (three rounds): decode of an 8 s 512x512 H.264 clip,
# eval --metric ssim against a noised copy, a 32-step render of the default model and 12
# training steps of the shipped network (dataset load included). Used to decide whether the
# libraries need -Ounchecked (docs/bench.md, "Bounds checks").
#   bash bench/bounds_checks.sh BINARY_A BINARY_B [DATASET]
set -euo pipefail
A=$1 B=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DATA=${3:-$ROOT/work/default-model/dataset}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
ffmpeg -v error -y -f lavfi -i testsrc2=size=512x512:rate=25 -t 8 -pix_fmt yuv420p -c:v libx264 "$W/a.mp4"
ffmpeg -v error -y -i "$W/a.mp4" -vf "noise=alls=8:allf=t" -c:v libx264 -pix_fmt yuv420p "$W/b.mp4"
seconds() { local t0 t1; t0=$(date +%s.%N); "$@" >/dev/null 2>&1; t1=$(date +%s.%N); echo "$t1 - $t0" | bc; }
for round in 1 2 3; do
  for name in A B; do
    BIN=$A; [ $name = B ] && BIN=$B
    d=$(seconds "$BIN" decode "$W/a.mp4" -o /dev/null -q)
    s=$(seconds "$BIN" eval "$W/b.mp4" --reference "$W/a.mp4" --metric ssim)
    r=$("$BIN" -p "a sunset over the ocean" -o "$W/r.mp4" --json --model "$ROOT/weights/t2v-default.safetensors" --steps 32 -q \
        | python3 -c "import json,sys; print(json.load(sys.stdin)['seconds']['denoise'])")
    t=$(seconds "$BIN" train --data "$DATA" --config "$ROOT/samples/default-model.json" --steps 12 --batch 4 --warmup 1 -q -o "$W/t.safetensors")
    echo "round $round $name: decode $d s, ssim $s s, denoise32 $r s, train12 $t s"
  done
done
