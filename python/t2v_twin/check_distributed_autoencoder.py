"""Checks of the twin's data-parallel autoencoder trainer (`train.py train-autoencoder`) on this
machine's CPUs (gloo), run by the Swift test suite (TwinDistributedTests) where PyTorch is
installed. The network is AutoencoderConfig.tiny() (channels 8/16/16, f = 4), 8x8 crops, lr 1e-3,
warm-up 3, 10 steps, seed 3, on check_distributed.py's synthetic dataset (24 clips of 4 frames of
16x16 in extract's layout, read memory-mapped):

1. equivalence: `torchrun --nproc_per_node 2` with per-rank batch 1 and one process with batch 2
   (the same global batches) end with the same raw weights and EMA within --tolerance (default
   1e-4, a tenth of one step's largest AdamW move at lr 1e-3: the two sum the gradients in
   another order and Adam's normalisation amplifies those rounding differences where a gradient
   is near zero), and their exported latent scales agree to 1e-4 relative;
2. resume: the one-process run stopped after 4 steps (--stop-at 4) and resumed with --resume to
   step 10 writes the uninterrupted run's file byte for byte; the two-process run stopped after 4
   steps and resumed by one process with batch 2 ends within --tolerance of it;
3. export: the file loads with load_autoencoder, carries the metadata Swift's
   `VideoAutoencoder.load` reads (t2v.autoencoder_config: the tiny config's canonical JSON;
   t2v.latent_scale: a positive float32 in Swift's `String(Float)` form, equal to the scale
   re-measured from the loaded weights) and the keys its `exportModel` writes (t2v.generator_version,
   t2v.step = 10, t2v.weights = ema), none of the keys the loader rejects, float32 tensors in
   Swift's layout (save_autoencoder of the loaded model rewrites the same bytes).

    python3 python/t2v_twin/check_distributed_autoencoder.py [--work DIR] [--keep] [--tolerance T]

Exit status 0 when every check passes.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(HERE, "train.py")
sys.path.insert(0, os.path.dirname(HERE))

from t2v_twin.check_distributed import make_dataset, run  # noqa: E402
from t2v_twin.data import read_safetensors_header  # noqa: E402

STEPS = 10


def command(data: str, out: str, procs: int, batch: int, extra=()) -> list[str]:
    base = [TRAIN, "train-autoencoder", "--data", data, "-o", os.path.join(out, "ae.safetensors"),
            "--config", "tiny", "--steps", str(STEPS), "--batch", str(batch), "--crop", "8", "--seed", "3",
            "--lr", "1e-3", "--warmup", "3", "--checkpoint-every", "5", "--device", "cpu", "--print-every", "1000",
            *extra]
    if procs == 1:
        return [sys.executable, *base]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(procs), *base]


def checkpoint(out: str):
    import torch
    return torch.load(os.path.join(out, "ae.ckpt.pt"), map_location="cpu", weights_only=False)


def max_diff(a: str, b: str) -> float:
    pa, pb = checkpoint(a), checkpoint(b)
    if pa["step"] != pb["step"]:
        return float("inf")
    diffs = [(pa["model"][k] - pb["model"][k]).abs().max().item() for k in pa["model"]]
    diffs += [(x - y).abs().max().item() for x, y in zip(pa["shadow"], pb["shadow"])]
    return max(diffs)


def scale_of(out: str) -> float:
    from safetensors import safe_open
    with safe_open(os.path.join(out, "ae.safetensors"), framework="pt") as f:
        return float(f.metadata()["t2v.latent_scale"])


def check_export(path: str, clips_dir: str) -> list[str]:
    """What Swift's `VideoAutoencoder.load` and `exportModel` expect of the file; [] when all holds."""
    import numpy as np
    import torch

    from t2v_twin.autoencoder import AutoencoderConfig, load_autoencoder, save_autoencoder
    from t2v_twin.autoencoder_train import measure_scale
    from t2v_twin.data import open_dataset, read_safetensors_header

    problems = []
    model, meta = load_autoencoder(path)
    want = {"t2v.autoencoder_config", "t2v.latent_scale", "t2v.generator_version", "t2v.step", "t2v.weights"}
    if not want <= set(meta):
        problems.append(f"metadata lacks {sorted(want - set(meta))}")
    for key in ("t2v.autoencoder_training_config", "t2v.denoiser_config"):
        if key in meta:
            problems.append(f"metadata has {key}, which Swift's loader rejects")
    if meta.get("t2v.autoencoder_config") != AutoencoderConfig.tiny().to_json():
        problems.append(f"t2v.autoencoder_config is {meta.get('t2v.autoencoder_config')!r}, "
                        f"expected {AutoencoderConfig.tiny().to_json()!r}")
    text = meta.get("t2v.latent_scale", "")
    scale = np.float32(text)
    if not (np.isfinite(scale) and scale > 0) or str(scale) != text:
        problems.append(f"t2v.latent_scale {text!r} is not a positive float32 in Swift's String(Float) form")
    if meta.get("t2v.step") != str(STEPS) or meta.get("t2v.weights") != "ema":
        problems.append(f"t2v.step {meta.get('t2v.step')!r}, t2v.weights {meta.get('t2v.weights')!r}")
    header, _ = read_safetensors_header(path)
    if any(v["dtype"] != "F32" for k, v in header.items() if k != "__metadata__"):
        problems.append("tensors are not all F32")
    torch.set_num_threads(1)
    remeasured = np.float32(measure_scale(model, open_dataset(clips_dir), 3, torch.device("cpu")))
    if remeasured != scale:
        problems.append(f"the stored scale {scale} differs from the loaded weights' {remeasured}")
    copy = path + ".rewritten"
    save_autoencoder(model, copy, {k: v for k, v in meta.items() if k not in ("t2v.autoencoder_config", "t2v.latent_scale")})
    if open(copy, "rb").read() != open(path, "rb").read():
        problems.append("save_autoencoder(load_autoencoder(file)) does not rewrite the same bytes")
    return problems


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", help="folder for the runs (default: a temporary one)")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--tolerance", type=float, default=1e-4)
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="t2v-ae-ddp-")
    os.makedirs(work, exist_ok=True)
    failures = []
    t0 = time.time()
    marks = [t0]

    def took() -> str:
        """Seconds since the previous check ended (its runs included)."""
        marks.append(time.time())
        return f" [{marks[-1] - marks[-2]:.1f} s]"

    def go(name: str, cmd: list[str]) -> bool:
        status, text = run(cmd, os.path.join(work, f"{name}.log"))
        if status:
            print(text[-3000:])
            print(f"FAIL: the run '{name}' exited {status}")
        return status == 0

    try:
        data, _, _ = make_dataset(work)
        p = lambda name: os.path.join(work, name)  # noqa: E731
        # 1. equivalence
        if not (go("one", command(data, p("one"), 1, 2)) and go("two", command(data, p("two"), 2, 1))):
            return 1
        d = max_diff(p("one"), p("two"))
        s1, s2 = scale_of(p("one")), scale_of(p("two"))
        rel = abs(s1 - s2) / s1
        ok = d <= args.tolerance and rel <= 1e-4
        print(f"{'ok  ' if ok else 'FAIL'} equivalence: {STEPS} steps, 1 process x batch 2 vs 2 processes x batch 1: "
              f"max abs difference of raw weights and EMA {d:.3g} (tolerance {args.tolerance:g}); latent scales "
              f"{s1} and {s2} (relative difference {rel:.2g})" + took())
        if not ok:
            failures.append("equivalence")

        # 2. resume, same world size: byte for byte
        if not go("cut1", command(data, p("cut1"), 1, 2, ["--stop-at", "4"])):
            return 1
        stopped_early = checkpoint(p("cut1"))["step"] == 4 and not os.path.exists(os.path.join(p("cut1"), "ae.safetensors"))
        if not go("resume1", command(data, p("cut1"), 1, 2, ["--resume"])):
            return 1
        same = open(os.path.join(p("one"), "ae.safetensors"), "rb").read() == \
            open(os.path.join(p("cut1"), "ae.safetensors"), "rb").read()
        ok = same and stopped_early
        print(f"{'ok  ' if ok else 'FAIL'} resume: 1 process stopped after 4 steps (--stop-at 4: checkpoint at step 4, "
              f"no export: {stopped_early}), --resume to {STEPS}: exported file "
              f"{'identical to' if same else 'DIFFERENT from'} the uninterrupted run's" + took())
        if not ok:
            failures.append("resume")
        # ... and at another world size: 2 processes to step 4, 1 process on
        if not (go("cut2", command(data, p("cut2"), 2, 1, ["--stop-at", "4"]))
                and go("resume2", command(data, p("cut2"), 1, 2, ["--resume"]))):
            return 1
        d = max_diff(p("one"), p("cut2"))
        ok = d <= args.tolerance
        print(f"{'ok  ' if ok else 'FAIL'} world size: 2 processes x batch 1 to step 4, resumed by 1 process x batch 2 "
              f"to {STEPS}, against 1 process throughout: max abs difference {d:.3g}" + took())
        if not ok:
            failures.append("world size")
        # a checkpoint resumed with another global batch is refused, naming the per-rank batch to use
        status, text = run(command(data, p("cut2"), 1, 4, ["--resume"]), os.path.join(work, "refused.log"))
        ok = status != 0 and "use --batch 2" in text
        print(f"{'ok  ' if ok else 'FAIL'} refusal: --resume with global batch 4 against the checkpoint's 2 exits "
              f"{status}, naming --batch 2: {'use --batch 2' in text}" + took())
        if not ok:
            print(text[-2000:])
            failures.append("refusal")

        # 3. the export in Swift's terms
        problems = check_export(os.path.join(p("two"), "ae.safetensors"), data)
        with open(os.path.join(p("two"), "ae.loss.csv")) as f:
            rows = f.read().split("\n")
        if rows[0] != "step,loss,lr" or len([r for r in rows[1:] if r]) != STEPS:
            problems.append(f"the loss log has {len(rows) - 1} rows under {rows[0]!r}")
        ok = not problems
        keys = sorted(read_safetensors_header(os.path.join(p("two"), "ae.safetensors"))[0]["__metadata__"])
        print(f"{'ok  ' if ok else 'FAIL'} export: the 2-process file loads (load_autoencoder), metadata keys "
              f"{keys}, latent scale re-measured from it, rewritten byte for byte"
              + ("" if ok else ": " + "; ".join(problems)) + took())
        if not ok:
            failures.append("export")
    finally:
        if not args.keep and not args.work:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{time.time() - t0:.1f} s in all")
    if failures:
        print("FAILED: " + ", ".join(failures))
        return 1
    print("all distributed autoencoder checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
