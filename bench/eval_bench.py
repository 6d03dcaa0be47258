#!/usr/bin/env python3
"""Benchmark: `t2v-render eval A --reference B` against `ffmpeg -i A -i B -lavfi ssim -f null -`.

Makes a 512x512, 240-frame testsrc2 clip (libx264 crf 18) and its crf 35 re-encode, then times
both tools alternately (--runs each, default 5) and reports medians, their ratio (and its
inverse, the speed relative to ffmpeg: above 1.0 is faster), and whether the SSIM figures
agree (FFmpeg's summary line vs t2v-render's `SSIM (ffmpeg)` line: Y, U, V, All).

Usage: python3 bench/eval_bench.py [--binary .build/release/t2v-render] [--runs 5]
       [--metric ssim] (passed to t2v-render; default: ssim only, the like-for-like figure; use
       --metric all for SSIM + Gaussian SSIM + PSNR)
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time


def run(cmd):
    """Runs cmd; returns (wall seconds, CPU seconds user+sys of the child, CompletedProcess)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu, proc


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=os.path.join(here, "..", ".build", "release", "t2v-render"))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--metric", default="ssim", help="ssim, gssim, psnr or all")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        ref, dist = os.path.join(tmp, "ref.mp4"), os.path.join(tmp, "dist.mp4")
        run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=512x512:rate=24",
             "-frames:v", "240", "-pix_fmt", "yuv420p", "-c:v", "libx264", "-crf", "18", ref])
        run(["ffmpeg", "-v", "error", "-y", "-i", ref, "-c:v", "libx264", "-crf", "35", dist])

        ours_cmd = [args.binary, "eval", dist, "--reference", ref, "--summary-only", "--quiet"]
        if args.metric != "all":
            ours_cmd += ["--metric", args.metric]
        ffmpeg_cmd = ["ffmpeg", "-hide_banner", "-nostdin", "-i", dist, "-i", ref, "-lavfi", "ssim", "-f", "null", "-"]

        ours, theirs, ours_cpu, theirs_cpu = [], [], [], []
        ours_out = theirs_out = None
        for _ in range(args.runs):
            t, c, proc = run(ffmpeg_cmd)
            theirs.append(t)
            theirs_cpu.append(c)
            theirs_out = proc.stderr
            t, c, proc = run(ours_cmd)
            ours.append(t)
            ours_cpu.append(c)
            ours_out = proc.stdout

        m_ours, m_theirs = statistics.median(ours), statistics.median(theirs)
        c_ours, c_theirs = statistics.median(ours_cpu), statistics.median(theirs_cpu)
        print(f"pair: 512x512, 240 frames, libx264 crf 35 vs crf 18; {args.runs} runs each, alternating; "
              f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        print(f"ffmpeg -lavfi ssim:            wall median {m_theirs:.3f} s, CPU median {c_theirs:.3f} s "
              f"(wall runs: {', '.join(f'{t:.3f}' for t in theirs)})")
        print(f"t2v-render eval --metric {args.metric}: wall median {m_ours:.3f} s, CPU median {c_ours:.3f} s "
              f"(wall runs: {', '.join(f'{t:.3f}' for t in ours)})")
        print(f"ratio t2v-render / ffmpeg: wall {m_ours / m_theirs:.2f}, CPU {c_ours / c_theirs:.2f}")
        print(f"speed of t2v-render relative to ffmpeg (ffmpeg wall / t2v-render wall, medians): {m_theirs / m_ours:.2f}x; "
              f"wall ranges: ffmpeg {min(theirs):.3f}-{max(theirs):.3f} s, t2v-render {min(ours):.3f}-{max(ours):.3f} s")

        if "ssim" in args.metric or args.metric == "all":
            f = re.search(r"SSIM Y:([\d.]+) \([^)]*\) U:([\d.]+) \([^)]*\) V:([\d.]+) \([^)]*\) All:([\d.]+) \(([\d.inf]+)\)", theirs_out)
            o = re.search(r"SSIM \(ffmpeg\): Y:([\d.]+) U:([\d.]+) V:([\d.]+) All:([\d.]+) \(([\d.inf]+) dB\)", ours_out)
            if not f or not o:
                sys.exit(f"could not parse the SSIM lines:\n{theirs_out}\n{ours_out}")
            print(f"ffmpeg:     Y:{f[1]} U:{f[2]} V:{f[3]} All:{f[4]} ({f[5]} dB)")
            print(f"t2v-render: Y:{o[1]} U:{o[2]} V:{o[3]} All:{o[4]} ({o[5]} dB)")
            print("identical" if f.groups() == o.groups() else "DIFFERENT")


if __name__ == "__main__":
    main()
