"""`t2v-render train` in PyTorch: the Swift trainer's recipe on GPUs (or CPUs), one process or many
under torchrun, exporting Swift weights.

    # here (CPU): caption embeddings from the Swift text encoder, and the clips (or, with --lazy,
    # only where each clip lies in the dataset's shards, which train memory-maps)
    python3 python/t2v_twin/train.py pack work/default-model/dataset pack.npz \
        --binary .build/release/t2v-render [--config samples/default-model.json] [--lazy]

    # one GPU: the shipped teacher's chain (train --steps 1000, then train --resume --extend
    # --steps 5000), with an optional wall-clock budget
    python3 python/t2v_twin/train.py train pack.npz --config samples/default-model.json \
        --cycles 1000,5000 --batch 4 --lr 1e-3 --warmup 50 --seed 1 --out DIR \
        [--time-budget SECONDS] [--device cuda] [--export-every N] [--precision bf16|fp32]

    # many: DistributedDataParallel, --batch per process (global batch = batch x world size)
    torchrun --nproc_per_node 8 [--nnodes 2 --rdzv-backend c10d --rdzv-endpoint HOST:29500] \
        python/t2v_twin/train.py train pack.npz --dataset DATASET --batch 4 ... --out DIR [--resume]

    # back here: DIR/teacher-STEP.safetensors work like Swift's own exports
    .build/release/t2v-render render --model DIR/teacher-5000.safetensors -p "a red ball" -o x.mp4

    # the latent autoencoder (`t2v-render train-autoencoder`), on the `extract` dataset itself,
    # one process or many (t2v_twin/autoencoder_train.py: the recipe and its options)
    [torchrun --nproc_per_node 8] python/t2v_twin/train.py train-autoencoder --data DATASET \
        -o ae.safetensors [--steps 5000 --batch 8 --crop 64 --lr 5e-4 --warmup 100 --seed 0 --resume]

Rank 0 writes DIR/train.ckpt.pt (atomically, every --checkpoint-every steps and at each cycle end)
and the exports; --resume continues at any world size with the same global batch (docs/scale-out.md).

The recipe (Sources/Generator/Training: Trainer.swift, TrainingConfig.swift, Optimizers/), with
`t2v-render train`'s levers and their defaults (--image-fraction, --condition-dropout,
--min-snr-gamma, --text-noise, --motion-loss; stored in the checkpoint, and a --resume that would
change one is refused):
- each step draws `batch` clip indices uniformly WITH replacement (no epochs, no shuffling, no
  augmentation); per clip, the caption embedding is replaced by zeros with probability
  --condition-dropout (0.1; the unconditional embedding is the zero vector, as is an empty
  caption's), and a timestep is drawn uniformly from 0..<trainSteps; the noise is N(0, I);
  --text-noise S (0: off) perturbs each kept embedding e to e + s z / sqrt(D), s uniform in
  [0, S), z ~ N(0, I), rescaled to the norm of e;
- joint image-video training (--image-fraction F, 0.5 for a new run, 0 with --no-temporal):
  min(B - 1, round(B F)) of the global batch's B clip slots hold `frames` independent frames
  each, every frame from a random clip with its own caption (and dropout), timestep and noise,
  denoised through the spatial layers only (`VideoDenoiser.forward_images`);
- x_t = alpha_t x0 + sigma_t eps with alpha = sqrt(abar), sigma = sqrt(1 - abar) (the config's
  schedule: linear, scaledLinear, cosine, shiftedCosine or custom; squaredcos_cap_v2 over 1000
  steps by default); the target is the config's prediction type (v = alpha eps - sigma x0 by
  default); each sample's MSE is weighted (uniformly, or Min-SNR-gamma with --min-snr-gamma G:
  min(SNR, G) / (SNR + 1) on v); with --motion-loss W (0: off) a clip's MSE gains W times the
  mean squared change of its error e = prediction - target between consecutive frames,
  mean((e[f+1] - e[f])^2), before that weight (images have no neighbouring frame and keep the
  plain MSE); loss = the mean of the clips' weighted losses, or with images
  (sum over clips + sum over images / frames) / B, so an image counts 1/frames of a clip;
- global gradient-norm clip 1.0; AdamW (0.9, 0.999), eps 1e-8, weight decay 0.01 except on
  parameters whose name ends in "bias" or contains "norm"; learning rate for 0-based step s:
  peak (s+1)/warmup during warm-up, then 0.5 peak (1 + cos(pi (s - warmup)/(total - warmup)))
  (float32, as Swift computes it); warmup = min(--warmup, first cycle end);
- a later cycle is Swift's `--resume --extend`: same optimizer moments, EMA and step count,
  only `total` moves to the cycle's end (a warm restart: the lr jumps to the longer cosine's
  value at the current step, e.g. 9.118e-4 at step 1001 of "1000,5000");
- EMA of every parameter, started at the initial weights, decay min(0.999, (1+s)/(10+s)) with s
  the global 0-based step; the exported weights are the EMA;
- initial weights: PyTorch's default Conv2d/Linear init, which is Swift's (uniform
  +-1/sqrt(fan_in)), norms 1/0, temporal gates 0 (twin's model.py);
- a config with `textWhitening` (eps): a new run fits the fixed whitening of the pooled text to
  the pack's distinct non-zero caption embeddings before the optimizer and EMA are made (Swift
  `TextWhitening.fit`, as `t2v-render train` does); its tensors are buffers, so they are never
  trained, decayed, clipped or averaged, and they travel in the checkpoint and the exports.
Randomness is torch's, not Swift's Philox stream: same recipe, other draws. Each step's global
batch (clips, dropout, timesteps) comes from a stream keyed by (--seed, step) and each sample's
noise from one keyed by (--seed, step, position in the global batch) (t2v_twin/data.py), so the
draws do not depend on the number of processes.
"""
from __future__ import annotations

import argparse
import ctypes
import copy
import json
import math
import os
import subprocess
import sys
import time

os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")  # deterministic cuBLAS
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from t2v_twin.data import read_safetensors_header  # noqa: E402

# TrainingConfig.swift defaults that `t2v-render train` does not expose as flags.
WEIGHT_DECAY = 0.01
GRADIENT_CLIP = 1.0
EMA_DECAY = np.float32(0.999)
MINIMUM_LR = 0.0
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8

# The training levers `t2v-render train` exposes, with its defaults for a new run: --condition-dropout
# (TrainingConfig.conditionDropout), --image-fraction (Train.defaultImageFraction; 0 with
# --no-temporal), --min-snr-gamma (none: uniform weighting), --text-noise (0: off) and --motion-loss
# (TrainingConfig.motionLossWeight; 0: off). Each is stored in the checkpoint.
CONDITION_DROPOUT = 0.1
DEFAULT_IMAGE_FRACTION = 0.5
LEVER_FLAGS = {"image_fraction": "--image-fraction", "condition_dropout": "--condition-dropout",
               "min_snr_gamma": "--min-snr-gamma", "text_noise": "--text-noise", "motion_loss": "--motion-loss",
               "high_noise_fraction": "--high-noise-fraction", "high_noise_from": "--high-noise-from"}
