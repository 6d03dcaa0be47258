"""Checks of the twin trainer's levers (`train.py train --image-fraction, --condition-dropout,
--min-snr-gamma, --text-noise`, the config's noise schedule), run by the Swift test suite (TwinTrainerTests)
where PyTorch is installed. Two modes:

    python3 python/t2v_twin/check_train_levers.py [--work DIR] [--keep]
    python3 python/t2v_twin/check_train_levers.py --recipe swift-recipe.json

Without --recipe, on check_distributed.py's synthetic dataset (24 clips of 4 frames of 16x16,
lazy pack) and the tiny network, in this process, 1 to 3 steps per run:
1. a step with --image-fraction 0.5 --condition-dropout 0.2 --min-snr-gamma 5 --text-noise 0.5 and
   a shiftedCosine schedule runs (batch 2: one clip slot, one slot of 4 frames) to a finite loss,
   and the checkpoint stores the four values and the schedule;
2. a new run without the flags stores `t2v-render train`'s defaults (0.5, 0.1, uniform, 0), and
   --no-temporal stores image fraction 0;
3. refusals, each naming the flag: --no-temporal with --image-fraction 0.5, out-of-range values,
   a crossAttention config, and a --resume that would change any lever (naming the checkpoint's
   value); a --resume without the flags keeps the checkpoint's values;
4. a checkpoint written before the levers were stored resumes as image fraction 0, condition
   dropout 0.1, uniform weighting and no text noise.

With --recipe, the file written by the Swift test (alphasCumprod of each beta schedule kind as
float64 bit patterns, Min-SNR-gamma weights per prediction type as float32 bit patterns,
`Trainer.imageSlots` for a grid of batch sizes and fractions) is compared with the twin's
`alphas_cumprod`, `loss_weights` and `image_slots`: schedules within 1e-15 absolute, the rest
exactly.

Exit status 0 when every check passes.
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import shutil
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from t2v_twin import train  # noqa: E402
from t2v_twin.check_distributed import make_pack  # noqa: E402


def check_recipe(path: str) -> list[str]:
    """The Swift test's schedules, loss weights and image slots against the twin's."""
    with open(path) as f:
        doc = json.load(f)
    failures = []
    worst = 0.0
    for item in doc["schedules"]:
        swift = np.array(item["alphasCumprod"], dtype=np.uint64).view(np.float64)
        twin = train.alphas_cumprod(item["schedule"])
        d = float(np.abs(twin - swift).max()) if twin.shape == swift.shape else math.inf
        worst = max(worst, d)
        if d > 1e-15:
            failures.append(f"schedule {json.dumps(item['schedule'])}: max abs difference {d:.3g}")
    print(f"{'ok  ' if not failures else 'FAIL'} schedules: {len(doc['schedules'])} beta schedules, "
          f"max abs difference of alphas_cumprod {worst:.3g}")
    bad = 0
    for item in doc["weights"]:
        swift = np.array(item["weights"], dtype=np.uint32).view(np.float32)
        twin = train.loss_weights(train.alphas_cumprod(item["schedule"]), item["prediction"], item["gamma"])
        if twin is None or twin.shape != swift.shape or not np.array_equal(twin, swift):
            bad += 1
            failures.append(f"Min-SNR weights, {item['prediction']}, gamma {item['gamma']}: differ")
    print(f"{'ok  ' if not bad else 'FAIL'} Min-SNR-gamma weights: {len(doc['weights'])} (schedule, prediction, "
          f"gamma) cases, every timestep's float32 weight equal: {not bad}")
    wrong = [(c["batch"], c["fraction"], c["slots"], train.image_slots(c["batch"], c["fraction"]))
             for c in doc["imageSlots"] if train.image_slots(c["batch"], c["fraction"]) != c["slots"]]
    print(f"{'ok  ' if not wrong else 'FAIL'} image slots: {len(doc['imageSlots'])} (batch, fraction) cases, "
          f"mismatches (batch, fraction, swift, twin): {wrong}")
    if wrong:
        failures.append("image slots")
    return failures


def run_train(argv: list[str]) -> tuple[int, str]:
    """`train.py ARGV` in this process: exit status and what it printed (a refusal's message included)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        try:
            status = train.main(argv)
        except SystemExit as e:
            status = e.code if isinstance(e.code, int) else 1
            if not isinstance(e.code, int):
                print(e.code)
    return status, out.getvalue()


def checkpoint(out: str) -> dict:
    import torch
    return torch.load(os.path.join(out, "train.ckpt.pt"), map_location="cpu", weights_only=False)


def check_training(work: str) -> list[str]:
    import torch
    failures = []

    def expect(ok: bool, what: str, detail: str = "") -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            if detail:
                print(detail[-3000:])
            failures.append(what)

    pack = make_pack(work)
    cfg = dict(train.SWIFT_DEFAULT_CONFIG, **train.SWIFT_TINY_OVERRIDES)
    cfg["schedule"] = {"betaSchedule": {"shiftedCosine": {"maxBeta": 0.999, "logSNRShift": -1.0}}, "trainSteps": 1000}
    shifted = os.path.join(work, "shifted.json")
    with open(shifted, "w") as f:
        json.dump(cfg, f)

    def cmd(out: str, cycles="1", *extra: str) -> list[str]:
        return ["train", pack, "--cycles", cycles, "--batch", "2", "--seed", "3", "--lr", "1e-3", "--warmup", "1",
                "--out", os.path.join(work, out), "--print-every", "1", "--checkpoint-every", "1",
                "--device", "cpu", *extra]

    # 1. one joint step with every lever set, on the shifted schedule
    status, text = run_train(cmd("joint", "1", "--config", shifted, "--image-fraction", "0.5",
                                 "--condition-dropout", "0.2", "--min-snr-gamma", "5", "--text-noise", "0.5"))
    ok = status == 0
    run, loss = {}, math.nan
    if ok:
        state = checkpoint(os.path.join(work, "joint"))
        run, loss = state["run"], float(state["history"][-1][0])
    levers = {k: run.get(k) for k in train.LEVER_FLAGS}
    expect(ok and levers == {"image_fraction": 0.5, "condition_dropout": 0.2, "min_snr_gamma": 5.0, "text_noise": 0.5}
           and "shiftedCosine" in run.get("config", "") and "1 of 2 slots" in text and math.isfinite(loss),
           f"joint step: exit {status}, loss {loss:.4g}, checkpoint levers {levers}, shiftedCosine schedule stored: "
           f"{'shiftedCosine' in run.get('config', '')}", text)

    # 2. defaults of a new run
    status, _ = run_train(cmd("defaults"))
    run = checkpoint(os.path.join(work, "defaults"))["run"] if status == 0 else {}
    levers = {k: run.get(k) for k in train.LEVER_FLAGS}
    expect(levers == {"image_fraction": 0.5, "condition_dropout": 0.1, "min_snr_gamma": None, "text_noise": 0.0},
           f"new run without the flags: {levers} (t2v-render train's defaults)")
    status, _ = run_train(cmd("plain", "1", "--no-temporal"))
    run = checkpoint(os.path.join(work, "plain"))["run"] if status == 0 else {}
    expect(run.get("image_fraction") == 0.0, f"--no-temporal: image fraction {run.get('image_fraction')}")

    # 3. refusals
    refusals = [
        (cmd("x1", "1", "--no-temporal", "--image-fraction", "0.5"), ["--image-fraction", "--no-temporal"]),
        (cmd("x2", "1", "--image-fraction", "1"), ["--image-fraction must be in [0, 1)"]),
        (cmd("x3", "1", "--condition-dropout", "-0.1"), ["--condition-dropout must be in [0, 1)"]),
        (cmd("x4", "1", "--min-snr-gamma", "0"), ["--min-snr-gamma must be positive"]),
        (cmd("x6", "1", "--text-noise", "11"), ["--text-noise must be in 0...10"]),
        (cmd("joint", "1,2", "--resume", "--image-fraction", "0.25"),
         ["the checkpoint trains with --image-fraction 0.5, not --image-fraction 0.25"]),
        (cmd("joint", "1,2", "--resume", "--condition-dropout", "0.1"),
         ["the checkpoint trains with --condition-dropout 0.2, not --condition-dropout 0.1"]),
        (cmd("joint", "1,2", "--resume", "--min-snr-gamma", "3"),
         ["the checkpoint trains with --min-snr-gamma 5, not --min-snr-gamma 3"]),
        (cmd("joint", "1,2", "--resume", "--text-noise", "0"),
         ["the checkpoint trains with --text-noise 0.5, not --text-noise 0"]),
        (cmd("defaults", "1,2", "--resume", "--min-snr-gamma", "5"),
         ["the checkpoint trains with uniform loss weighting", "not --min-snr-gamma 5"]),
    ]
    cross = dict(train.SWIFT_DEFAULT_CONFIG, **train.SWIFT_TINY_OVERRIDES, crossAttention=True)
    with open(os.path.join(work, "cross.json"), "w") as f:
        json.dump(cross, f)
    refusals.append((cmd("x5", "1", "--config", os.path.join(work, "cross.json")), ["crossAttention", "token states"]))
    for argv, phrases in refusals:
        status, text = run_train(argv)
        shown = " ".join(a for a in argv[argv.index("--device") + 2:])
        expect(status != 0 and all(p in text for p in phrases), f"refused ({shown}): {text.strip()[:160]!r}", text)
    status, text = run_train(cmd("joint", "1,2", "--resume", "--config", shifted))
    run = checkpoint(os.path.join(work, "joint"))["run"] if status == 0 else {}
    levers = {k: run.get(k) for k in train.LEVER_FLAGS}
    expect(status == 0 and levers == {"image_fraction": 0.5, "condition_dropout": 0.2, "min_snr_gamma": 5.0, "text_noise": 0.5},
           f"--resume without the flags keeps the checkpoint's levers: {levers}", text)

    # 4. a checkpoint from before the levers were stored (the trainer's earlier format)
    old = os.path.join(work, "old")
    os.makedirs(old, exist_ok=True)
    state = checkpoint(os.path.join(work, "plain"))
    for key in train.LEVER_FLAGS:
        del state["run"][key]
    torch.save(state, os.path.join(old, "train.ckpt.pt"))
    status, text = run_train(cmd("old", "1,2", "--resume", "--no-temporal"))
    run = checkpoint(old)["run"] if status == 0 else {}
    levers = {k: run.get(k) for k in train.LEVER_FLAGS}
    expect(status == 0 and levers == {"image_fraction": 0.0, "condition_dropout": 0.1, "min_snr_gamma": None, "text_noise": 0.0},
           f"an older checkpoint resumes as {levers}", text)
    return failures


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--recipe", help="the Swift test's JSON of schedules, loss weights and image slots")
    ap.add_argument("--work", help="folder for the runs (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    args = ap.parse_args()
    if args.recipe:
        failures = check_recipe(args.recipe)
    else:
        import torch
        torch.set_num_threads(1)
        work = args.work or tempfile.mkdtemp(prefix="t2v-levers-")
        os.makedirs(work, exist_ok=True)
        try:
            failures = check_training(work)
        finally:
            if not args.keep and not args.work:
                shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("FAILED: " + "; ".join(failures))
        return 1
    print("all lever checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
