"""Checks of the twin's data-parallel training on this machine's CPUs (gloo), run by the Swift test
suite (TwinDistributedTests) where PyTorch is installed:

1. equivalence: `torchrun --nproc_per_node 2` with per-rank batch 2 and one process with batch 4
   fed the same global batches end with the same parameters after 20 steps (max abs difference
   <= --tolerance, default 1e-4, a tenth of one step's largest AdamW move at lr 1e-3: the two sum
   the gradients in another order, and Adam's normalisation amplifies those rounding differences
   where a gradient is near zero; measured here 2e-6 to 1.4e-5);
2. kill and resume: one rank of a 2-process run is killed with SIGKILL mid-run; the job must stop
   with an error that names the last checkpoint, and the same command with --resume must end at
   the uninterrupted run's exported weights, byte for byte;
3. resume at another world size: the 2-process checkpoint resumed by one process with batch 4
   ends within --tolerance of the uninterrupted run.

    python3 python/t2v_twin/check_distributed.py [--work DIR] [--keep]

The data is a small synthetic dataset in `extract`'s layout (one safetensors shard of U8 clips,
manifest.jsonl) packed with --lazy, so the trainer's memory-mapped reader is what is exercised.
Exit status 0 when every check passes.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(HERE, "train.py")


def make_dataset(work: str, rng=None) -> tuple[str, np.ndarray, list[str]]:
    """A dataset of 24 random clips (4 frames of 16x16) in extract's layout: one shard of U8
    [24, 4, 16, 16, 3] and manifest.jsonl (captions "caption k", k = clip mod 6), in WORK/dataset;
    the pixels drawn from `rng` (default: numpy's generator seeded 7)."""
    from safetensors.numpy import save_file

    rng = rng if rng is not None else np.random.default_rng(7)
    data = os.path.join(work, "dataset")
    os.makedirs(data, exist_ok=True)
    clips = rng.integers(0, 256, size=(24, 4, 16, 16, 3), dtype=np.uint8)
    save_file({"clips": clips}, os.path.join(data, "shard-00000.safetensors"))
    captions = [f"caption {k}" for k in range(6)]
    with open(os.path.join(data, "manifest.jsonl"), "w") as f:
        for i in range(len(clips)):
            f.write(json.dumps({"caption": captions[i % 6], "fps": 8, "frames": 4, "height": 16, "width": 16,
                                "index": i, "shard": "shard-00000.safetensors", "source": f"clip-{i}.mp4",
                                "start": 0}) + "\n")
    return data, clips, captions


def make_pack(work: str) -> str:
    """`make_dataset`'s dataset and its lazy pack with random caption embeddings (the trainer does
    not care where they came from)."""
    rng = np.random.default_rng(7)
    data, clips, captions = make_dataset(work, rng)
    sys.path.insert(0, os.path.dirname(HERE))
    from t2v_twin.train import SWIFT_DEFAULT_CONFIG, SWIFT_TINY_OVERRIDES
    cfg = dict(SWIFT_DEFAULT_CONFIG, **SWIFT_TINY_OVERRIDES)
    pack = os.path.join(work, "pack.npz")
    np.savez_compressed(pack, caption_index=np.array([i % 6 for i in range(len(clips))], dtype=np.int32),
                        embeddings=rng.standard_normal((6, 384)).astype(np.float32),
                        captions=np.array(captions), config_json=np.array(json.dumps(cfg)),
                        meta_json=np.array(json.dumps({"dataset": data, "generator_version": "0.1.0"})),
                        shard_names=np.array(["shard-00000.safetensors"]),
                        shard_of=np.zeros(len(clips), dtype=np.int32),
                        index_in_shard=np.arange(len(clips), dtype=np.int64))
    return pack


def train_command(pack: str, out: str, procs: int, batch: int, steps, extra=()) -> list[str]:
    base = [TRAIN, "train", pack, "--cycles", str(steps), "--batch", str(batch), "--seed", "3", "--lr", "1e-3",
            "--warmup", "5", "--out", out, "--print-every", "1000", "--checkpoint-every", "5", "--device", "cpu",
            *extra]
    if procs == 1:
        return [sys.executable, *base]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(procs), *base]


def run(cmd: list[str], log: str) -> tuple[int, str]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with open(log, "w") as f:
        status = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, env=env).returncode
    return status, open(log).read()


def params(out: str):
    import torch
    return torch.load(os.path.join(out, "train.ckpt.pt"), map_location="cpu", weights_only=False)


def max_diff(a: str, b: str) -> float:
    pa, pb = params(a), params(b)
    diffs = [(pa["model"][k] - pb["model"][k]).abs().max().item() for k in pa["model"]]
    diffs += [(x - y).abs().max().item() for x, y in zip(pa["shadow"], pb["shadow"])]
    return max(diffs)