# What a checkpoint written before the levers were stored trained with.
LEVERS_OF_OLDER_CHECKPOINTS = {"image_fraction": 0.0, "condition_dropout": CONDITION_DROPOUT, "min_snr_gamma": None,
                               "text_noise": 0.0, "motion_loss": 0.0, "high_noise_fraction": 0.0, "high_noise_from": 0.9}

# Swift `DenoiserConfig.default` as its JSONEncoder writes it (the base that --config files are
# merged onto, as `Train.loadConfig` does).
SWIFT_DEFAULT_CONFIG = {
    "inChannels": 3, "baseChannels": 64, "channelMultipliers": [1, 2, 2], "resBlocksPerLevel": 1,
    "heads": 4, "groups": 8, "frames": 16, "resolution": 32, "textDim": 384, "maxFrameDistance": 16,
    "temporal": True,
    "schedule": {"betaSchedule": {"cosine": {"maxBeta": 0.999}}, "trainSteps": 1000},
    "predictionType": "v_prediction",
}
SWIFT_TINY_OVERRIDES = {"baseChannels": 16, "channelMultipliers": [1, 2], "heads": 2, "groups": 4,
                        "frames": 4, "resolution": 16, "maxFrameDistance": 4}


def log(msg: str) -> None:
    print(msg, flush=True)


def load_config(text: str) -> dict:
    """`Train.loadConfig`: a preset (tiny, default) or a JSON file merged onto the default."""
    cfg = copy.deepcopy(SWIFT_DEFAULT_CONFIG)
    if text == "tiny":
        cfg.update(SWIFT_TINY_OVERRIDES)
    elif text != "default":
        with open(text) as f:
            given = json.load(f)
        if not isinstance(given, dict):
            raise SystemExit(f"--config {text}: expected a JSON object")
        cfg.update(given)
    return cfg


# ---------------------------------------------------------------------------------------------
# Noise schedule (BetaSchedule.swift, NoiseSchedule.swift), in float64 like Swift; the DenoiserConfig's
# `schedule` is what `train` noises with.

def alphas_cumprod(schedule: dict) -> np.ndarray:
    steps = int(schedule["trainSteps"])
    (kind, args), = schedule["betaSchedule"].items()
    if kind == "linear":
        betas = np.linspace(args["start"], args["end"], steps, dtype=np.float64)
    elif kind == "scaledLinear":
        betas = np.linspace(math.sqrt(args["start"]), math.sqrt(args["end"]), steps, dtype=np.float64) ** 2
    elif kind == "cosine":
        def abar(t):
            return math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        betas = np.array([min(1 - abar((i + 1) / steps) / abar(i / steps), args["maxBeta"]) for i in range(steps)])
    elif kind == "shiftedCosine":
        c0 = math.cos(0.008 / 1.008 * math.pi / 2) ** 2

        def abar(t):
            a = math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2 / c0
            if a <= 0:
                return 0.0
            if a >= 1:
                return 1.0
            return 1 / (1 + math.exp(-(math.log(a / (1 - a)) + args["logSNRShift"])))
        if args["logSNRShift"] == 0:
            return alphas_cumprod({"trainSteps": steps, "betaSchedule": {"cosine": {"maxBeta": args["maxBeta"]}}})
        betas = []
        for i in range(steps):
            a1 = abar(i / steps)
            betas.append(min(1 - abar((i + 1) / steps) / a1, args["maxBeta"]) if a1 > 0 else args["maxBeta"])
        betas = np.asarray(betas)
    elif kind == "custom":
        betas = np.asarray(args["betas"], dtype=np.float64)
    else:
        raise SystemExit(f"unknown beta schedule {kind!r}")
    out, product = np.empty(steps), 1.0
    for i, b in enumerate(betas):  # sequential product, as Swift's loop
        product *= 1 - float(b)
        out[i] = product
    return out


# ---------------------------------------------------------------------------------------------
# Learning rate (LearningRateSchedule.swift), float32 step for step, with libm's cosf (what
# Swift's Foundation.cos(Float) calls on Linux) and Swift's Float.pi, which is pi rounded toward
# zero (3.1415925), not to nearest (np.float32(np.pi) = 3.1415927): with both, every lr of the
# shipped teacher's log (work/lr1e-3/teacher.loss.csv, steps 1-5000) is reproduced bit for bit.

SWIFT_FLOAT_PI = np.float32(float.fromhex("0x1.921fb4p1"))

try:
    _cosf = ctypes.CDLL("libm.so.6").cosf
    _cosf.restype, _cosf.argtypes = ctypes.c_float, [ctypes.c_float]
except (OSError, AttributeError):  # no glibc: correctly rounded cos instead
    def _cosf(x):
        return float(np.float32(math.cos(float(x))))


def warmup_cosine(step: int, peak: float, warmup: int, total: int, minimum: float = MINIMUM_LR) -> np.float32:
    """Swift `WarmupCosineSchedule(step)` for 0-based `step`, in float32."""
    f = np.float32
    peak, minimum = f(peak), f(minimum)
    if step < warmup:
        return peak * f(step + 1) / f(warmup)
    span = max(total - warmup, 1)
    p = min(max(f(step - warmup) / f(span), f(0)), f(1))
    return minimum + f(0.5) * (peak - minimum) * (f(1) + f(_cosf(SWIFT_FLOAT_PI * p)))


def cycle_lr(step: int, peak: float, warmup: int, cycles: list[int]) -> np.float32:
    """The learning rate of 0-based `step` in a chain of cycles: the first cycle whose end lies
    beyond the step sets the cosine's total (later cycles are `--resume --extend`)."""
    total = next((c for c in cycles if step < c), cycles[-1])
    return warmup_cosine(step, peak, warmup, total)


# ---------------------------------------------------------------------------------------------
# Joint image-video batches and loss weighting (Trainer.swift, TrainingLoss.swift).

def image_slots(batch: int, fraction: float) -> int:
    """Swift `Trainer.imageSlots`: the clip slots of a batch of `batch` filled with independent
    frames, min(batch - 1, round(batch x fraction)), halves rounded away from zero as Swift's
    `rounded()` does (Python's round() would take 2.5 to 2); 0 when `fraction` is 0."""
    if fraction <= 0:
        return 0
    x = batch * fraction
    whole = math.floor(x)
    return min(batch - 1, int(whole) + (1 if x - whole >= 0.5 else 0))


def loss_weights(abar: np.ndarray, prediction: str, min_snr_gamma: float | None) -> np.ndarray | None:
    """Swift `LossWeighting.weight(snr:prediction:)` of every timestep, float32 (as the Swift trainer
    rounds it): Min-SNR-gamma, min(SNR, gamma) on the x0-MSE, i.e. min(SNR, gamma) / (SNR + 1) on
    the v-MSE and min(SNR, gamma) / SNR on the epsilon-MSE, computed in float64 with SNR =
    abar / (1 - abar). None: uniform weighting (every sample weighs 1)."""
    if min_snr_gamma is None:
        return None
    snr = abar / (1 - abar)
    x0_weight = np.minimum(snr, float(min_snr_gamma))
    weight = {"v_prediction": x0_weight / (snr + 1), "epsilon": x0_weight / snr, "sample": x0_weight}[prediction]
    return weight.astype(np.float32)


