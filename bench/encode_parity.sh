#!/usr/bin/env bash
# Is `t2v-render encode` doing the same H.264 job as the ffmpeg CLI? On encode_bench.py's clip
# (testsrc2 512x512 with temporal noise, 240 frames of raw rgb24, piped in with cat):
#   1. the x264 settings string each MP4 carries in its SEI (identical = same encoder job);
#   2. REPS alternating pairs under /usr/bin/time: t2v-render (area chroma, BT.709, tagged) and
#      the CLI doing that exact conversion: wall, CPU (user + sys) and CPU use in %;
#   3. bytes and RGB PSNR of the CLI with each swscale chroma filter next to t2v-render's two
#      filters (crf 20, BT.709 limited, tagged), so a filter's bytes can be read with its quality.
# Usage: bash bench/encode_parity.sh [REPS (default 3)]   (build first: swift build -c release)
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-3}
BIN=.build/release/t2v-render
[ -x "$BIN" ] || { echo "$BIN not found: run swift build -c release first" >&2; exit 1; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
ffmpeg -v error -f lavfi -i testsrc2=s=512x512:r=8 -vf noise=alls=6:allf=t -frames:v 240 \
    -f rawvideo -pix_fmt rgb24 -y "$T/clip.rgb"
IN="-f rawvideo -pix_fmt rgb24 -s 512x512 -r 8 -i -"
TAGS="-colorspace bt709 -color_primaries bt709 -color_trc bt709 -color_range tv"
X264="-c:v libx264 -preset medium -crf 20 -pix_fmt yuv420p"
t2v() { cat "$T/clip.rgb" | "$BIN" encode --quiet --size 512x512 --fps 8 -i - --codec h264 --crf 20 --chroma-filter "$1" -o "$2"; }
cli() { cat "$T/clip.rgb" | ffmpeg -v error $IN -vf "scale=out_color_matrix=bt709:out_range=tv:flags=$1" $X264 $TAGS -y "$2"; }
psnr() {
    ffmpeg -nostats -i "$1" $IN -lavfi "[0:v]scale=flags=bicubic+accurate_rnd+full_chroma_int,format=gbrp[a];[1:v]format=gbrp[b];[a][b]psnr" \
        -f null - < "$T/clip.rgb" 2>&1 | grep -o 'average:[0-9.]*' | cut -d: -f2
}
settings() { strings "$1" | grep -m1 -o 'x264 - core.*' | sed 's/ - H.264.*options: / /'; }
export -f t2v cli
export T BIN IN TAGS X264

echo "== 1. x264 settings in the SEI"
t2v area "$T/t2v.mp4"
cli area "$T/cli.mp4"
if [ "$(settings "$T/t2v.mp4")" = "$(settings "$T/cli.mp4")" ]; then
    echo "identical: $(settings "$T/t2v.mp4" | cut -c1-160) ..."
else
    echo "DIFFERENT:"; diff <(settings "$T/t2v.mp4" | tr ' ' '\n') <(settings "$T/cli.mp4" | tr ' ' '\n') || true
fi

echo "== 2. $REPS alternating pairs (wall s, CPU s = user + sys, CPU use)"
for i in $(seq "$REPS"); do
    /usr/bin/time -f "t2v-render  %e s wall, %U + %S s CPU, %P" bash -c 't2v area "$T/t2v.mp4"'
    /usr/bin/time -f "ffmpeg CLI  %e s wall, %U + %S s CPU, %P" bash -c 'cli area "$T/cli.mp4"'
done

echo "== 3. bytes and RGB PSNR by chroma filter"
printf '%-42s %10s %9s\n' "encoder and chroma filter" bytes "PSNR dB"
for f in area bilinear; do
    t2v "$f" "$T/t.mp4"
    printf '%-42s %10s %9s\n' "t2v-render --chroma-filter $f" "$(stat -c %s "$T/t.mp4")" "$(psnr "$T/t.mp4")"
done
for f in area+full_chroma_inp bilinear+full_chroma_inp area bilinear bicubic; do
    cli "$f" "$T/c.mp4"
    printf '%-42s %10s %9s\n' "ffmpeg CLI flags=$f" "$(stat -c %s "$T/c.mp4")" "$(psnr "$T/c.mp4")"
done
cat "$T/clip.rgb" | ffmpeg -v error $IN $X264 -y "$T/d.mp4"
printf '%-42s %10s %9s\n' "ffmpeg CLI defaults (BT.601, bicubic)" "$(stat -c %s "$T/d.mp4")" "$(psnr "$T/d.mp4")"
