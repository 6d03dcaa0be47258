"""Checks of the twin trainer's levers (`train.py train --image-fraction, --condition-dropout,
--min-snr-gamma, --text-noise, --motion-loss, --high-noise-fraction`, the config's noise schedule and
text whitening),
run by the Swift test suite (TwinTrainerTests) where PyTorch is installed. Two modes:

    python3 python/t2v_twin/check_train_levers.py [--work DIR] [--keep]
    python3 python/t2v_twin/check_train_levers.py --recipe swift-recipe.json

Without --recipe, on check_distributed.py's synthetic dataset (24 clips of 4 frames of 16x16,
lazy pack) and the tiny network, in this process, 1 to 3 steps per run:
0. `train.clip_loss` (Swift `Trainer.clipLoss`) on small random tensors against a float64 loop over
   clips and frames of its formula, mean(e^2) + W mean((e[f+1] - e[f])^2) with e = p - y; an error
   constant across frames and a single-frame clip add nothing, and W 0 is the plain MSE;
1. a step with --image-fraction 0.5 --condition-dropout 0.2 --min-snr-gamma 5 --text-noise 0.5
   --motion-loss 0.5 and a shiftedCosine schedule runs (batch 2: one clip slot, one slot of 4
   frames) to a finite loss, and the checkpoint stores the five values and the schedule;
2. a new run without the flags stores `t2v-render train`'s defaults (0.5, 0.1, uniform, 0, 0), and
   --no-temporal stores image fraction 0; the same first step with --motion-loss 0 has the same
   loss as without the flag, and with --motion-loss 2 a larger one (the same draws and weights,
   plus the clip's term);
3. refusals, each naming the flag: --no-temporal with --image-fraction 0.5, out-of-range values,
   a crossAttention config, and a --resume that would change any lever (naming the checkpoint's
   value); a --resume without the flags keeps the checkpoint's values;
4. a checkpoint written before the levers were stored resumes as image fraction 0, condition
   dropout 0.1, uniform weighting, no text noise and no motion loss; one written before
   --motion-loss was stored keeps its other levers and resumes with no motion loss;
5. a config with textWhitening (and temporalConditioning, so the whitened text also feeds the
   temporal stream), on a pack of unit-length caption embeddings plus the empty caption: a new
   run fits the whitening to the 6 distinct non-zero captions (mean of |W(x - mu)|^2 over them 1
   within 1e-4, the module maps zero to zero and a caption x to W(x - mu)), 2 steps and a resumed
   third leave it exactly as fitted (it is in neither the optimizer nor the EMA), and the export
   loads strictly with it; the network with it equals the network without it fed the whitened
   text, for clips (temporal stream included) and images; an eps of 0 and a pack with one
   caption are refused.

6. alternative captions (a pack's `alternative_offsets` and `alternative_index`, as `pack` writes
   for records with `alternatives`): `data.choose_captions` under `data.caption_draws` picks a
   clip's own caption and each alternative with equal shares (within 0.02 of 30,000 draws) and a
   clip without alternatives its own; a step on a pack whose only alternative is each clip's own
   caption has the plain pack's loss exactly, and one with other captions another loss, the same
   on a rerun.

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


def motion_loss_reference(p: np.ndarray, y: np.ndarray, weight: float) -> np.ndarray:
    """Swift `Trainer.clipLoss`'s formula, clip by clip and frame by frame in float64."""
    out = []
    for pc, yc in zip(p.astype(np.float64), y.astype(np.float64)):
        e = pc - yc
        frames, per_frame = e.shape[0], e[0].size
        total = sum(float(np.sum(e[f] ** 2)) for f in range(frames)) / (frames * per_frame)
        if weight > 0 and frames > 1:
            change = sum(float(np.sum((e[f + 1] - e[f]) ** 2)) for f in range(frames - 1))
            total += weight * change / ((frames - 1) * per_frame)
        out.append(total)
    return np.array(out)