def clip_loss(pred, target, motion_weight: float):
    """Swift `Trainer.clipLoss`: each clip's loss of a batch `[b, F, ...]` (before its noise-level
    weight), the MSE of the error e = pred - target plus `motion_weight` times the mean squared
    change of e between consecutive frames, mean((e[:, 1:] - e[:, :-1])^2). An error every frame
    shares adds nothing to the term; one frame's own error enters two of its differences. Off
    (weight 0, or a single frame) it is the plain MSE alone, the same operations as a run without
    the lever. Returns `[b]` (float32)."""
    error = pred.float() - target
    b, frames = error.shape[0], error.shape[1]
    plain = error.square().reshape(b, -1).mean(dim=1)
    if motion_weight <= 0 or frames < 2:
        return plain
    change = error[:, 1:] - error[:, :-1]
    # Swift multiplies by Float(motionLossWeight): the float32 value.
    return plain + change.square().reshape(b, -1).mean(dim=1) * float(np.float32(motion_weight))


def check_lever_flags(args) -> None:
    """`Train.validate`'s checks of the levers' flags, before anything is loaded."""
    f = args.image_fraction
    if f is not None:
        if not (math.isfinite(f) and 0 <= f < 1):
            raise SystemExit(f"--image-fraction must be in [0, 1), got {f}")
        if args.no_temporal and f > 0:
            raise SystemExit("--image-fraction trains the spatial layers beside the temporal stream; "
                             "--no-temporal has none (leave --image-fraction out)")
    p = args.condition_dropout
    if p is not None and not (math.isfinite(p) and 0 <= p < 1):
        raise SystemExit(f"--condition-dropout must be in [0, 1), got {p}")
    g = args.min_snr_gamma
    if g is not None and not (math.isfinite(g) and g > 0):
        raise SystemExit(f"--min-snr-gamma must be positive, got {g}")
    n = args.text_noise
    if n is not None and not (math.isfinite(n) and 0 <= n <= 10):
        raise SystemExit(f"--text-noise must be in 0...10, got {n}")
    m = args.motion_loss
    if m is not None and not (math.isfinite(m) and 0 <= m <= 100):
        raise SystemExit(f"--motion-loss must be in 0...100, got {m}")
    h = args.high_noise_fraction
    if h is not None and not (math.isfinite(h) and 0 <= h <= 1):
        raise SystemExit(f"--high-noise-fraction must be in 0...1, got {h}")
    f = args.high_noise_from
    if f is not None:
        if not (math.isfinite(f) and 0 <= f < 1):
            raise SystemExit(f"--high-noise-from must be in [0, 1), got {f}")
        if h is None:
            raise SystemExit("--high-noise-from applies with --high-noise-fraction")


def resolve_levers(args, saved_run: dict | None, ckpt_path: str) -> dict:
    """The run's levers: a new run's from the flags with `t2v-render train`'s defaults; a resumed
    run's from its checkpoint (older checkpoints: `LEVERS_OF_OLDER_CHECKPOINTS`), refusing a flag
    that would change one, as the Swift command does."""
    if saved_run is None:
        fraction = 0.0 if args.no_temporal else (DEFAULT_IMAGE_FRACTION if args.image_fraction is None
                                                  else args.image_fraction)
        dropout = CONDITION_DROPOUT if args.condition_dropout is None else args.condition_dropout
        return {"image_fraction": float(fraction), "condition_dropout": float(dropout),
                "min_snr_gamma": None if args.min_snr_gamma is None else float(args.min_snr_gamma),
                "text_noise": float(args.text_noise or 0.0), "motion_loss": float(args.motion_loss or 0.0),
                "high_noise_fraction": float(args.high_noise_fraction or 0.0),
                "high_noise_from": 0.9 if args.high_noise_from is None else float(args.high_noise_from)}
    levers = {key: saved_run.get(key, default) for key, default in LEVERS_OF_OLDER_CHECKPOINTS.items()}
    for key, flag in LEVER_FLAGS.items():
        given, saved = getattr(args, key), levers[key]
        if given is None or given == saved:
            continue
        trains_with = "uniform loss weighting (no --min-snr-gamma)" if saved is None else f"{flag} {saved:g}"
        raise SystemExit(f"{ckpt_path}: the checkpoint trains with {trains_with}, not {flag} {given:g}; "
                         f"resume without {flag} (or with the checkpoint's value)")
    return levers


def joint_denoiser(model):
    """`model` as one module whose forward takes a step's clips and images (each an argument tuple
    of `VideoDenoiser.forward` / `forward_images`, or None) and returns both predictions, so that
    DistributedDataParallel sees the clip and the image pass as one forward."""
    import torch.nn as nn

    class JointDenoiser(nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, clips, images):
            return (None if clips is None else self.model(*clips),
                    None if images is None else self.model.forward_images(*images))

    return JointDenoiser(model)


# ---------------------------------------------------------------------------------------------
# pack

