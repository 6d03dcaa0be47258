"""`t2v-render train` in PyTorch: the Swift trainer's recipe on a GPU, exporting Swift weights.

    # here (CPU): clips as uint8 + each caption's embedding from the Swift text encoder
    python3 python/t2v_twin/train.py pack work/lr1e-3/dataset /tmp/twin/pack.npz \
        --binary .build/release/t2v-render [--config samples/default-model.json]

    # on the GPU machine: the shipped teacher's chain (train --steps 1000, then
    # train --resume --extend --steps 5000), with an optional wall-clock budget
    python3 python/t2v_twin/train.py train pack.npz --config samples/default-model.json \
        --cycles 1000,5000 --batch 4 --lr 1e-3 --warmup 50 --seed 1 --out DIR \
        [--time-budget SECONDS] [--device cuda] [--export-every N]

    # back here: DIR/teacher-STEP.safetensors work like Swift's own exports
    .build/release/t2v-render render --model DIR/teacher-5000.safetensors -p "a red ball" -o x.mp4

The recipe (Sources/Generator/Training: Trainer.swift, TrainingConfig.swift, Optimizers/):
- each step draws `batch` clip indices uniformly WITH replacement (no epochs, no shuffling, no
  augmentation); per clip, the caption embedding is replaced by zeros with probability 0.1
  (the unconditional embedding is the zero vector, as is an empty caption's), and a timestep is
  drawn uniformly from 0..<trainSteps; the noise is N(0, I);
- x_t = alpha_t x0 + sigma_t eps with alpha = sqrt(abar), sigma = sqrt(1 - abar) (the config's
  schedule, squaredcos_cap_v2 over 1000 steps by default); the target is the config's
  prediction type (v = alpha eps - sigma x0 by default); loss = mean over the batch of each
  clip's MSE (uniform weighting);
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
  +-1/sqrt(fan_in)), norms 1/0, temporal gates 0 (twin's model.py).
Randomness is torch's (seeded by --seed), not Swift's Philox stream: same recipe, other draws.
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

# TrainingConfig.swift defaults that `t2v-render train` does not expose as flags.
WEIGHT_DECAY = 0.01
GRADIENT_CLIP = 1.0
EMA_DECAY = np.float32(0.999)
CONDITION_DROPOUT = 0.1
MINIMUM_LR = 0.0
ADAM_BETAS = (0.9, 0.999)
ADAM_EPS = 1e-8

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
# Noise schedule (BetaSchedule.swift, NoiseSchedule.swift), in float64 like Swift.

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
# pack

def read_safetensors_header(path: str) -> tuple[dict, int]:
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        return json.loads(f.read(n)), 8 + n


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
                                 offset=start, shape=tuple(info["shape"]))
    # Manifest order, packed [N, T, H, W, 3] bytes: the loader's values are byte / 127.5 - 1.
    clips = np.stack([np.asarray(shards[r["shard"]][r["index"]]) for r in records])

    # Each distinct caption once, by the Swift encoder (TrainingData.swift); "" -> zeros.
    captions = sorted({r["caption"] for r in records})
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
    caption_index = np.array([captions.index(r["caption"]) for r in records], dtype=np.int32)
    version = subprocess.run([args.binary, "--version"], capture_output=True, text=True).stdout.strip()

    cfg = load_config(args.config)
    cfg.update(frames=t, resolution=h)
    meta = {"dataset": os.path.abspath(args.dataset), "clips": len(records), "captions": len(captions),
            "text_model": text_model, "generator_version": version or "0.1.0",
            "unconditional": "zeros", "config_source": args.config}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)) or ".", exist_ok=True)
    np.savez_compressed(args.out, clips=clips, caption_index=caption_index, embeddings=embeddings,
                        captions=np.array(captions), config_json=np.array(json.dumps(cfg)),
                        meta_json=np.array(json.dumps(meta)))
    log(f"packed {len(records)} clips {list(clips.shape)} uint8, {len(captions)} captions x {dim} "
        f"({text_model}), Swift {version}: {args.out} ({os.path.getsize(args.out) / 1e6:.1f} MB)")
    return 0


# ---------------------------------------------------------------------------------------------
# train

def export_weights(model, path: str, names: list[str], tensors, step: int, version: str, trainer: str) -> None:
    """`Trainer.exportModel`: the EMA weights as F32, metadata as Swift writes it (config JSON,
    generator version, step, "ema"), plus `t2v.trainer` naming this script."""
    from t2v_twin import save_denoiser
    meta = {"t2v.generator_version": version, "t2v.step": str(step), "t2v.weights": "ema", "t2v.trainer": trainer}
    save_denoiser(model, path, meta, state=dict(zip(names, tensors)))


def cmd_train(args) -> int:
    t_start = time.time()
    import torch

    from t2v_twin import DenoiserConfig, VideoDenoiser

    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cpu":
        torch.set_num_threads(args.threads)
    torch.backends.cuda.matmul.allow_tf32 = True  # TF32 matmuls and convolutions; no bf16
    torch.backends.cudnn.allow_tf32 = True
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    torch.use_deterministic_algorithms(True, warn_only=True)
    # Memory-efficient (and cuDNN) attention backward is not deterministic: flash for the
    # unmasked spatial attention, math for the temporal one (its bias is an attn_mask).
    torch.backends.cuda.enable_mem_efficient_sdp(False)
    torch.backends.cuda.enable_cudnn_sdp(False)

    pack = np.load(args.pack)
    meta = json.loads(str(pack["meta_json"]))
    cfg = load_config(args.config) if args.config else json.loads(str(pack["config_json"]))
    clips_np = pack["clips"]
    n_clips, frames, height, width, _ = clips_np.shape
    if height != width:
        raise SystemExit(f"clips are {width}x{height}; the model needs square clips")
    cfg.update(frames=int(frames), resolution=int(height), maxFrameDistance=max(int(cfg["maxFrameDistance"]), 1))
    if args.no_temporal:
        cfg["temporal"] = False
    config = DenoiserConfig.from_json(json.dumps(cfg))
    config_json = config.to_json()  # Swift's form: sorted keys, no spaces
    prediction = cfg["predictionType"]
    if prediction not in ("v_prediction", "epsilon", "sample"):
        raise SystemExit(f"unknown prediction type {prediction!r}")

    cycles = [int(c) for c in args.cycles.split(",")]
    if any(b <= a for a, b in zip(cycles, cycles[1:])) or cycles[0] < 1:
        raise SystemExit("--cycles must be increasing positive step counts, e.g. 1000,5000")
    warmup = min(args.warmup, cycles[0])  # Swift: tc.warmupSteps = min(warmup, steps)

    # The model, initialised on the CPU from --seed (the same weights on any device).
    torch.manual_seed(args.seed)
    model = VideoDenoiser(config).to(device)
    model.train()
    names = [n for n, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]
    no_decay = [n.endswith("bias") or "norm" in n for n in names]  # AdamW(namedParameters:)

    # Data on the device: uint8 clips, one embedding row per clip.
    clips = torch.from_numpy(clips_np).to(device)
    emb = torch.from_numpy(pack["embeddings"][pack["caption_index"]]).to(device)
    if emb.shape[1] != cfg["textDim"]:
        raise SystemExit(f"embeddings have {emb.shape[1]} values, the config's textDim is {cfg['textDim']}")
    abar = alphas_cumprod(cfg["schedule"])
    train_steps = len(abar)
    alpha_t = torch.tensor(np.sqrt(abar).astype(np.float32), device=device)  # Float(alpha(t))
    sigma_t = torch.tensor(np.sqrt(1 - abar).astype(np.float32), device=device)

    def make_optimizer(ps):
        groups = [{"params": [p for p, nd in zip(ps, no_decay) if not nd], "weight_decay": WEIGHT_DECAY},
                  {"params": [p for p, nd in zip(ps, no_decay) if nd], "weight_decay": 0.0}]
        kw = {"fused": True} if device.type == "cuda" else {"foreach": True}
        return torch.optim.AdamW(groups, lr=args.lr, betas=ADAM_BETAS, eps=ADAM_EPS, **kw)

    def train_step(net, ps, opt, shadow, gen, step, lr):
        """One `Trainer.trainStep`; returns the loss as a device tensor (no host sync)."""
        b = args.batch
        idx = torch.randint(n_clips, (b,), generator=gen, device=device)
        drop = torch.rand(b, generator=gen, device=device) < CONDITION_DROPOUT
        t = torch.randint(train_steps, (b,), generator=gen, device=device)
        x0 = clips[idx].permute(0, 1, 4, 2, 3).float() / 127.5 - 1  # [B, T, 3, H, W]
        noise = torch.randn(x0.shape, generator=gen, device=device)
        text = torch.where(drop[:, None], torch.zeros_like(emb[idx]), emb[idx])
        a, s = alpha_t[t].view(b, 1, 1, 1, 1), sigma_t[t].view(b, 1, 1, 1, 1)
        xt = a * x0 + s * noise
        target = {"v_prediction": -s * x0 + a * noise, "epsilon": noise, "sample": x0}[prediction]
        pred = net(xt, t, text)
        loss = (pred - target).square().reshape(b, -1).mean(dim=1).mean()  # uniform weights
        loss.backward()
        torch.nn.utils.clip_grad_norm_(ps, GRADIENT_CLIP, foreach=True)
        for g in opt.param_groups:
            g["lr"] = float(lr)
        opt.step()
        opt.zero_grad(set_to_none=False)
        d = min(EMA_DECAY, np.float32(1 + step) / np.float32(10 + step))  # float32, as Swift
        with torch.no_grad():
            torch._foreach_mul_(shadow, float(d))
            torch._foreach_add_(shadow, [p.detach() for p in ps], alpha=float(np.float32(1) - d))
        return loss.detach()

    # --time-budget: time the step on a throwaway copy (its own optimizer, EMA and random stream,
    # so the run itself is the same with or without a budget), then fix the cycle ends before
    # step 0, so the warm-up and every cosine are the real, fully decayed ones.
    if args.time_budget:
        net = copy.deepcopy(model)
        ps = list(net.parameters())
        opt, shadow = make_optimizer(ps), [p.detach().clone() for p in ps]
        gen = torch.Generator(device=device).manual_seed(args.seed + 12345)
        untimed = 10 if device.type == "cuda" else 2  # allocator, cuDNN and kernel warm-up
        timed, t0 = 0, None
        for i in range(untimed + 100):
            train_step(net, ps, opt, shadow, gen, i, args.lr)
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
        # Slack: on the H200 the same loop ran 10-25% slower than this estimate (run-to-run noise).
        left = args.time_budget - (time.time() - t_start) - max(15.0, 0.03 * args.time_budget)
        fit = int(left / (sec_per_step * 1.25))
        if fit < cycles[-1]:
            scale = fit / cycles[-1]
            scaled = []
            for c in cycles:
                scaled.append(max(int(c * scale), (scaled[-1] + 1) if scaled else 1))
            log(f"time budget {args.time_budget:.0f} s at {1 / sec_per_step:.1f} steps/s ({timed} timed steps): "
                f"{cycles[-1]} steps do not fit, scaling cycles by {scale:.4f}: {cycles} -> {scaled}")
            cycles = scaled
            warmup = min(args.warmup, cycles[0])
        else:
            log(f"time budget {args.time_budget:.0f} s at {1 / sec_per_step:.1f} steps/s: cycles {cycles} fit "
                f"(about {cycles[-1] * sec_per_step:.0f} s)")

    optimizer = make_optimizer(params)
    shadow = [p.detach().clone() for p in params]  # EMA starts at the initial weights
    gen = torch.Generator(device=device).manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    loss_path = os.path.join(args.out, "teacher.loss.csv")
    with open(loss_path, "w") as f:
        f.write("step,loss,lr\n")
    trainer_tag = f"python/t2v_twin/train.py (torch {torch.__version__}, {device.type}, seed {args.seed})"
    version = meta.get("generator_version", "0.1.0").split()[-1]
    n_params = sum(p.numel() for p in params)
    log(f"train: {n_clips} clips, {n_params} parameters, device {device}, cycles {cycles}, warmup {warmup}, "
        f"batch {args.batch}, peak lr {args.lr}, seed {args.seed}, config {config_json}")

    total = cycles[-1]
    losses = torch.zeros(total, device=device)
    lrs = np.zeros(total, dtype=np.float32)
    logged, last_print, t_last = 0, 0, time.time()
    t_train = time.time()

    def flush(upto: int) -> None:
        nonlocal logged
        if upto <= logged:
            return
        values = losses[logged:upto].cpu().numpy()
        with open(loss_path, "a") as f:
            for k, (l, r) in enumerate(zip(values, lrs[logged:upto])):
                f.write(f"{logged + k + 1},{str(np.float32(l))},{str(np.float32(r))}\n")
        logged = upto

    for step in range(total):
        if args.time_budget and time.time() - t_start > args.time_budget - 10:
            # Safety net only (the cycles were sized to fit): the schedule is cut short.
            flush(step)
            path = os.path.join(args.out, f"teacher-{step}.safetensors")
            export_weights(model, path, names, shadow, step, version, trainer_tag)
            log(f"WARNING: time budget reached at step {step} of {total}: the cosine did not finish; "
                f"exported the EMA weights so far to {path}")
            return 1
        lr = cycle_lr(step, args.lr, warmup, cycles)
        lrs[step] = lr
        losses[step] = train_step(model, params, optimizer, shadow, gen, step, lr)
        done = step + 1
        if done % args.print_every == 0 or done == total:
            flush(done)
            now = time.time()
            recent = losses[last_print:done].mean().item()
            log(f"step {done}/{total} loss {float(losses[done - 1]):.4f} (mean {recent:.4f} since {last_print}) "
                f"lr {lr:.4e} {(done - last_print) / (now - t_last):.2f} steps/s")
            last_print, t_last = done, now
        if done in cycles or (args.export_every and done % args.export_every == 0):
            flush(done)
            path = os.path.join(args.out, f"teacher-{done}.safetensors")
            export_weights(model, path, names, shadow, done, version, trainer_tag)
            log(f"exported EMA weights at step {done}: {path}")
    flush(total)
    log(f"done: {total} steps in {time.time() - t_train:.1f} s ({total / (time.time() - t_train):.2f} steps/s), "
        f"{time.time() - t_start:.1f} s in all; loss log {loss_path}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="clips + Swift caption embeddings into one .npz (runs on the CPU)")
    p.add_argument("dataset")
    p.add_argument("out")
    p.add_argument("--binary", default=".build/release/t2v-render")
    p.add_argument("--text-model", help="passed to `t2v-render embed --text-model`")
    p.add_argument("--config", default="default", help="stored in the pack; train's --config overrides it")
    p.set_defaults(func=cmd_pack)
    t = sub.add_parser("train", help="the Swift recipe, cycle after cycle, exporting EMA weights")
    t.add_argument("pack")
    t.add_argument("--config", help="preset (tiny, default) or DenoiserConfig JSON; default: the pack's")
    t.add_argument("--cycles", default="2000", help="ends of the cosine cycles (the first is `train --steps`, "
                   "each later one `train --resume --extend --steps`)")
    t.add_argument("--batch", type=int, default=4)
    t.add_argument("--lr", type=float, default=2e-4, help="peak learning rate")
    t.add_argument("--warmup", type=int, default=100)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--no-temporal", action="store_true")
    t.add_argument("--out", required=True, help="folder for teacher-STEP.safetensors and teacher.loss.csv")
    t.add_argument("--time-budget", type=float, help="seconds; scales all cycle ends down to fit")
    t.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    t.add_argument("--export-every", type=int, default=0)
    t.add_argument("--print-every", type=int, default=200)
    t.add_argument("--threads", type=int, default=1, help="CPU threads when training on the CPU")
    t.set_defaults(func=cmd_train)
    args = ap.parse_args()
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