def check_clip_loss(expect) -> None:
    """`train.clip_loss` against `motion_loss_reference`, and the cases where the term is zero."""
    import torch
    rng = np.random.default_rng(7)
    p = rng.standard_normal((3, 5, 2, 3, 4)).astype(np.float32)
    y = rng.standard_normal((3, 5, 2, 3, 4)).astype(np.float32)
    worst = 0.0
    for weight in (0.0, 0.5, 2.0, 100.0):
        twin = train.clip_loss(torch.from_numpy(p), torch.from_numpy(y), weight).double().numpy()
        ref = motion_loss_reference(p, y, weight)
        worst = max(worst, float(np.max(np.abs(twin - ref) / ref)))
    expect(worst < 1e-5, f"clip loss: weights 0, 0.5, 2, 100 on [3, 5, 2, 3, 4] match the float64 loop of "
           f"mean(e^2) + W mean((e[f+1] - e[f])^2), max relative difference {worst:.2g}")
    plain = train.clip_loss(torch.from_numpy(p), torch.from_numpy(y), 0.0)
    mse = (torch.from_numpy(p) - torch.from_numpy(y)).square().reshape(3, -1).mean(dim=1)
    expect(torch.equal(plain, mse), "clip loss: weight 0 is the plain per-clip MSE, bit for bit")
    # Multiples of 1/16 add, subtract and square exactly in float32, so a shared error's frame
    # differences are exactly 0 and any change of the loss would be the term's.
    target = rng.integers(-64, 64, (2, 4, 3, 5, 5)).astype(np.float32) / 16
    shared = rng.integers(-16, 16, (2, 1, 3, 5, 5)).astype(np.float32) / 16
    pred = target + shared  # the same error in every frame
    with_term = train.clip_loss(torch.from_numpy(pred), torch.from_numpy(target), 10.0)
    without = train.clip_loss(torch.from_numpy(pred), torch.from_numpy(target), 0.0)
    expect(torch.equal(with_term, without) and bool((without > 0).all()),
           f"clip loss: an error constant across frames adds nothing (W 10: {with_term.tolist()}, "
           f"W 0: {without.tolist()})")
    single = train.clip_loss(torch.from_numpy(p[:, :1]), torch.from_numpy(y[:, :1]), 10.0)
    expect(torch.equal(single, train.clip_loss(torch.from_numpy(p[:, :1]), torch.from_numpy(y[:, :1]), 0.0)),
           "clip loss: a single-frame clip gets no term")


def check_high_noise(expect) -> None:
    """`data.high_noise_timesteps` (Swift `Trainer.drawTimestep`): a share of 0 returns the uniform
    draws untouched; a share p with the band from b of T puts p + (1 - p)(T - b)/T of 20,000 draws
    in the band (within 0.015; the binomial standard error is at most 0.0036), all within [0, T)."""
    import torch
    from t2v_twin.data import DRAWS, high_noise_timesteps, step_draws
    _, _, t = step_draws(torch, 3, 0, 20000, 24, 1000, 0.1)
    same = high_noise_timesteps(torch, 3, 0, t, 0.0, 900, 1000, DRAWS)
    expect(bool(torch.equal(same, t)), "--high-noise-fraction 0 leaves the timesteps as drawn")
    for share, start in ((0.5, 900), (0.25, 800)):
        h = high_noise_timesteps(torch, 3, 0, t, share, start, 1000, DRAWS)
        frac = float((h >= start).float().mean())
        want = share + (1 - share) * (1000 - start) / 1000
        expect(abs(frac - want) < 0.015 and int(h.min()) >= 0 and int(h.max()) < 1000,
               f"--high-noise-fraction {share} from {start}: {frac:.4f} of the draws in the band (want {want:.4f})")