def cmd_pack(args) -> int:
    records = [json.loads(line) for line in open(os.path.join(args.dataset, "manifest.jsonl")) if line.strip()]
    if not records:
        raise SystemExit(f"{args.dataset}: empty manifest")
    t, h, w = records[0]["frames"], records[0]["height"], records[0]["width"]
    if any((r["frames"], r["height"], r["width"]) != (t, h, w) for r in records):
        raise SystemExit(f"{args.dataset}: clips differ in shape")
    shards = {}
    for name in sorted({r["shard"] for r in records}):
        header, start = read_safetensors_header(os.path.join(args.dataset, name))
        info = header["clips"]
        if info["dtype"] != "U8" or info["shape"][1:] != [t, h, w, 3]:
            raise SystemExit(f"{name}: clips are {info['dtype']} {info['shape']}, expected U8 [N, {t}, {h}, {w}, 3]")
        shards[name] = np.memmap(os.path.join(args.dataset, name), dtype=np.uint8, mode="r",
                                 offset=start + info["data_offsets"][0], shape=tuple(info["shape"]))
    # Manifest order, packed [N, T, H, W, 3] bytes: the loader's values are byte / 127.5 - 1.
    # --lazy: only where each clip lies (shard, index); train maps the shards.
    shard_names = sorted(shards)
    if args.lazy:
        for r in records:
            if not 0 <= r["index"] < len(shards[r["shard"]]):
                raise SystemExit(f"{r['shard']}: the manifest names clip {r['index']}, the shard holds {len(shards[r['shard']])}")
        data = {"shard_names": np.array(shard_names),
                "shard_of": np.array([shard_names.index(r["shard"]) for r in records], dtype=np.int32),
                "index_in_shard": np.array([r["index"] for r in records], dtype=np.int64)}
    else:
        data = {"clips": np.stack([np.asarray(shards[r["shard"]][r["index"]]) for r in records])}

    # Each distinct caption once, by the Swift encoder (TrainingData.swift); "" -> zeros. A
    # record's alternatives (more captions of its clip) are embedded too, and listed per clip.
    captions = sorted({c for r in records for c in [r["caption"]] + r.get("alternatives", [])})
    texts = [c for c in captions if c]
    embedded = {}
    for i in range(0, len(texts), 64):
        out = subprocess.run([args.binary, "embed", "--json", *texts[i:i + 64]]
                             + (["--text-model", args.text_model] if args.text_model else []),
                             check=True, capture_output=True, text=True)
        doc = json.loads(out.stdout)
        for item in doc["embeddings"]:
            embedded[item["text"]] = np.asarray(item["embedding"], dtype=np.float32)
        text_model = doc["model"]
    dim = len(next(iter(embedded.values())))
    embeddings = np.stack([embedded.get(c, np.zeros(dim, np.float32)) if c else np.zeros(dim, np.float32)
                           for c in captions])
    row_of = {c: i for i, c in enumerate(captions)}
    caption_index = np.array([row_of[r["caption"]] for r in records], dtype=np.int32)
    alternatives = [[row_of[c] for c in r.get("alternatives", [])] for r in records]
    if any(alternatives):
        data["alternative_offsets"] = np.cumsum([0] + [len(a) for a in alternatives]).astype(np.int64)
        data["alternative_index"] = np.array([i for a in alternatives for i in a], dtype=np.int32)
    version = subprocess.run([args.binary, "--version"], capture_output=True, text=True).stdout.strip()

    cfg = load_config(args.config)
    cfg.update(frames=t, resolution=h)
    meta = {"dataset": os.path.abspath(args.dataset), "clips": len(records), "captions": len(captions),
            "text_model": text_model, "generator_version": version or "0.1.0",
            "unconditional": "zeros", "config_source": args.config}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)) or ".", exist_ok=True)
    np.savez_compressed(args.out, caption_index=caption_index, embeddings=embeddings,
                        captions=np.array(captions), config_json=np.array(json.dumps(cfg)),
                        meta_json=np.array(json.dumps(meta)), **data)
    log(f"packed {len(records)} clips [{len(records)}, {t}, {h}, {w}, 3] uint8{' (indexed: --lazy)' if args.lazy else ''}, {len(captions)} captions x {dim} "
        f"({text_model}), Swift {version}: {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB)")
    return 0


# ---------------------------------------------------------------------------------------------
# train

def export_weights(model, path: str, names: list[str], tensors, step: int, version: str, trainer: str) -> None:
    """`Trainer.exportModel`: the EMA weights as F32, metadata as Swift writes it (config JSON,
    generator version, step, "ema"), plus `t2v.trainer` naming this script."""
    from t2v_twin import save_denoiser
    meta = {"t2v.generator_version": version, "t2v.step": str(step), "t2v.weights": "ema", "t2v.trainer": trainer}
    # The fixed tensors (the text whitening's buffers) are not averaged: they go out as they are.
    state = {**dict(model.named_buffers()), **dict(zip(names, tensors))}
    save_denoiser(model, path, meta, state=state)


def atomic_torch_save(obj, path: str) -> None:
    """torch.save into a temporary file beside `path`, fsync, rename: a checkpoint is whole or absent."""
    import torch
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        torch.save(obj, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Stop(Exception):
    """A signal asked the run to stop; the checkpoint was written."""

    def __init__(self, status: int):
        self.status = status


# ---------------------------------------------------------------------------------------------
# What the trainers share (train, and train-autoencoder in autoencoder_train.py).

class Runtime:
    """The process's place in the job and its device: torchrun (or Slurm through it) sets
    WORLD_SIZE, RANK and LOCAL_RANK; a plain `python3 train.py` is world size 1."""

    def __init__(self, world: int, rank: int, local_rank: int, device, precision: str):
        self.world, self.rank, self.local_rank = world, rank, local_rank
        self.main_rank = rank == 0
        self.device, self.precision = device, precision

    def log0(self, msg: str) -> None:
        if self.main_rank:
            log(msg)


def setup_runtime(args) -> Runtime:
    """The device (--device, default CUDA when available; LOCAL_RANK's GPU), --threads on the CPU,
    --precision (default bf16 on CUDA, fp32 on the CPU), the process group (NCCL on GPUs, gloo on
    CPUs, --timeout) when there is more than one process, and deterministic kernels."""
    import torch
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    kind = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if kind == "cuda":
        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA device is visible")
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    else:
        device = torch.device("cpu")
        torch.set_num_threads(args.threads)
    precision = args.precision or ("bf16" if device.type == "cuda" else "fp32")
    if world > 1:
        import datetime
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo",
                                timeout=datetime.timedelta(seconds=args.timeout))

    torch.backends.cuda.matmul.allow_tf32 = True  # TF32 matmuls and convolutions in fp32 mode
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True, warn_only=True)
    # Memory-efficient (and cuDNN) attention backward is not deterministic: flash for the
    # unmasked spatial attention, math for the temporal one (its bias is an attn_mask).
    torch.backends.cuda.enable_mem_efficient_sdp(False)
    torch.backends.cuda.enable_cudnn_sdp(False)
    return Runtime(world, rank, local_rank, device, precision)


def close_process_group(world: int) -> None:
    """Leaves the process group. On gloo the ranks first meet at a barrier with a timeout: a rank
    that tears the group down while another still talks to it can abort in gloo's threads
    ("terminate called without an active exception"), and a lost rank must not hang the others."""
    import datetime

    import torch.distributed as dist
    if world > 1 and dist.is_initialized():
        try:
            if dist.get_backend() == "gloo":
                dist.monitored_barrier(timeout=datetime.timedelta(seconds=60))
        except Exception:  # noqa: BLE001 - a lost rank: leave anyway
            pass
        try:
            dist.destroy_process_group()
        except Exception:  # noqa: BLE001 - the group may already be broken
            pass


def no_weight_decay(name: str) -> bool:
    """Swift `AdamW(namedParameters:)`: no decay on biases and norm scales."""
    return name.endswith("bias") or "norm" in name


def make_adamw(params, no_decay: list[bool], lr: float, device, weight_decay: float = WEIGHT_DECAY):
    """Swift's AdamW: (0.9, 0.999), eps 1e-8, decoupled weight decay except where `no_decay`."""
    import torch
    groups = [{"params": [p for p, nd in zip(params, no_decay) if not nd], "weight_decay": weight_decay},
              {"params": [p for p, nd in zip(params, no_decay) if nd], "weight_decay": 0.0}]
    kw = {"fused": True} if device.type == "cuda" else {"foreach": True}
    return torch.optim.AdamW(groups, lr=lr, betas=ADAM_BETAS, eps=ADAM_EPS, **kw)


def ema_update(shadow, params, step: int, target=EMA_DECAY) -> None:
    """Swift `EMA.update` with the decay set as the trainers set it: min(target, (1+s)/(10+s))
    for 0-based step s, in float32."""
    import torch
    d = min(target, np.float32(1 + step) / np.float32(10 + step))
    with torch.no_grad():
        torch._foreach_mul_(shadow, float(d))
        torch._foreach_add_(shadow, [p.detach() for p in params], alpha=float(np.float32(1) - d))


