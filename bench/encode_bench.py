#!/usr/bin/env python3
"""Encode throughput: `t2v-render encode` (release build) vs the ffmpeg CLI.

Both read the same raw 512x512 rgb24 clip (240 frames) from a pipe (`cat clip | ...`) and encode
  - H.264: libx264 preset medium, crf 20, yuv420p, MP4;
  - VP9:   libvpx-vp9 crf 32 (constant quality, b:v 0), deadline good, cpu-used 4, row-mt, WebM.
Sides alternate within one run, several repetitions each; the table shows the median frames/s,
the ratio t2v/ffmpeg (>= 1.0 means t2v-render is at least as fast), the output sizes and each
output's RGB PSNR against the source clip (FFmpeg's psnr filter, decoded with accurate chroma
interpolation by its own colour tags): at a fixed crf, fewer bytes and a faster encode can simply
mean less detail kept, so read the three together.

Usage: python3 bench/encode_bench.py [--reps 3] [--frames 240] [--chroma-filter area|bilinear]
       [--binary .build/release/t2v-render]
(build first: swift build -c release)
"""
import argparse
import os
import resource
import shlex
import statistics
import subprocess
import tempfile
import time

W = H = 512


def make_clip(path, frames):
    # testsrc2 (moving shapes, text, gradients) plus light temporal noise: content that gives the
    # encoders real work, generated once by ffmpeg itself.
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"testsrc2=s={W}x{H}:r=8",
         "-vf", "noise=alls=6:allf=t", "-frames:v", str(frames),
         "-f", "rawvideo", "-pix_fmt", "rgb24", "-y", path], check=True)


def timed(cmd):
    """Wall seconds and CPU seconds (user + sys of the whole pipeline) of a shell command."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(["bash", "-c", "set -o pipefail; " + cmd], capture_output=True, text=True)
    dt = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        raise SystemExit(f"command failed ({r.returncode}): {cmd}\n{r.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return dt, cpu


def rgb_psnr(video, clip, frames):
    """Average RGB PSNR (dB) of `video` decoded to RGB against the raw rgb24 source clip."""
    r = subprocess.run(
        ["ffmpeg", "-nostats", "-i", video, "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{W}x{H}", "-r", "8", "-i", clip,
         "-lavfi", "[0:v]scale=flags=bicubic+accurate_rnd+full_chroma_int,format=gbrp[a];[1:v]format=gbrp[b];[a][b]psnr",
         "-frames:v", str(frames), "-f", "null", "-"], capture_output=True, text=True)
    for line in r.stderr.splitlines():
        if "PSNR" in line and "average:" in line:
            return float(line.split("average:")[1].split()[0])
    raise SystemExit(f"no PSNR from ffmpeg for {video}:\n{r.stderr[-2000:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--frames", type=int, default=240)
    ap.add_argument("--only", choices=["h264", "vp9"], help="run one codec only")
    ap.add_argument("--preset", default="medium", help="x264 preset for both sides (default medium)")
    ap.add_argument("--chroma-filter", choices=["area", "bilinear"], default="area",
                    help="t2v-render's 4:2:0 chroma filter (default area, its default)")
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "t2v-render"))
    args = ap.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.path.exists(binary):
        raise SystemExit(f"{binary} not found: run `swift build -c release` first")

    with tempfile.TemporaryDirectory() as tmp:
        clip = os.path.join(tmp, "clip.rgb")
        make_clip(clip, args.frames)
        q = shlex.quote
        src = f"cat {q(clip)} | "
        ff_in = f"ffmpeg -v error -f rawvideo -pix_fmt rgb24 -s {W}x{H} -r 8 -i - "
        t2v = f"{q(binary)} encode --quiet --size {W}x{H} --fps 8 --chroma-filter {args.chroma_filter} -i - "
        cases = [
            (f"H.264 {args.preset} crf 20",
             ff_in + f"-c:v libx264 -preset {args.preset} -crf 20 -pix_fmt yuv420p -y {q(tmp)}/ff.mp4",
             t2v + f"--codec h264 --preset {args.preset} --crf 20 -o {q(tmp)}/t2v.mp4",
             "ff.mp4", "t2v.mp4"),
            ("VP9 crf 32 cpu-used 4 row-mt",
             ff_in + f"-c:v libvpx-vp9 -crf 32 -b:v 0 -deadline good -cpu-used 4 -row-mt 1 -pix_fmt yuv420p -y {q(tmp)}/ff.webm",
             t2v + f"--codec vp9 --crf 32 --speed 4 -o {q(tmp)}/t2v.webm",
             "ff.webm", "t2v.webm"),
        ]
        if args.only:
            cases = [c for c in cases if ("h264" if c[0].startswith("H.264") else "vp9") == args.only]
        rows = []
        for name, ff_cmd, t2v_cmd, ff_out, t2v_out in cases:
            ff_times, t2v_times, ff_cpu, t2v_cpu = [], [], [], []
            for rep in range(args.reps):
                # Alternate which side goes first so drift in machine load hits both.
                order = [("ff", ff_cmd), ("t2v", t2v_cmd)] if rep % 2 == 0 else [("t2v", t2v_cmd), ("ff", ff_cmd)]
                for side, cmd in order:
                    wall, cpu = timed(src + cmd)
                    (ff_times if side == "ff" else t2v_times).append(wall)
                    (ff_cpu if side == "ff" else t2v_cpu).append(cpu)
            ff_fps = args.frames / statistics.median(ff_times)
            t2v_fps = args.frames / statistics.median(t2v_times)
            rows.append((name, ff_fps, t2v_fps, t2v_fps / ff_fps,
                         statistics.median(ff_cpu) / args.frames * 1000, statistics.median(t2v_cpu) / args.frames * 1000,
                         os.path.getsize(os.path.join(tmp, ff_out)), os.path.getsize(os.path.join(tmp, t2v_out)),
                         rgb_psnr(os.path.join(tmp, ff_out), clip, args.frames),
                         rgb_psnr(os.path.join(tmp, t2v_out), clip, args.frames)))

    print(f"{W}x{H}, {args.frames} frames rgb24 from a pipe, median of {args.reps} alternating runs, {os.cpu_count()} CPUs, "
          f"t2v-render --chroma-filter {args.chroma_filter}\n")
    print("| codec | ffmpeg CLI frames/s | t2v-render frames/s | ratio t2v/ffmpeg | ffmpeg CPU ms/frame | t2v CPU ms/frame "
          "| ffmpeg bytes | t2v bytes | ffmpeg RGB PSNR | t2v RGB PSNR |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, ff_fps, t2v_fps, ratio, ff_ms, t2v_ms, ff_b, t2v_b, ff_p, t2v_p in rows:
        print(f"| {name} | {ff_fps:.1f} | {t2v_fps:.1f} | {ratio:.2f} | {ff_ms:.1f} | {t2v_ms:.1f} | {ff_b} | {t2v_b} "
              f"| {ff_p:.2f} dB | {t2v_p:.2f} dB |")


if __name__ == "__main__":
    main()