def check_training(work: str) -> list[str]:
    import torch
    failures = []

    def expect(ok: bool, what: str, detail: str = "") -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            if detail:
                print(detail[-3000:])
            failures.append(what)

    # 0. the loss itself, and --high-noise-fraction's draws
    check_clip_loss(expect)
    check_high_noise(expect)

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
                                 "--condition-dropout", "0.2", "--min-snr-gamma", "5", "--text-noise", "0.5",
                                 "--motion-loss", "0.5", "--high-noise-fraction", "0.5", "--high-noise-from", "0.8"))
    ok = status == 0
    run, loss = {}, math.nan
    if ok:
        state = checkpoint(os.path.join(work, "joint"))
        run, loss = state["run"], float(state["history"][-1][0])
    levers = {k: run.get(k) for k in train.LEVER_FLAGS}
    expect(ok and levers == {"image_fraction": 0.5, "condition_dropout": 0.2, "min_snr_gamma": 5.0, "text_noise": 0.5,
                             "motion_loss": 0.5, "high_noise_fraction": 0.5, "high_noise_from": 0.8}
           and "shiftedCosine" in run.get("config", "") and "1 of 2 slots" in text and "motion loss 0.5" in text
           and math.isfinite(loss),
           f"joint step: exit {status}, loss {loss:.4g}, checkpoint levers {levers}, shiftedCosine schedule stored: "
           f"{'shiftedCosine' in run.get('config', '')}", text)

    # 2. defaults of a new run
    status, _ = run_train(cmd("defaults"))
    state = checkpoint(os.path.join(work, "defaults")) if status == 0 else {"run": {}, "history": [[math.nan]]}
    run, plain_loss = state["run"], float(state["history"][-1][0])
    levers = {k: run.get(k) for k in train.LEVER_FLAGS}
    expect(levers == {"image_fraction": 0.5, "condition_dropout": 0.1, "min_snr_gamma": None, "text_noise": 0.0,
                      "motion_loss": 0.0, "high_noise_fraction": 0.0, "high_noise_from": 0.9},
           f"new run without the flags: {levers} (t2v-render train's defaults)")
    # The first step's loss is the initial weights' (same seed: same draws, weights and images),
    # so --motion-loss changes it only by the clip slot's term.
    step_losses = {}
    for weight in ("0", "2"):
        status, text = run_train(cmd(f"motion{weight}", "1", "--motion-loss", weight))
        step_losses[weight] = float(checkpoint(os.path.join(work, f"motion{weight}"))["history"][-1][0]) \
            if status == 0 else math.nan
    expect(step_losses["0"] == plain_loss and step_losses["2"] > plain_loss,
           f"first step's loss: {plain_loss:.6g} without --motion-loss, {step_losses['0']:.6g} with 0 (the same), "
           f"{step_losses['2']:.6g} with 2 (larger)", text)
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
        (cmd("x7", "1", "--motion-loss", "101"), ["--motion-loss must be in 0...100, got 101.0"]),
        (cmd("x10", "1", "--high-noise-fraction", "1.5"), ["--high-noise-fraction must be in 0...1, got 1.5"]),
        (cmd("x11", "1", "--high-noise-from", "0.8"), ["--high-noise-from applies with --high-noise-fraction"]),
        (cmd("x8", "1", "--motion-loss", "-0.5"), ["--motion-loss must be in 0...100, got -0.5"]),
        (cmd("x9", "1", "--motion-loss", "nan"), ["--motion-loss must be in 0...100, got nan"]),
        (cmd("joint", "1,2", "--resume", "--image-fraction", "0.25"),
         ["the checkpoint trains with --image-fraction 0.5, not --image-fraction 0.25"]),
        (cmd("joint", "1,2", "--resume", "--condition-dropout", "0.1"),
         ["the checkpoint trains with --condition-dropout 0.2, not --condition-dropout 0.1"]),
        (cmd("joint", "1,2", "--resume", "--min-snr-gamma", "3"),
         ["the checkpoint trains with --min-snr-gamma 5, not --min-snr-gamma 3"]),
        (cmd("joint", "1,2", "--resume", "--text-noise", "0"),
         ["the checkpoint trains with --text-noise 0.5, not --text-noise 0"]),
        (cmd("joint", "1,2", "--resume", "--motion-loss", "0"),
         ["the checkpoint trains with --motion-loss 0.5, not --motion-loss 0",
          "resume without --motion-loss (or with the checkpoint's value)"]),
        (cmd("defaults", "1,2", "--resume", "--motion-loss", "1"),
         ["the checkpoint trains with --motion-loss 0, not --motion-loss 1"]),
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
    expect(status == 0 and levers == {"image_fraction": 0.5, "condition_dropout": 0.2, "min_snr_gamma": 5.0, "text_noise": 0.5,
                                      "motion_loss": 0.5, "high_noise_fraction": 0.5, "high_noise_from": 0.8},
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
    expect(status == 0 and levers == {"image_fraction": 0.0, "condition_dropout": 0.1, "min_snr_gamma": None, "text_noise": 0.0,
                                      "motion_loss": 0.0, "high_noise_fraction": 0.0, "high_noise_from": 0.9},
           f"an older checkpoint resumes as {levers}", text)
    # one that stores the other levers but not --motion-loss (and refuses a --resume that adds it)
    older = os.path.join(work, "older")
    os.makedirs(older, exist_ok=True)
    state = checkpoint(os.path.join(work, "joint"))
    for key in ("motion_loss", "high_noise_fraction", "high_noise_from"):
        del state["run"][key]
    torch.save(state, os.path.join(older, "train.ckpt.pt"))
    status, text = run_train(cmd("older", "1,2,3", "--resume", "--config", shifted, "--motion-loss", "0.5"))
    expect(status != 0 and "the checkpoint trains with --motion-loss 0, not --motion-loss 0.5" in text,
           f"refused (a checkpoint without motion_loss, --resume --motion-loss 0.5): {text.strip()[:160]!r}", text)
    status, text = run_train(cmd("older", "1,2,3", "--resume", "--config", shifted))
    run = checkpoint(older)["run"] if status == 0 else {}
    levers = {k: run.get(k) for k in train.LEVER_FLAGS}
    expect(status == 0 and levers == {"image_fraction": 0.5, "condition_dropout": 0.2, "min_snr_gamma": 5.0, "text_noise": 0.5,
                                      "motion_loss": 0.0, "high_noise_fraction": 0.0, "high_noise_from": 0.9},
           f"a checkpoint without motion_loss resumes as {levers}", text)

    # 5. the text whitening
    check_whitening(work, pack, expect)
    # 6. alternative captions
    check_alternatives(work, pack, expect)
    return failures


def check_alternatives(work: str, pack: str, expect) -> None:
    """Section 6 of the module docstring."""
    import torch

    from t2v_twin.data import caption_draws, choose_captions
    offsets = np.array([0, 0, 2, 3], dtype=np.int64)  # clip 0: none; 1: rows 4, 5; 2: row 3
    alternatives = np.array([4, 5, 3], dtype=np.int32)
    index = torch.tensor([0, 1, 2], dtype=torch.int64)
    rows = torch.tensor([0, 1, 2] * 10000)
    u = caption_draws(torch, 3, 0, range(3), 10000)
    chosen = choose_captions(index, offsets, alternatives, rows, u).numpy()
    share = {c: float(np.mean(chosen[1::3] == c)) for c in (1, 4, 5)}
    expect(bool(np.all(chosen[0::3] == 0)) and set(np.unique(chosen[2::3])) == {2, 3}
           and all(abs(v - 1 / 3) < 0.02 for v in share.values()) and abs(float(np.mean(chosen[2::3] == 3)) - 0.5) < 0.02,
           f"alternatives drawn uniformly: clip 1's own caption and its two alternatives {share}")

    source = dict(np.load(pack))
    n = len(source["caption_index"])
    own = os.path.join(work, "alt-own.npz")  # each clip's only alternative is its own caption
    np.savez_compressed(own, **source, alternative_offsets=np.arange(n + 1, dtype=np.int64),
                        alternative_index=source["caption_index"].astype(np.int32))
    other = os.path.join(work, "alt-other.npz")  # two other captions a clip
    np.savez_compressed(other, **source, alternative_offsets=np.arange(0, 2 * n + 1, 2, dtype=np.int64),
                        alternative_index=np.array([(c + d) % 6 for c in source["caption_index"] for d in (1, 2)], dtype=np.int32))

    def loss(pack_path: str, out: str) -> float | None:
        status, text = run_train(["train", pack_path, "--cycles", "1", "--batch", "2", "--seed", "3", "--lr", "1e-3",
                                  "--warmup", "1", "--out", os.path.join(work, out), "--print-every", "1",
                                  "--device", "cpu", "--image-fraction", "0.5"])
        if status != 0:
            expect(False, f"alternatives: the run on {os.path.basename(pack_path)} exited {status}", text)
            return None
        with open(os.path.join(work, out, "teacher.loss.csv")) as f:
            return float(f.read().strip().splitlines()[-1].split(",")[1])

    plain, same, moved, again = loss(pack, "alt-plain"), loss(own, "alt-own"), loss(other, "alt-other"), loss(other, "alt-other-2")
    if None not in (plain, same, moved, again):
        expect(plain == same, f"alternatives that repeat the caption train exactly as none ({plain} and {same}): "
                              "the draws come from a stream of their own")
        expect(moved != plain and moved == again, f"other captions change the step ({moved} against {plain}), the same on a rerun")


def check_whitening(work: str, pack: str, expect) -> None:
    """Section 5 of the module docstring."""
    import torch

    from t2v_twin import DenoiserConfig, VideoDenoiser, load_denoiser
    from t2v_twin.model import TextWhitening

    # Caption embeddings as the Swift encoder gives them (unit length), and the empty caption's
    # zeros for clips 0 and 6, which the fit must leave out.
    source = dict(np.load(pack))
    emb = source["embeddings"].astype(np.float64)
    emb = (emb / np.linalg.norm(emb, axis=1, keepdims=True)).astype(np.float32)
    index = source["caption_index"].astype(np.int32) + 1
    index[[0, 6]] = 0
    unit = os.path.join(work, "unit-pack.npz")
    np.savez_compressed(unit, **{**source, "embeddings": np.vstack([np.zeros((1, emb.shape[1]), np.float32), emb]),
                                 "captions": np.array(["", *source["captions"]]), "caption_index": index})
    single = os.path.join(work, "single-pack.npz")
    np.savez_compressed(single, **{**source, "caption_index": np.zeros_like(source["caption_index"])})
    cfg = dict(train.SWIFT_DEFAULT_CONFIG, **train.SWIFT_TINY_OVERRIDES, temporalConditioning=True, textWhitening=1e-3)
    config = os.path.join(work, "whitening.json")
    with open(config, "w") as f:
        json.dump(cfg, f)

    def cmd(pack_path, out, cycles, *extra):
        return ["train", pack_path, "--config", config, "--cycles", cycles, "--batch", "2", "--seed", "3",
                "--lr", "1e-3", "--warmup", "1", "--out", os.path.join(work, out), "--print-every", "1",
                "--checkpoint-every", "1", "--device", "cpu", *extra]

    status, text = run_train(cmd(unit, "whiten", "2"))
    if status != 0:
        expect(False, f"text whitening: the 2-step run exited {status}", text)
        return
    state = checkpoint(os.path.join(work, "whiten"))
    mean, matrix = state["model"]["textWhitening.mean"], state["model"]["textWhitening.matrix"]
    rows = emb.astype(np.float64)
    whitened = (rows - mean.double().numpy()) @ matrix.double().numpy().T
    mean_square = float(np.mean(np.sum(whitened ** 2, axis=1)))
    fresh = TextWhitening(emb.shape[1])
    fitted = fresh.fit(np.vstack([np.zeros((1, emb.shape[1]), np.float32), emb]), 1e-3)
    same = torch.equal(mean, fresh.mean) and torch.equal(matrix, fresh.matrix)
    with torch.no_grad():
        probe = torch.from_numpy(np.vstack([np.zeros((1, emb.shape[1]), np.float32), emb[:2]]))
        out = fresh(probe)
    zero_stays = bool((out[0] == 0).all())
    direct = float((out[1:].double() - torch.from_numpy(whitened[:2])).abs().max())
    expect(fitted == 6 and abs(mean_square - 1) < 1e-4 and zero_stays and direct < 1e-5
           and "text whitening eps 0.001, fitted to 6 distinct captions" in text,
           f"text whitening: fitted to {fitted} distinct non-zero captions, mean |W(x - mu)|^2 {mean_square:.6f}, "
           f"zero maps to zero: {zero_stays}, f(x) - W(x - mu) max {direct:.2g}", text)
    names = [n for n, _ in VideoDenoiser(DenoiserConfig.from_json(state["run"]["config"])).named_parameters()]
    in_ema = len(state["shadow"])
    in_optimizer = sum(len(g["params"]) for g in state["optimizer"]["param_groups"])
    expect(same and in_ema == in_optimizer == len(names) and not any(n.startswith("textWhitening") for n in names),
           f"text whitening: after 2 steps exactly as fitted ({same}); the optimizer's {in_optimizer} and the EMA's "
           f"{in_ema} tensors are the {len(names)} parameters, which leave it out")
    status, text = run_train(cmd(unit, "whiten", "2,3", "--resume"))
    after = checkpoint(os.path.join(work, "whiten"))["model"] if status == 0 else {}
    kept = status == 0 and torch.equal(after["textWhitening.mean"], mean) \
        and torch.equal(after["textWhitening.matrix"], matrix) and "text whitening eps 0.001, the checkpoint's" in text
    exported, _ = load_denoiser(os.path.join(work, "whiten", "teacher-3.safetensors")) if status == 0 else (None, None)
    loaded = exported is not None and torch.equal(exported.textWhitening.matrix, matrix) \
        and exported.config.textWhitening == 1e-3
    expect(kept and loaded, f"text whitening: a --resume keeps the checkpoint's ({kept}); the export at step 3 "
           f"loads strictly with it ({loaded})", text)

    # In the network: the whitened text replaces the prompt in the FiLM projection and, with
    # temporalConditioning, in the temporal stream (its zero-started projections perturbed so
    # they count), for clips and images alike: the model equals the same weights without the
    # whitening fed W(e - |e| mu).
    torch.manual_seed(5)
    model = exported.eval()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.empty_like(p).uniform_(-0.1, 0.1))
    plain = VideoDenoiser(DenoiserConfig.from_json(state["run"]["config"]))
    plain.config.textWhitening, plain.textWhitening = None, None
    plain.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("textWhitening.")})
    plain.eval()
    text = torch.from_numpy(np.vstack([emb[3], np.zeros_like(emb[0])]))
    x, t = torch.randn(2, 4, 3, 16, 16), torch.tensor([37, 448])
    with torch.no_grad():
        ys = [model(x, t, text), model.forward_images(x[:, 0], t, text)]
        whitened_ys = [plain(x, t, model.textWhitening(text)), plain.forward_images(x[:, 0], t, model.textWhitening(text))]
        raw_ys = [plain(x, t, text), plain.forward_images(x[:, 0], t, text)]
    worst = max(float((a - b).abs().max()) for a, b in zip(ys, whitened_ys))
    apart = min(float((a - b).abs().max()) for a, b in zip(ys, raw_ys))
    expect(worst == 0 and apart > 1e-3,
           f"text whitening in the network: clips and images equal the unwhitened network fed W(e - |e| mu) "
           f"(max difference {worst:.2g}) and differ from it fed e ({apart:.2g})")

    cfg["textWhitening"] = 0
    with open(config, "w") as f:
        json.dump(cfg, f)
    status, text = run_train(cmd(unit, "whiten-zero", "1"))
    expect(status != 0 and "textWhitening (its eps) must be positive" in text,
           f"refused (textWhitening 0): {text.strip()[:160]!r}", text)
    cfg["textWhitening"] = 1e-3
    with open(config, "w") as f:
        json.dump(cfg, f)
    status, text = run_train(cmd(single, "whiten-single", "1"))
    expect(status != 0 and "needs at least two distinct non-empty captions, got 1" in text,
           f"refused (one caption): {text.strip()[:160]!r}", text)


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