def kill_rank_one(cmd: list[str], out: str, log: str, after_rows: int) -> tuple[int, str, bool]:
    """Starts `cmd`, SIGKILLs the worker with LOCAL_RANK=1 once the loss log holds `after_rows`
    steps, waits for the job to end."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    with open(log, "w") as f:
        job = subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT, env=env)
        killed = False
        csv = os.path.join(out, "teacher.loss.csv")
        while job.poll() is None and not killed:
            rows = 0
            if os.path.exists(csv):
                with open(csv) as c:
                    rows = sum(1 for _ in c) - 1
            if rows >= after_rows:
                for pid in os.listdir("/proc"):
                    if not pid.isdigit():
                        continue
                    try:
                        with open(f"/proc/{pid}/stat") as s:
                            ppid = int(s.read().rsplit(")", 1)[1].split()[1])
                        with open(f"/proc/{pid}/environ", "rb") as e:
                            environ = e.read().split(b"\0")
                    except OSError:
                        continue
                    if ppid == job.pid and b"LOCAL_RANK=1" in environ:
                        os.kill(int(pid), signal.SIGKILL)
                        killed = True
            time.sleep(0.02)
        status = job.wait()
    return status, open(log).read(), killed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", help="folder for the runs (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="t2v-ddp-")
    os.makedirs(work, exist_ok=True)
    failures = []
    try:
        pack = make_pack(work)
        # 1. equivalence
        one, two = os.path.join(work, "one"), os.path.join(work, "two")
        s1, t1 = run(train_command(pack, one, 1, 4, 20), os.path.join(work, "one.log"))
        s2, t2 = run(train_command(pack, two, 2, 2, 20), os.path.join(work, "two.log"))
        if s1 or s2:
            print(t1[-3000:], t2[-3000:], sep="\n")
            print(f"FAIL equivalence: exit statuses {s1} (1 process) and {s2} (2 processes)")
            return 1
        d = max_diff(one, two)
        ok = d <= args.tolerance
        print(f"{'ok  ' if ok else 'FAIL'} equivalence: 20 steps, 1 process x batch 4 vs 2 processes x batch 2: "
              f"max abs difference of parameters and EMA {d:.3g} (tolerance {args.tolerance:g})")
        if not ok:
            failures.append("equivalence")

        # 2. kill one rank, resume
        steps = 60
        full, cut = os.path.join(work, "full"), os.path.join(work, "cut")
        s, text = run(train_command(pack, full, 2, 2, steps), os.path.join(work, "full.log"))
        if s:
            print(text[-3000:])
            print(f"FAIL: the uninterrupted 2-process run exited {s}")
            return 1
        status, text, killed = kill_rank_one(train_command(pack, cut, 2, 2, steps), cut, os.path.join(work, "cut.log"),
                                             after_rows=15)
        named = "the last checkpoint is at step" in text and "--resume" in text
        ok = killed and status != 0 and named
        print(f"{'ok  ' if ok else 'FAIL'} kill: rank 1 killed {'mid-run' if killed else '(the run ended first)'}, "
              f"job exit status {status}, error names the checkpoint: {named}")
        if not ok:
            print(text[-3000:])
            failures.append("kill")
        stopped_at = params(cut)["step"]
        s, text = run(train_command(pack, cut, 2, 2, steps, ["--resume"]), os.path.join(work, "resume.log"))
        a = open(os.path.join(full, f"teacher-{steps}.safetensors"), "rb").read() if not s else b""
        b = open(os.path.join(cut, f"teacher-{steps}.safetensors"), "rb").read() if not s else b"x"
        ok = s == 0 and a == b
        print(f"{'ok  ' if ok else 'FAIL'} resume: from the checkpoint at step {stopped_at} to step {steps}: exported "
              f"weights {'identical to' if a == b else 'DIFFERENT from'} the uninterrupted run's (exit status {s})")
        if not ok:
            print(text[-3000:])
            failures.append("resume")

        # 3. resume the 2-process run's checkpoint (step 20 of the equivalence run) in one process
        shutil.copytree(two, os.path.join(work, "regrown"))
        regrown = os.path.join(work, "regrown")
        s, text = run(train_command(pack, regrown, 1, 4, "20,30", ["--resume"]), os.path.join(work, "regrown.log"))
        s2, text2 = run(train_command(pack, os.path.join(work, "two30"), 2, 2, "20,30"), os.path.join(work, "two30.log"))
        d = max_diff(regrown, os.path.join(work, "two30")) if not (s or s2) else float("inf")
        ok = d <= args.tolerance
        print(f"{'ok  ' if ok else 'FAIL'} world size: a 2-process checkpoint (step 20) resumed by 1 process to step "
              f"30 against 2 processes throughout: max abs difference {d:.3g}")
        if not ok:
            print(text[-3000:], text2[-3000:], sep="\n")
            failures.append("world size")
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("FAILED: " + ", ".join(failures))
        return 1
    print("all distributed checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