def install_stop_signals() -> list[int]:
    """SIGINT and SIGTERM only note the signal; the training loop checks `stop_flags` each step."""
    import signal
    caught: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda num, _frame: caught.append(num))
    return caught


def stop_flags(world: int, *flags: bool) -> list[bool]:
    """Flags (a signal was caught, a budget ran out, ...) OR-ed over every rank, so every rank
    stops at the same step."""
    import torch
    import torch.distributed as dist
    t = torch.tensor([float(bool(f)) for f in flags])
    if world > 1:
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return [bool(v > 0) for v in t]


def signal_status(caught: list[int]) -> int:
    import signal
    return 128 + (caught[0] if caught else signal.SIGTERM)


def check_resumed_run(saved: dict, run: dict, world: int, ckpt_path: str) -> None:
    """Every setting of `run` must equal the checkpoint's; the global batch may be split over any
    number of processes (the error says which per-rank --batch fits)."""
    for key, value in run.items():
        if saved.get(key) != value:
            hint = ""
            if key == "global_batch":
                hint = (f" (per-rank --batch x processes); with {world} process(es) use --batch "
                        f"{saved[key] // world}" if saved[key] % world == 0 else
                        f"; {saved[key]} is not divisible by {world} processes")
            raise SystemExit(f"{ckpt_path}: the checkpoint trains with {key} {saved.get(key)!r}, this run "
                             f"with {value!r}{hint}; resume with the same settings")


def report_rank_failure(rank: int, world: int, step: int, saved, ckpt_path: str, error: Exception) -> None:
    where = f"the last checkpoint is at step {saved} ({ckpt_path})" if saved is not None else "no checkpoint was written yet"
    print(f"error: rank {rank} of {world}: training stopped at step {step + 1}: {error}\n"
          f"Another process of the job failed or was killed; {where}. Run the same command with --resume "
          f"(any number of processes, the same global batch) to go on.", file=sys.stderr, flush=True)


class LossLog:
    """Each step's loss (a device tensor, no host sync) and learning rate; `flush` averages the
    losses over ranks into `history` ((loss, lr) rows of every finished step, kept in the
    checkpoint) and rank 0 appends them to the CSV `path` (step,loss,lr as Swift writes it)."""

    def __init__(self, path: str, history: np.ndarray, total: int, device, world: int, main_rank: bool):
        import torch
        self.path, self.world, self.main_rank = path, world, main_rank
        self.history = np.asarray(history, dtype=np.float32).reshape(-1, 2)
        self.logged = len(self.history)
        self.losses = torch.zeros(total, device=device)
        self.lrs = np.zeros(total, dtype=np.float32)
        if main_rank:
            with open(path, "w") as f:
                f.write("step,loss,lr\n")
                for k, (l, r) in enumerate(self.history):
                    f.write(f"{k + 1},{str(np.float32(l))},{str(np.float32(r))}\n")

    def record(self, step: int, loss, lr) -> None:
        self.losses[step] = loss
        self.lrs[step] = lr

    def flush(self, upto: int) -> None:
        """Every rank (it all-reduces): the mean loss over ranks of the steps since the last flush."""
        import torch.distributed as dist
        if upto <= self.logged:
            return
        chunk = self.losses[self.logged:upto].clone()
        if self.world > 1:
            dist.all_reduce(chunk)
            chunk /= self.world
        rows = np.stack([chunk.cpu().numpy(), self.lrs[self.logged:upto]], axis=1).astype(np.float32)
        self.history = np.concatenate([self.history, rows])
        if self.main_rank:
            with open(self.path, "a") as f:
                for k, (l, r) in enumerate(rows):
                    f.write(f"{self.logged + k + 1},{str(np.float32(l))},{str(np.float32(r))}\n")
        self.logged = upto


