#!/usr/bin/env bash
# Peak memory of `t2v-render decode`, `eval` and `extract` on a long 640x360 clip (ffmpeg testsrc2),
# and of `render` at 16, 64 and 256 frames (the shipped model, 256x256 and 1024x1024 H.264), measured with GNU time (`Maximum resident set size`). Shows that memory does not grow with
# duration; the default test suite checks the same on 2 s vs 8 s clips
# (FaultInjectionTests.testPeakMemoryDoesNotGrowWithDuration).
#   bench/long_memory.sh 3600     # one hour (the clip takes minutes to make; kept in bench/out/)
# Needs a release build: swift build -c release.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_LONG=${1:-3600}
BIN=${T2V_BIN:-.build/release/t2v-render}
mkdir -p bench/out
clip=bench/out/testsrc2-640x360-${SECONDS_LONG}s.mp4
short=bench/out/testsrc2-640x360-10s.mp4
for spec in "$short 10" "$clip $SECONDS_LONG"; do
    set -- $spec
    [ -f "$1" ] || ffmpeg -v error -y -f lavfi -i "testsrc2=size=640x360:rate=25:duration=$2" \
        -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$1"
done
peak() { /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}'; }
printf '%-34s %10s %14s\n' command clip peak_RSS_KiB
for f in "$short" "$clip"; do
    printf '%-34s %10s %14s\n' "decode rgb24 -> /dev/null" "$(basename "$f")" "$(peak "$BIN" decode "$f" -o /dev/null --quiet)"
    printf '%-34s %10s %14s\n' "decode f32planar -> /dev/null" "$(basename "$f")" "$(peak "$BIN" decode "$f" -o /dev/null --pix-fmt f32planar --quiet)"
    printf '%-34s %10s %14s\n' "eval (ssim, gssim, psnr) vs itself" "$(basename "$f")" "$(peak "$BIN" eval "$f" --reference "$f" --summary-only --quiet)"
    rm -rf bench/out/longmem-ds
    printf '%-34s %10s %14s\n' "extract 64x64 (16 frames @ 8 fps)" "$(basename "$f")" "$(peak "$BIN" extract "$f" -o bench/out/longmem-ds --size 64x64 --quiet)"
done
for size in 256x256 1024x1024; do
    for n in 16 64 256; do
        printf '%-34s %10s %14s\n' "render $size H.264" "$n frames" "$(peak "$BIN" --prompt "a red ball bouncing" --frames "$n" --size "$size" -o bench/out/longmem-render.mp4 --quiet)"
    done
done
rm -f bench/out/longmem-render.mp4
