#!/usr/bin/env python3
"""Decode benchmark: t2v-render decode vs PyAV vs the ffmpeg CLI (not a test).

Encodes a 512x512, 240-frame H.264 clip (ffmpeg testsrc2, libx264 medium crf 20), then in one run
alternately times, ROUNDS times each:
  - t2v-render decode CLIP --pix-fmt f32planar -o /dev/null   (release build; Float32 RGB planar)
  - PyAV (thread_type AUTO): to_ndarray(format='rgb24').astype(float32) / 127.5 - 1
  - the same PyAV code run as a fresh `python3 -c` process (start-up and imports included, as for the CLIs)
  - ffmpeg -i CLIP -f rawvideo -pix_fmt rgb24 -y /dev/null       (rgb24 bytes, for reference)
and prints, as a Markdown table, the median and best wall time and the median CPU time (user + sys
of all threads; PyAV's is measured in-process, so it excludes interpreter start-up) with ratios
to PyAV. On a shared machine wall times swing with the load; CPU time does not.

Usage: python3 bench/decode_bench.py [--rounds 7] [--binary .build/release/t2v-render]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import resource
import time

import av
import numpy as np

FRAMES = 240


def make_clip(path):
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=s=512x512:r=24,trim=end_frame={FRAMES}",
                    "-c:v", "libx264", "-preset", "medium", "-crf", "20", "-pix_fmt", "yuv420p", path],
                   check=True)


def cpu(who):
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


def run_child(args):
    """Wall seconds and CPU seconds (user + sys, all threads) of a child process."""
    c, t = cpu(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(args, check=True)
    return time.perf_counter() - t, cpu(resource.RUSAGE_CHILDREN) - c


def time_t2v(binary, clip):
    return run_child([binary, "decode", clip, "--pix-fmt", "f32planar", "-o", "/dev/null", "--quiet"])


def time_pyav(clip):
    c, t = cpu(resource.RUSAGE_SELF), time.perf_counter()
    n = 0
    with av.open(clip) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            x = frame.to_ndarray(format="rgb24").astype(np.float32) / 127.5 - 1
            n += 1
    assert n == FRAMES, n
    return time.perf_counter() - t, cpu(resource.RUSAGE_SELF) - c


PYAV_SCRIPT = """
import sys, av, numpy as np
with av.open(sys.argv[1]) as container:
    stream = container.streams.video[0]
    stream.thread_type = "AUTO"
    n = 0
    for frame in container.decode(stream):
        x = frame.to_ndarray(format="rgb24").astype(np.float32) / 127.5 - 1
        n += 1
assert n == %d, n
""" % FRAMES


def time_pyav_process(clip):
    """PyAV in a fresh interpreter: includes start-up and imports, like the two CLIs."""
    return run_child([sys.executable, "-c", PYAV_SCRIPT, clip])


def time_ffmpeg(clip):
    return run_child(["ffmpeg", "-v", "error", "-i", clip, "-f", "rawvideo", "-pix_fmt", "rgb24", "-y", "/dev/null"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", ".build", "release", "t2v-render"))
    args = parser.parse_args()
    binary = os.path.abspath(args.binary)
    if not os.path.exists(binary):
        sys.exit(f"{binary} not found: build it first with swift build -c release --product t2v-render")
    with tempfile.TemporaryDirectory() as tmp:
        clip = os.path.join(tmp, "clip512.mp4")
        make_clip(clip)
        # Check the output size once (240 frames of 3*512*512 float32).
        out = subprocess.run([binary, "decode", clip, "--pix-fmt", "f32planar", "-o", "-", "--quiet"],
                             check=True, capture_output=True).stdout
        assert len(out) == FRAMES * 3 * 512 * 512 * 4, len(out)
        runs = {"t2v": [], "pyav": [], "pyavproc": [], "ffmpeg": []}
        for _ in range(args.rounds):
            runs["t2v"].append(time_t2v(binary, clip))
            runs["pyav"].append(time_pyav(clip))
            runs["pyavproc"].append(time_pyav_process(clip))
            runs["ffmpeg"].append(time_ffmpeg(clip))
    med = {k: statistics.median(w for w, _ in v) for k, v in runs.items()}
    cpu_med = {k: statistics.median(c for _, c in v) for k, v in runs.items()}
    best = {k: min(w for w, _ in v) for k, v in runs.items()}
    rows = [
        ("t2v-render decode --pix-fmt f32planar -o /dev/null", "t2v"),
        ("PyAV thread_type=AUTO, to_ndarray rgb24 + float32 (in-process)", "pyav"),
        ("same PyAV code as a fresh `python3 -c` process", "pyavproc"),
        ("ffmpeg -f rawvideo -pix_fmt rgb24 /dev/null", "ffmpeg"),
    ]
    print(f"512x512 H.264 (libx264 medium crf 20), {FRAMES} frames, median of {args.rounds} alternating rounds; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print()
    print("| decoder | median wall s | frames/s | vs PyAV | best wall s | vs PyAV | median CPU s | vs PyAV |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for label, key in rows:
        print(f"| {label} | {med[key]:.3f} | {FRAMES / med[key]:.0f} | {med['pyav'] / med[key]:.2f}x "
              f"| {best[key]:.3f} | {best['pyav'] / best[key]:.2f}x "
              f"| {cpu_med[key]:.3f} | {cpu_med['pyav'] / cpu_med[key]:.2f}x |")


if __name__ == "__main__":
    main()