def cmd_train(args) -> int:
    t_start = time.time()
    check_lever_flags(args)
    import torch
    import torch.distributed as dist

    from t2v_twin import DenoiserConfig, VideoDenoiser
    from t2v_twin.data import (DRAWS, IMAGES, caption_draws, choose_captions, high_noise_timesteps, image_draws, open_clips, sample_noise, step_draws,
                               text_noise_draws)

    rt = setup_runtime(args)
    world, rank, local_rank, main_rank, device, precision = (rt.world, rt.rank, rt.local_rank, rt.main_rank,
                                                             rt.device, rt.precision)
    log0 = rt.log0

    pack = np.load(args.pack)
    meta = json.loads(str(pack["meta_json"]))
    cfg = load_config(args.config) if args.config else json.loads(str(pack["config_json"]))
    clips = open_clips(pack, args.dataset)
    n_clips = len(clips)
    frames, height, width, _ = clips.shape
    if height != width:
        raise SystemExit(f"clips are {width}x{height}; the model needs square clips")
    cfg.update(frames=int(frames), resolution=int(height), maxFrameDistance=max(int(cfg["maxFrameDistance"]), 1))
    if args.no_temporal:
        cfg["temporal"] = False
    config = DenoiserConfig.from_json(json.dumps(cfg))
    config_json = config.to_json()  # Swift's form: sorted keys, no spaces
    if config.crossAttention:
        raise SystemExit("the config has crossAttention, which trains on each caption's token states; a pack holds "
                         "only the pooled embeddings (`t2v-render embed --json` writes no token states), so this "
                         "trainer cannot train it: use `t2v-render train`, or a config without crossAttention")
    prediction = cfg["predictionType"]
    if prediction not in ("v_prediction", "epsilon", "sample"):
        raise SystemExit(f"unknown prediction type {prediction!r}")

    cycles = [int(c) for c in args.cycles.split(",")]
    if any(b <= a for a, b in zip(cycles, cycles[1:])) or cycles[0] < 1:
        raise SystemExit("--cycles must be increasing positive step counts, e.g. 1000,5000")
    warmup = min(args.warmup, cycles[0])  # Swift: tc.warmupSteps = min(warmup, steps)
    b = args.batch
    global_batch = b * world
    os.makedirs(args.out, exist_ok=True)
    ckpt_path = args.checkpoint or os.path.join(args.out, "train.ckpt.pt")
    if args.time_budget and args.resume:
        raise SystemExit("--time-budget sizes a new run's cycles; a --resume keeps the checkpoint's")
    state = None
    if args.resume:
        if not os.path.isfile(ckpt_path):
            raise SystemExit(f"--resume: no checkpoint at {ckpt_path}; start without --resume")
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        if state.get("format") != "t2v-twin-train/1":
            raise SystemExit(f"{ckpt_path}: not a checkpoint of this trainer")
    levers = resolve_levers(args, None if state is None else state["run"], ckpt_path)

    # The model, initialised on the CPU from --seed (the same weights on any device and rank).
    torch.manual_seed(args.seed)
    try:
        model = VideoDenoiser(config).to(device)
    except ValueError as e:  # a config the Swift `DenoiserConfig.validate` refuses too
        raise SystemExit(f"config: {e}")
    model.train()
    names = [n for n, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]
    no_decay = [no_weight_decay(n) for n in names]  # AdamW(namedParameters:)

    # Captions: one embedding row per distinct caption, the clip's row by index.
    emb_table = torch.from_numpy(pack["embeddings"]).to(device)
    caption_index = torch.from_numpy(pack["caption_index"].astype(np.int64))
    if emb_table.shape[1] != cfg["textDim"]:
        raise SystemExit(f"embeddings have {emb_table.shape[1]} values, the config's textDim is {cfg['textDim']}")
    if len(caption_index) != n_clips:
        raise SystemExit(f"{args.pack}: {len(caption_index)} caption indices for {n_clips} clips")
    # A clip with alternatives trains under one of its captions drawn each time (Swift
    # `TrainingClip.drawingCaption`, here from a stream keyed by (seed, step, position)).
    alt_offsets = pack["alternative_offsets"] if "alternative_offsets" in pack.files else None
    alt_index = pack["alternative_index"] if alt_offsets is not None else None
    if alt_offsets is not None and len(alt_offsets) != n_clips + 1:
        raise SystemExit(f"{args.pack}: {len(alt_offsets)} alternative offsets for {n_clips} clips")
    whitening_note = "off"
    if model.textWhitening is not None:
        whitening_note = f"eps {config.textWhitening:g}, "
        if state is None:
            # A new run fits the fixed whitening to the dataset's captions, as `t2v-render train`
            # does, before the optimizer and the EMA are made (neither ever sees it: it is a
            # buffer); a --resume takes the checkpoint's.
            used = pack["caption_index"] if alt_index is None else np.concatenate([pack["caption_index"], alt_index])
            rows = pack["embeddings"][np.unique(used)]
            try:
                fitted = model.textWhitening.fit(rows, config.textWhitening)
            except ValueError as e:
                raise SystemExit(f"{args.pack}: {e}")
            whitening_note += f"fitted to {fitted} distinct captions"
        else:
            whitening_note += "the checkpoint's"
    abar = alphas_cumprod(cfg["schedule"])
    train_steps = len(abar)
    alpha_t = torch.tensor(np.sqrt(abar).astype(np.float32), device=device)  # Float(alpha(t))
    sigma_t = torch.tensor(np.sqrt(1 - abar).astype(np.float32), device=device)
    weights = loss_weights(abar, prediction, levers["min_snr_gamma"])
    weight_t = None if weights is None else torch.tensor(weights, device=device)
    dropout, text_noise, motion = levers["condition_dropout"], levers["text_noise"], levers["motion_loss"]
    # --high-noise-fraction: that share of timesteps from the schedule's noisiest band, as Swift's
    # `Trainer.drawTimestep` (its own stream here, so runs without it draw what they drew).
    high_share = levers["high_noise_fraction"]
    high_start = min(train_steps - 1, int(levers["high_noise_from"] * train_steps))
    # Joint image-video training: the last `slots` places of the global batch hold `frames`
    # independent frames each; the first `clip_slots` hold clips.
    slots = image_slots(global_batch, levers["image_fraction"])
    clip_slots = global_batch - slots
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")

    def make_optimizer(ps):
        return make_adamw(ps, no_decay, args.lr, device)

    def noised(x0, noise, tt):
        """x_t and the prediction target of samples `x0` (clips or images) at timesteps `tt`."""
        shape = (len(tt),) + (1,) * (x0.dim() - 1)
        a, s = alpha_t[tt].view(shape), sigma_t[tt].view(shape)
        xt = a * x0 + s * noise
        return xt, {"v_prediction": -s * x0 + a * noise, "epsilon": noise, "sample": x0}[prediction]

    def sample_losses(pred, target, tt, motion_weight=0.0):
        """Each sample's loss (`clip_loss`; images: the plain MSE, motion weight 0) times its loss
        weight (none: uniform)."""
        per_sample = clip_loss(pred, target, motion_weight)
        return per_sample if weight_t is None else per_sample * weight_t[tt]

    def conditioning(rows, dropped, seed, step, positions, per_position):
        """The pooled text of clips `rows`: zeros where `dropped`; with --text-noise, each kept
        embedding e becomes e + s z / sqrt(D) rescaled to the norm of e, s = text_noise x U[0, 1),
        z ~ N(0, I) (Swift `Trainer.perturb`; a zero embedding stays zero)."""
        chosen = caption_index[rows]
        if alt_offsets is not None:
            chosen = choose_captions(caption_index, alt_offsets, alt_index, rows,
                                     caption_draws(torch, seed, step, positions, per_position))
        text = emb_table[chosen.to(device)]
        if text_noise > 0:
            u, z = text_noise_draws(torch, seed, step, positions, per_position, text.shape[1])
            k = u.to(device) * float(np.float32(text_noise)) / float(np.float32(math.sqrt(text.shape[1])))
            out = text + k[:, None] * z.to(device)
            norm, out_norm = text.norm(dim=1, keepdim=True), out.norm(dim=1, keepdim=True)
            text = torch.where((norm > 0) & (out_norm > 0), out * norm / out_norm, text)
        return torch.where(dropped.to(device)[:, None], torch.zeros_like(text), text)

    def train_step(net, ps, opt, shadow, seed, step, lr, part):
        """One `Trainer.trainStep` on this rank's slice `part` of the global batch (`net` is
        `joint_denoiser`'s module, or DDP around it); returns the slice's loss as a device tensor
        (no host sync). The loss is Swift's: each clip weighs 1 and each image 1/frames, over the
        global batch's total weight (its slot count), so the slices' losses, which DDP averages
        over ranks with the gradients, make the global batch's."""
        idx, drop, t = step_draws(torch, seed, step, global_batch, n_clips, train_steps, dropout)
        t = high_noise_timesteps(torch, seed, step, t, high_share, high_start, train_steps, DRAWS)
        lo, hi = part
        clip_end, image_start = min(hi, clip_slots), max(lo, clip_slots)  # clips [lo, clip_end), images [image_start, hi)
        clip_args = image_args = None
        if clip_end > lo:
            mine = idx[lo:clip_end]
            x0 = torch.from_numpy(clips.get(mine.tolist())).to(device).permute(0, 1, 4, 2, 3).float() / 127.5 - 1
            noise = sample_noise(torch, seed, step, range(lo, clip_end), tuple(x0.shape[1:])).to(device)
            clip_t = t[lo:clip_end].to(device)
            xt, clip_target = noised(x0, noise, clip_t)
            clip_args = (xt, clip_t, conditioning(mine, drop[lo:clip_end], seed, step, range(lo, clip_end), 1))
        if hi > image_start:
            source, frame, image_drop, image_t = image_draws(torch, seed, step, slots * frames, n_clips, frames,
                                                             train_steps, dropout)
            image_t = high_noise_timesteps(torch, seed, step, image_t, high_share, high_start, train_steps, IMAGES)
            j0, j1 = (image_start - clip_slots) * frames, (hi - clip_slots) * frames
            x0 = torch.from_numpy(clips.frames(source[j0:j1].tolist(), frame[j0:j1].tolist())).to(device)
            x0 = x0.permute(0, 3, 1, 2).float() / 127.5 - 1
            # An image slot's noise comes from its place's stream, `frames` images' worth, as a clip's.
            noise = sample_noise(torch, seed, step, range(image_start, hi), (frames, *x0.shape[1:]))
            image_t = image_t[j0:j1].to(device)
            xt, image_target = noised(x0, noise.to(device).reshape(x0.shape), image_t)
            image_args = (xt, image_t, conditioning(source[j0:j1], image_drop[j0:j1], seed, step,
                                                    range(image_start, hi), frames))
        with autocast:
            clip_pred, image_pred = net(clip_args, image_args)
        if image_args is None:
            loss = sample_losses(clip_pred, clip_target, clip_args[1], motion).mean()
        else:
            total = sample_losses(image_pred, image_target, image_args[1]).sum() / frames
            if clip_args is not None:
                total = sample_losses(clip_pred, clip_target, clip_args[1], motion).sum() + total
            loss = total / (hi - lo)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ps, GRADIENT_CLIP, foreach=True)
        for g in opt.param_groups:
            g["lr"] = float(lr)
        opt.step()
        opt.zero_grad(set_to_none=False)
        ema_update(shadow, ps, step)  # float32 decay, as Swift
        return loss.detach()

    # --time-budget: rank 0 times the step on a throwaway copy (its own optimizer, EMA and draws,
    # so the run itself is the same with or without a budget), then fixes the cycle ends before
    # step 0, so the warm-up and every cosine are the real, fully decayed ones; every rank gets them.
    if args.time_budget:
        plan = [cycles, warmup]
        if main_rank:
            net = joint_denoiser(copy.deepcopy(model))
            ps = list(net.parameters())
            opt, shadow = make_optimizer(ps), [p.detach().clone() for p in ps]
            untimed = 10 if device.type == "cuda" else 2  # allocator, cuDNN and kernel warm-up
            timed, t0 = 0, None
            for i in range(untimed + 100):
                train_step(net, ps, opt, shadow, args.seed + 12345, i, args.lr, (0, b))
                if i == untimed - 1:
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                    t0 = time.time()
                elif i >= untimed:
                    timed += 1
                    if time.time() - t0 > 0.05 * args.time_budget:
                        break
            if device.type == "cuda":
                torch.cuda.synchronize()
            sec_per_step = (time.time() - t0) / max(timed, 1)
            del net, ps, opt, shadow
            # Slack: on the H200 the same loop ran 10-25% slower than this estimate (run-to-run noise);
            # across ranks the all-reduce adds to it.
            left = args.time_budget - (time.time() - t_start) - max(15.0, 0.03 * args.time_budget)
            fit = int(left / (sec_per_step * (1.25 if world == 1 else 1.5)))
            if fit < cycles[-1]:
                scale = fit / cycles[-1]
                scaled = []
                for c in cycles:
                    scaled.append(max(int(c * scale), (scaled[-1] + 1) if scaled else 1))
                log(f"time budget {args.time_budget:.0f} s at {1 / sec_per_step:.1f} steps/s ({timed} timed steps): "
                    f"{cycles[-1]} steps do not fit, scaling cycles by {scale:.4f}: {cycles} -> {scaled}")
                plan = [scaled, min(args.warmup, scaled[0])]
            else:
                log(f"time budget {args.time_budget:.0f} s at {1 / sec_per_step:.1f} steps/s: cycles {cycles} fit "
                    f"(about {cycles[-1] * sec_per_step:.0f} s)")
        if world > 1:
            dist.broadcast_object_list(plan, src=0)
        cycles, warmup = plan

    optimizer = make_optimizer(params)
    shadow = [p.detach().clone() for p in params]  # EMA starts at the initial weights
    done_before = 0
    history = np.zeros((0, 2), dtype=np.float32)  # (loss, lr) of every finished step
    run = {"format": "t2v-twin-train/1", "config": config_json, "seed": args.seed, "global_batch": global_batch,
           "lr": args.lr, "warmup": warmup, "prediction": prediction, "clips": n_clips, **levers}
    if state is not None:
        check_resumed_run({**LEVERS_OF_OLDER_CHECKPOINTS, **state["run"]}, run, world, ckpt_path)
        old = state["cycles"]
        if cycles[:len(old)] != old and cycles != old[:len(cycles)]:
            raise SystemExit(f"{ckpt_path}: the checkpoint's cycles are {old}; --cycles may only add cycles after them")
        if state["step"] > cycles[-1]:
            raise SystemExit(f"{ckpt_path}: the checkpoint is at step {state['step']}, beyond --cycles' end {cycles[-1]}")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        shadow = [t.to(device) for t in state["shadow"]]
        done_before = int(state["step"])
        history = np.asarray(state["history"], dtype=np.float32).reshape(-1, 2)
        del state
    net = joint_denoiser(model)
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel
        # A rank whose slice holds only images leaves the temporal blocks without gradients.
        images_only = slots > 0 and (world - 1) * b >= clip_slots
        # The only buffers are the fixed text whitening's, which DDP copies from rank 0 when it
        # wraps the model; nothing changes them afterwards, so no rebroadcast each step.
        net = DistributedDataParallel(net, device_ids=[local_rank] if device.type == "cuda" else None,
                                      find_unused_parameters=images_only, broadcast_buffers=False)

    trainer_tag = (f"python/t2v_twin/train.py (torch {torch.__version__}, {device.type} x {world}, {precision}, "
                   f"seed {args.seed})")
    version = meta.get("generator_version", "0.1.0").split()[-1]
    n_params = sum(p.numel() for p in params)
    total = cycles[-1]
    log0(f"train: {n_clips} clips, {n_params} parameters, {world} process(es) on {device.type}, {precision}, "
         f"cycles {cycles}, warmup {warmup}, batch {b} x {world} = {global_batch}, peak lr {args.lr}, "
         f"seed {args.seed}, image fraction {levers['image_fraction']:g} ({slots} of {global_batch} slots as "
         f"{frames} frames each), condition dropout {dropout:g}, loss weighting "
         f"{'uniform' if levers['min_snr_gamma'] is None else 'min-SNR gamma %g' % levers['min_snr_gamma']}, "
         f"text noise {text_noise:g}, motion loss {motion:g}, text whitening {whitening_note}, "
         f"from step {done_before}, config {config_json}")

    # Signals: finish the step, write the checkpoint, exit 128 + signal. Every rank stops at the
    # same step: the flags are all-reduced each step (with the time-budget flag).
    caught = install_stop_signals()

    loss_path = os.path.join(args.out, "teacher.loss.csv")
    losslog = LossLog(loss_path, history, total, device, world, main_rank)
    flush = losslog.flush
    last_print, t_last = done_before, time.time()
    saved = done_before if args.resume else None
    t_train = time.time()
    part = (rank * b, (rank + 1) * b)

    def checkpoint(done: int) -> None:
        nonlocal saved
        flush(done)
        if main_rank:
            atomic_torch_save({"format": run["format"], "run": run, "cycles": cycles, "step": done,
                               "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                               "shadow": [t.detach().cpu() for t in shadow], "history": losslog.history}, ckpt_path)
        saved = done

    def export(done: int, path: str) -> None:
        if main_rank:
            export_weights(model, path, names, shadow, done, version, trainer_tag)

    step = done_before
    try:
        for step in range(done_before, total):
            flags = stop_flags(world, bool(caught),
                               bool(args.time_budget) and time.time() - t_start > args.time_budget - 10)
            if flags[0]:
                checkpoint(step)
                raise Stop(signal_status(caught))
            if flags[1]:
                # Safety net only (the cycles were sized to fit): the schedule is cut short.
                checkpoint(step)
                path = os.path.join(args.out, f"teacher-{step}.safetensors")
                export(step, path)
                log0(f"WARNING: time budget reached at step {step} of {total}: the cosine did not finish; "
                     f"exported the EMA weights so far to {path}")
                return 1
            lr = cycle_lr(step, args.lr, warmup, cycles)
            losslog.record(step, train_step(net, params, optimizer, shadow, args.seed, step, lr, part), lr)
            done = step + 1
            if done % args.print_every == 0 or done == total:
                flush(done)
                now = time.time()
                history = losslog.history
                recent = float(history[last_print - len(history):, 0].mean()) if done > last_print else float("nan")
                log0(f"step {done}/{total} loss {float(history[-1, 0]):.4f} (mean {recent:.4f} since {last_print}) "
                     f"lr {lr:.4e} {(done - last_print) / (now - t_last):.2f} steps/s")
                last_print, t_last = done, now
            exporting = done in cycles or (args.export_every and done % args.export_every == 0)
            if exporting or done % args.checkpoint_every == 0 or done == total:
                checkpoint(done)
            if exporting:
                path = os.path.join(args.out, f"teacher-{done}.safetensors")
                export(done, path)
                log0(f"exported EMA weights at step {done}: {path}")
    except Stop as stop:
        log0(f"stopped by signal at step {step}: checkpoint {ckpt_path}; run the same command with --resume to go on")
        return stop.status
    except (RuntimeError, OSError) as e:
        if world == 1:
            raise
        report_rank_failure(rank, world, step, saved, ckpt_path, e)
        return 1
    finally:
        close_process_group(world)
    log0(f"done: {total - done_before} steps in {time.time() - t_train:.1f} s "
         f"({(total - done_before) / max(time.time() - t_train, 1e-9):.2f} steps/s), {time.time() - t_start:.1f} s in all; "
         f"loss log {loss_path}, checkpoint {ckpt_path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="clips + Swift caption embeddings into one .npz (runs on the CPU)")
    p.add_argument("dataset")
    p.add_argument("out")
    p.add_argument("--binary", default=".build/release/t2v-render")
    p.add_argument("--text-model", help="passed to `t2v-render embed --text-model`")
    p.add_argument("--config", default="default", help="stored in the pack; train's --config overrides it")
    p.add_argument("--lazy", action="store_true", help="index the dataset's shards instead of copying the clips: "
                   "train reads them memory-mapped (for datasets larger than memory)")
    p.set_defaults(func=cmd_pack)
    t = sub.add_parser("train", help="the Swift recipe, cycle after cycle, exporting EMA weights")
    t.add_argument("pack")
    t.add_argument("--config", help="preset (tiny, default) or DenoiserConfig JSON; default: the pack's")
    t.add_argument("--cycles", default="2000", help="ends of the cosine cycles (the first is `train --steps`, "
                   "each later one `train --resume --extend --steps`)")
    t.add_argument("--batch", type=int, default=4, help="clips per step and process (global batch = this x world size)")
    t.add_argument("--lr", type=float, default=2e-4, help="peak learning rate")
    t.add_argument("--warmup", type=int, default=100)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--no-temporal", action="store_true", help="train without the temporal stream (the ablation)")
    t.add_argument("--image-fraction", type=float, help="joint image-video training: the share of each global "
                   "batch's clip slots filled with independent frames (each with its own noise level and caption, "
                   f"temporal stream skipped); 0 = off (default: {DEFAULT_IMAGE_FRACTION} for a new run, 0 with "
                   "--no-temporal; a --resume keeps the checkpoint's)")
    t.add_argument("--condition-dropout", type=float, help="the share of clips and images trained on the empty "
                   f"prompt (zeros), for classifier-free guidance (default: {CONDITION_DROPOUT}; a --resume keeps "
                   "the checkpoint's)")
    t.add_argument("--text-noise", type=float, help="text-conditioning augmentation: train on each caption's "
                   "embedding plus Gaussian noise of norm up to this (relative to the embedding's), rescaled; "
                   "0 = off (default: 0; a --resume keeps the checkpoint's)")
    t.add_argument("--high-noise-fraction", type=float, help="share of clips and images trained at the schedule's "
                   "noisiest timesteps (from --high-noise-from of it on) instead of uniformly; 0 = off (default: 0; "
                   "a --resume keeps the checkpoint's)")
    t.add_argument("--high-noise-from", type=float, help="where the noisiest band starts, as a fraction of the "
                   "schedule's steps (default: 0.9)")
    t.add_argument("--motion-loss", type=float, help="weight of a frame-difference term beside each clip's "
                   "plain loss: the mean squared change of the error from one frame to the next, which falls on "
                   "moving objects; 0 = off (default: 0; a --resume keeps the checkpoint's)")
    t.add_argument("--min-snr-gamma", type=float, help="Min-SNR-gamma loss weighting (Hang et al. 2023; 5 is their "
                   "choice) instead of the uniform weighting of the target (a --resume keeps the checkpoint's)")
    t.add_argument("--out", required=True, help="folder for teacher-STEP.safetensors and teacher.loss.csv")
    t.add_argument("--time-budget", type=float, help="seconds; scales all cycle ends down to fit")
    t.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    t.add_argument("--export-every", type=int, default=0)
    t.add_argument("--print-every", type=int, default=200)
    t.add_argument("--threads", type=int, default=1, help="CPU threads per process when training on the CPU")
    t.add_argument("--dataset", help="the `extract` folder of a --lazy pack (default: the one it was made from)")
    t.add_argument("--checkpoint", help="checkpoint file (default: OUT/train.ckpt.pt), written by rank 0")
    t.add_argument("--checkpoint-every", type=int, default=100)
    t.add_argument("--resume", action="store_true", help="continue from --checkpoint (at any number of "
                   "processes whose per-rank batches add up to the checkpoint's global batch)")
    t.add_argument("--precision", choices=["fp32", "bf16"],
                   help="bf16 autocast (fp32 master weights) or fp32; default bf16 on CUDA, fp32 on the CPU")
    t.add_argument("--timeout", type=float, default=600, help="seconds a collective may wait for another rank")
    t.set_defaults(func=cmd_train)
    from t2v_twin.autoencoder_train import add_parser as add_train_autoencoder
    add_train_autoencoder(sub)
    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
