"""`t2v-render train-autoencoder` in PyTorch: the Swift autoencoder trainer's recipe, one process
or many under torchrun (DistributedDataParallel), exporting the file `encode-latents
--autoencoder`, `train --autoencoder` and `eval-autoencoder` read. A subcommand of train.py:

    # one process (GPU when there is one)
    python3 python/t2v_twin/train.py train-autoencoder --data DATASET -o ae.safetensors \
        [--config tiny|default|AE.json] [--channels 32,64,128] [--latent-channels 4] \
        [--steps 5000] [--batch 8] [--crop 64] [--lr 5e-4] [--warmup 100] [--seed 0] \
        [--checkpoint-every 500] [--precision bf16|fp32] [--device cuda|cpu]

    # many: --batch per process (global batch = batch x world size)
    torchrun --nproc_per_node 8 python/t2v_twin/train.py train-autoencoder --data DATASET \
        -o ae.safetensors --batch 1 ... [--resume]

    # back in Swift
    t2v-render encode-latents DATASET --autoencoder ae.safetensors -o latents/

DATASET is the folder `t2v-render extract` wrote (manifest.jsonl, shard-*.safetensors of U8
[n, T, H, W, 3]); every rank memory-maps the shards and reads only the crops it trains on. Rank 0
writes the checkpoint (--checkpoint, default OUTPUT with .ckpt.pt: raw weights, AdamW moments, EMA,
step, loss history) atomically every --checkpoint-every steps, at the end and on SIGINT/SIGTERM
(exit 130/143), the loss log (--log, default OUTPUT with .loss.csv: step,loss,lr) and -o.
--resume continues at any world size whose per-rank batches add up to the checkpoint's global
batch; --stop-at N ends a run early at step N with a checkpoint and no export (split a run into
jobs), --extend makes a larger --steps the resumed run's new end (as Swift's).

The recipe (Sources/Generator/Autoencoder: AutoencoderTrainer.swift, AutoencoderLoss.swift,
AutoencoderTrainingConfig.swift; Sources/t2v-render/TrainAutoencoder.swift):
- each step takes `batch` crops: per crop a clip uniformly from the dataset (with replacement), a
  frame uniformly from the clip, a --crop x --crop window at a uniform position (top, then left);
  pixels byte / 127.5 - 1; --crop defaults to 64, or the frames' side cut to a multiple of the
  downsampling factor f when smaller, and must be a multiple of f no larger than the frames;
- encode to the posterior N(mean, exp(logvar)) (logvar clamped to [-30, 20]), decode one
  reparameterised draw mean + exp(logvar / 2) eps, eps ~ N(0, I);
- loss = mean|x^ - x| + 1 x (mean|dx x^ - dx x| + mean|dy x^ - dy x|) (forward differences along
  width, then height) + 1e-6 x KL / P, KL = 1/2 sum(mean^2 + exp(logvar) - 1 - logvar) over every
  latent value, P the number of pixel values of the batch;
- global gradient-norm clip 1.0; AdamW (0.9, 0.999), eps 1e-8, weight decay 0.01 except on names
  ending in "bias" or containing "norm"; lr of 0-based step s: peak (s+1)/warmup during warm-up,
  then the cosine to 0 at --steps (float32, as Swift; warmup = min(--warmup, --steps));
- EMA of the weights from the initial ones, decay min(0.999, (1+s)/(10+s)); -o holds the EMA;
- at the end the latent scale factor, 1 / (sample std of the encoder means) of the EMA weights
  over 256 whole frames (cut to multiples of f) of random clips, accumulated in float64, goes to
  the file's `t2v.latent_scale`, the config JSON to `t2v.autoencoder_config`, with
  `t2v.generator_version`, `t2v.step`, `t2v.weights` = "ema" as Swift writes them, and
  `t2v.trainer` naming this script;
- initial weights: PyTorch's default Conv2d init, which is Swift's (uniform +-1/sqrt(fan_in) for
  weights and biases), GroupNorm 1/0.
Randomness is torch's, not Swift's Philox stream: same distributions, other draws, so a Swift run
and a twin run with the same --seed start from other weights and see other crops (not
bit-matched). Crop number n of the run (step x global batch + place in the batch) draws its clip,
frame, position and posterior noise from a stream keyed by (--seed, n) (t2v_twin/data.py), so
the crops do not depend on the number of processes; the scale's frames come from a stream keyed
by --seed alone. Rank r trains on places [r*b, (r+1)*b) of each global batch; DDP averages the
gradients, which makes the update the global batch's (each rank's loss is a mean over the same
number of values). The checkpoint is a torch file, not Swift's: Swift's `--resume` cannot read
it, nor this one Swift's.
"""
from __future__ import annotations

import math
import os
import re
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from t2v_twin.train import (GRADIENT_CLIP, LossLog, Stop, atomic_torch_save, check_resumed_run,  # noqa: E402
                            close_process_group, ema_update, install_stop_signals, log, make_adamw,
                            no_weight_decay, report_rank_failure, setup_runtime, signal_status, stop_flags,
                            warmup_cosine)

# AutoencoderTrainingConfig.swift defaults that `t2v-render train-autoencoder` does not expose.
GRADIENT_WEIGHT = 1.0  # lambda
KL_WEIGHT = 1e-6  # beta
DEFAULT_CROP = 64
SCALE_FRAMES = 256  # TrainAutoencoder.scaleFrames
SCALE_BATCH = 16  # frames encoded at a time when measuring the scale
CHECKPOINT_FORMAT = "t2v-twin-train-autoencoder/1"
HERE = os.path.dirname(os.path.abspath(__file__))


def generator_version() -> str:
    """`GeneratorInfo.version` from this checkout's Swift source (Swift stores it in every file it
    writes); 0.1.0 when the source is not beside this script."""
    path = os.path.join(HERE, "..", "..", "Sources", "Generator", "Generator.swift")
    try:
        with open(path) as f:
            found = re.search(r'static let version = "([^"]+)"', f.read())
        return found.group(1) if found else "0.1.0"
    except OSError:
        return "0.1.0"


def sibling(output: str, suffix: str) -> str:
    """TrainingRunOptions.sibling: `dir/model.safetensors` -> `dir/model.<suffix>`."""
    folder, name = os.path.split(output)
    stem = name.rsplit(".", 1)[0] if "." in name[1:] else name
    return os.path.join(folder, f"{stem}.{suffix}")


def parse_channels(text: str):
    """TrainAutoencoder.parseChannels: positive decimal integers separated by commas."""
    parts = text.split(",")
    if not parts or not all(p.isdigit() and p.isascii() and int(p) > 0 for p in parts):
        return None
    return [int(p) for p in parts]


def validate_config(cfg) -> None:
    """Swift `AutoencoderConfig.validate`."""
    def fail(message: str):
        raise SystemExit(f"cannot set up training: {message}")
    if cfg.imageChannels != 3:
        fail(f"imageChannels is {cfg.imageChannels}; the autoencoder codes RGB frames (3)")
    if cfg.latentChannels not in (4, 8):
        fail(f"latentChannels is {cfg.latentChannels}; use 4 or 8")
    if not 1 <= len(cfg.channels) <= 6:
        fail(f"channels lists {len(cfg.channels)} levels; give 1 to 6 (3 levels downsample by 4)")
    if not all(isinstance(c, int) and 1 <= c <= 4096 for c in cfg.channels):
        fail(f"channels {cfg.channels} must be in 1...4096")
    if cfg.groups <= 0:
        fail("groups must be positive")
    for level, c in enumerate(cfg.channels):
        if c % cfg.groups:
            fail(f"level {level} has {c} channels, not divisible by {cfg.groups} groups")
    if not 1 <= cfg.resBlocks <= 8:
        fail(f"resBlocks is {cfg.resBlocks}; use 1 to 8")


def resolve_config(args):
    """--config (tiny, default or an AutoencoderConfig JSON file; fields it leaves out keep the
    defaults), then --channels and --latent-channels."""
    from t2v_twin.autoencoder import AutoencoderConfig
    text = args.config or "default"
    if text == "tiny":
        cfg = AutoencoderConfig.tiny()
    elif text == "default":
        cfg = AutoencoderConfig()
    else:
        try:
            with open(text) as f:
                cfg = AutoencoderConfig.from_json(f.read())
        except (OSError, ValueError, TypeError) as e:
            raise SystemExit(f"--config {text}: not an AutoencoderConfig JSON file ({e})")
    if args.channels:
        cfg.channels = parse_channels(args.channels)
    if args.latent_channels:
        cfg.latentChannels = args.latent_channels
    validate_config(cfg)
    return cfg


def autoencoder_loss(reconstruction, target, mean, logvar, gradient_weight: float = GRADIENT_WEIGHT,
                     kl_weight: float = KL_WEIGHT):
    """Swift `AutoencoderLoss.objective`: the differentiable objective and its parts (total, L1,
    image-gradient L1, KL / P) as one detached tensor, all in float32."""
    import torch
    reconstruction, mean, logvar = reconstruction.float(), mean.float(), logvar.float()
    l1 = (reconstruction - target).abs().mean()
    loss = l1
    gradient = None
    for axis in (3, 2):
        n = target.shape[axis]
        if n > 1:
            def diff(t):
                return t.narrow(axis, 1, n - 1) - t.narrow(axis, 0, n - 1)
            term = (diff(reconstruction) - diff(target).detach()).abs().mean()
            gradient = term if gradient is None else gradient + term
    if gradient is not None and gradient_weight != 0:
        loss = loss + gradient * gradient_weight
    kl = (mean.square() + logvar.exp() - logvar - 1).sum() * (0.5 / max(target.numel(), 1))
    if kl_weight != 0:
        loss = loss + kl * kl_weight
    zero = torch.zeros((), device=l1.device)
    parts = torch.stack([loss, l1, gradient if gradient is not None else zero, kl]).detach()
    return loss, parts


def training_forward(model):
    """The training pass as one module's forward (DistributedDataParallel reduces the gradients of
    what runs through its wrapper's forward): encode, a reparameterised draw with the given
    noise, decode."""
    import torch.nn as nn

    class TrainingForward(nn.Module):
        def __init__(self, ae):
            super().__init__()
            self.ae = ae

        def forward(self, frames, eps):
            mean, logvar = self.ae.encode(frames)
            z = self.ae.sample(mean, logvar, eps)  # scaleFactor is 1 while training
            return self.ae.decode(z), mean, logvar

    return TrainingForward(model)


def to_frames(torch, pixels: np.ndarray, device):
    """uint8 [N, H, W, 3] -> float32 [N, 3, H, W] in [-1, 1] (byte / 127.5 - 1, as Swift's loader),
    contiguous NCHW (a permuted view would run channels-last kernels)."""
    return (torch.from_numpy(pixels).to(device).permute(0, 3, 1, 2).float() / 127.5 - 1).contiguous()


def measure_scale(model, clips, seed: int, device, count: int = SCALE_FRAMES) -> float:
    """`AutoencoderTrainer.measureScaleFactor`: 1 / sample std of the posterior means of `count`
    whole frames (top-left, cut to multiples of f) of random clips, in float64, fp32 kernels."""
    import torch

    from t2v_twin.data import scale_draws
    frames, height, width, _ = clips.shape
    f = model.config.downsamplingFactor
    h, w = height // f * f, width // f * f
    if h == 0 or w == 0:
        raise SystemExit(f"frames of {width}x{height} are smaller than the downsampling factor {f}")
    pairs = scale_draws(torch, seed, max(count, 2), len(clips), frames)
    total = torch.zeros((), dtype=torch.float64)
    squares = torch.zeros((), dtype=torch.float64)
    n = 0
    tf32 = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        with torch.no_grad():
            for i in range(0, len(pairs), SCALE_BATCH):
                pixels = np.stack([clips.frame(c, fr, h, w) for c, fr in pairs[i:i + SCALE_BATCH]])
                mean = model.encode(to_frames(torch, pixels, device))[0].double().cpu()
                total += mean.sum()
                squares += mean.square().sum()
                n += mean.numel()
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = tf32
    if n <= 1:
        return 1.0
    variance = max(0.0, (float(squares) - float(total) ** 2 / n) / (n - 1))
    if not (variance > 0 and math.isfinite(variance)):
        return 1.0
    return float(np.float32(1 / math.sqrt(variance)))


def validate_args(args) -> None:
    """TrainAutoencoder.validate."""
    if args.steps < 1:
        raise SystemExit("--steps must be at least 1")
    if not 1 <= args.batch <= 1024:
        raise SystemExit("--batch must be in 1...1024")
    if not (args.lr > 0 and math.isfinite(args.lr)):
        raise SystemExit("--lr must be positive")
    if args.warmup < 0 or args.checkpoint_every < 1:
        raise SystemExit("--warmup must be >= 0 and --checkpoint-every >= 1")
    if args.extend and not args.resume:
        raise SystemExit("--extend only applies with --resume")
    if args.crop is not None and args.crop < 1:
        raise SystemExit("--crop must be positive")
    if args.latent_channels is not None and args.latent_channels not in (4, 8):
        raise SystemExit(f"--latent-channels must be 4 or 8, got {args.latent_channels}")
    if args.channels is not None and parse_channels(args.channels) is None:
        raise SystemExit(f"--channels must be positive integers separated by commas, e.g. 32,64,128; got '{args.channels}'")
    if args.stop_at is not None and args.stop_at < 1:
        raise SystemExit("--stop-at must be at least 1")


def cmd_train_autoencoder(args) -> int:
    t_start = time.time()
    validate_args(args)
    import torch

    from t2v_twin.autoencoder import AutoencoderConfig, VideoAutoencoder, save_autoencoder
    from t2v_twin.data import crop_draws, open_dataset

    output = args.output
    ckpt_path = args.checkpoint or sibling(output, "ckpt.pt")
    loss_path = args.log or sibling(output, "loss.csv")
    if args.resume and not os.path.isfile(ckpt_path):
        raise SystemExit(f"--resume: no checkpoint at {ckpt_path}; start without --resume")
    clips = open_dataset(args.data)
    frames, height, width, _ = clips.shape
    n_clips = len(clips)

    state = None
    if args.resume:
        state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
        if state.get("format") != CHECKPOINT_FORMAT:
            raise SystemExit(f"{ckpt_path}: not a checkpoint of this trainer (python/t2v_twin/train.py train-autoencoder)")
        saved_cfg = AutoencoderConfig.from_json(state["run"]["config"])
        # As Swift: the checkpoint's network, unless --config/--channels/--latent-channels say otherwise.
        config = resolve_config(args) if (args.config or args.channels or args.latent_channels) else saved_cfg
        crop = args.crop if args.crop is not None else state["run"]["crop"]
    else:
        config = resolve_config(args)
        f = config.downsamplingFactor
        crop = args.crop if args.crop is not None else min(DEFAULT_CROP, min(height, width) // f * f)
    f = config.downsamplingFactor
    if crop < 1 or crop % f:
        raise SystemExit(f"crop {crop} must be a positive multiple of the autoencoder's downsampling factor {f}")
    if crop > height or crop > width:
        raise SystemExit(f"{args.data}: crop {crop} is larger than the {width}x{height} frames; use a crop of at "
                         f"most {min(height, width) // f * f}")

    rt = setup_runtime(args)
    world, rank, main_rank, device, precision = rt.world, rt.rank, rt.main_rank, rt.device, rt.precision
    log0 = rt.log0
    b = args.batch
    global_batch = b * world
    run = {"format": CHECKPOINT_FORMAT, "config": config.to_json(), "seed": args.seed, "global_batch": global_batch,
           "crop": crop, "lr": args.lr, "gradient_weight": GRADIENT_WEIGHT, "kl_weight": KL_WEIGHT,
           "clips": n_clips, "clip_shape": [int(frames), int(height), int(width)]}

    # The model, initialised on the CPU from --seed (the same weights on any device and rank).
    torch.manual_seed(args.seed)
    model = VideoAutoencoder(config).to(device)
    model.train()
    names = [n for n, _ in model.named_parameters()]
    params = [p for _, p in model.named_parameters()]
    optimizer = make_adamw(params, [no_weight_decay(n) for n in names], args.lr, device)
    shadow = [p.detach().clone() for p in params]  # EMA starts at the initial weights
    done_before = 0
    total = args.steps
    warmup = min(args.warmup, args.steps)  # Swift: tc.warmupSteps = min(warmup, steps)
    history = np.zeros((0, 2), dtype=np.float32)
    end = total
    if state is not None:
        check_resumed_run(state["run"], run, world, ckpt_path)
        total, warmup = int(state["total"]), int(state["warmup"])
        if args.extend and args.steps > total:
            total = args.steps  # Swift `resume(from:extendingTo:)`: a warm restart of the cosine
        elif args.steps > total:
            log0(f"train-autoencoder: the checkpoint's run ends at step {total}; pass --extend to train on to "
                 f"{args.steps} (a warm restart of the cosine schedule)")
        end = min(args.steps, total)  # Swift trains max(0, min(steps, total) - step) more steps
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        shadow = [t.to(device) for t in state["shadow"]]
        done_before = int(state["step"])
        history = np.asarray(state["history"], dtype=np.float32).reshape(-1, 2)
        del state
        end = max(end, done_before)
    if args.stop_at is not None and args.stop_at <= done_before:
        raise SystemExit(f"--stop-at {args.stop_at}: the checkpoint is already at step {done_before}")
    stop_at = min(args.stop_at, end) if args.stop_at is not None else None
    for path in {ckpt_path, loss_path, output}:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)

    net = training_forward(model)
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel
        net = DistributedDataParallel(net, device_ids=[rt.local_rank] if device.type == "cuda" else None)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=precision == "bf16")
    latent_shape = (config.latentChannels, crop // f, crop // f)
    part = range(rank * b, (rank + 1) * b)

    def train_step(step: int, lr) -> "torch.Tensor":
        """One `AutoencoderTrainer.trainStep` on this rank's places of the global batch; returns the
        parts of its loss (a device tensor, no host sync)."""
        pixels, noise = [], []
        for p in part:
            clip, frame, top, left, eps = crop_draws(torch, args.seed, step * global_batch + p, n_clips, frames,
                                                     height, width, crop, latent_shape)
            pixels.append(clips.crop(clip, frame, top, left, crop))
            noise.append(eps)
        x = to_frames(torch, np.stack(pixels), device)
        eps = torch.stack(noise).to(device)
        with autocast:
            reconstruction, mean, logvar = net(x, eps)
        loss, parts = autoencoder_loss(reconstruction, x, mean, logvar)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, GRADIENT_CLIP, foreach=True)
        for g in optimizer.param_groups:
            g["lr"] = float(lr)
        optimizer.step()
        optimizer.zero_grad(set_to_none=False)
        ema_update(shadow, params, step)
        return parts

    n_params = sum(p.numel() for p in params)
    log0(f"train-autoencoder: {n_clips} clips of {frames}x{height}x{width} ({args.data}), {n_params} parameters, "
         f"{world} process(es) on {device.type}, {precision}, steps {total}, warmup {warmup}, "
         f"batch {b} x {world} = {global_batch} crops of {crop}x{crop}, peak lr {args.lr}, seed {args.seed}, "
         f"from step {done_before}, config {config.to_json()}")

    caught = install_stop_signals()
    losslog = LossLog(loss_path, history, max(end, done_before), device, world, main_rank)
    saved = done_before if args.resume else None
    last_parts = None
    last_print, t_last, t_train = done_before, time.time(), time.time()

    def checkpoint(done: int) -> None:
        nonlocal saved
        losslog.flush(done)
        if main_rank:
            atomic_torch_save({"format": CHECKPOINT_FORMAT, "run": run, "total": total, "warmup": warmup, "step": done,
                               "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                               "shadow": [t.detach().cpu() for t in shadow], "history": losslog.history}, ckpt_path)
        saved = done

    step = done_before
    try:
        for step in range(done_before, end):
            if stop_flags(world, bool(caught))[0]:
                checkpoint(step)
                raise Stop(signal_status(caught))
            lr = warmup_cosine(step, args.lr, warmup, total)
            last_parts = train_step(step, lr)
            losslog.record(step, last_parts[0], lr)
            done = step + 1
            if not args.quiet and (done % args.print_every == 0 or done == end):
                losslog.flush(done)
                now = time.time()
                history = losslog.history
                recent = float(history[last_print - len(history):, 0].mean()) if done > last_print else float("nan")
                log0(f"step {done}/{total} loss {float(history[-1, 0]):.4f} (mean {recent:.4f} since {last_print}; "
                     f"rank 0's L1 {float(last_parts[1]):.4f}) lr {lr:.4e} {(done - last_print) / (now - t_last):.2f} steps/s")
                last_print, t_last = done, now
            if done % args.checkpoint_every == 0 or done == end or done == stop_at:
                checkpoint(done)
            if done == stop_at and stop_at < end:
                log0(f"stopped at step {done} (--stop-at): checkpoint {ckpt_path}; run the same command with --resume "
                     f"(without --stop-at) to go on")
                return 0
    except Stop as stop:
        log0(f"interrupted at step {step}; checkpoint saved to {ckpt_path}. Run the same command with --resume to "
             f"continue; {output} is written when the run completes.")
        return stop.status
    except (RuntimeError, OSError) as e:
        if world == 1:
            raise
        report_rank_failure(rank, world, step, saved, ckpt_path, e)
        return 1
    finally:
        close_process_group(world)
    steps_run = end - done_before
    log0(f"trained {steps_run} steps in {time.time() - t_train:.1f} s "
         f"({steps_run / max(time.time() - t_train, 1e-9):.2f} steps/s)")
    if not main_rank:
        return 0

    # Rank 0: the EMA weights, their latent scale on the data, the file.
    ema = VideoAutoencoder(config).to(device)
    ema.load_state_dict(dict(zip(names, shadow)))
    ema.eval()
    scale = measure_scale(ema, clips, args.seed, device)
    ema.scaleFactor = scale
    trainer_tag = (f"python/t2v_twin/train.py train-autoencoder (torch {torch.__version__}, {device.type} x {world}, "
                   f"{precision}, seed {args.seed})")
    meta = {"t2v.generator_version": generator_version(), "t2v.step": str(end), "t2v.weights": "ema",
            "t2v.trainer": trainer_tag}
    try:
        save_autoencoder(ema, output, meta)
    except OSError as e:
        raise SystemExit(f"writing {output} failed: {e}. The trained state is in the checkpoint; run the same "
                         f"command with --resume to export again.")
    log(f"train-autoencoder: {end} steps done; EMA weights in {output} (latent scale {str(np.float32(scale))}), loss log "
        f"{loss_path}, checkpoint {ckpt_path}; {time.time() - t_start:.1f} s in all")
    return 0


def add_parser(sub) -> None:
    """The `train-autoencoder` subcommand of train.py."""
    t = sub.add_parser("train-autoencoder", help="the Swift autoencoder recipe (`t2v-render train-autoencoder`), "
                       "exporting the Swift autoencoder file")
    t.add_argument("--data", required=True, help="dataset directory (from `t2v-render extract`), read memory-mapped")
    t.add_argument("-o", "--output", required=True, help="the EMA weights with their latent scale (Swift layout)")
    t.add_argument("--config", help="tiny, default, or an AutoencoderConfig JSON file (default: default; on "
                   "--resume: the checkpoint's)")
    t.add_argument("--channels", help="channels of each level, comma-separated (overrides --config's)")
    t.add_argument("--latent-channels", type=int, help="4 or 8 (overrides --config's)")
    t.add_argument("--steps", type=int, default=5000, help="total optimisation steps of the run")
    t.add_argument("--batch", type=int, default=8, help="crops per step and process (global batch = this x world size)")
    t.add_argument("--crop", type=int, help="side of the square crops, a multiple of the downsampling factor "
                   "(default: 64, or the frame size when smaller)")
    t.add_argument("--lr", type=float, default=5e-4, help="peak learning rate (AdamW)")
    t.add_argument("--warmup", type=int, default=100, help="linear warm-up steps")
    t.add_argument("--seed", type=int, default=0, help="initial weights, crops, posterior noise, scale frames")
    t.add_argument("--checkpoint", help="checkpoint file (default: OUTPUT with .ckpt.pt), written by rank 0")
    t.add_argument("--checkpoint-every", type=int, default=500)
    t.add_argument("--log", help="loss log CSV step,loss,lr (default: OUTPUT with .loss.csv)")
    t.add_argument("--resume", action="store_true", help="continue from --checkpoint (at any number of processes "
                   "whose per-rank batches add up to the checkpoint's global batch)")
    t.add_argument("--extend", action="store_true", help="with --resume: make --steps the run's new end when it lies "
                   "beyond the checkpoint's (the cosine decay restarts over the longer run)")
    t.add_argument("--stop-at", type=int, help="stop after this step with a checkpoint and no export (the schedule "
                   "stays --steps'); continue with --resume")
    t.add_argument("--precision", choices=["fp32", "bf16"],
                   help="bf16 autocast (fp32 master weights and loss) or fp32; default bf16 on CUDA, fp32 on the CPU")
    t.add_argument("--device", help="cuda or cpu (default: cuda when available)")
    t.add_argument("--threads", type=int, default=1, help="CPU threads per process when training on the CPU")
    t.add_argument("--print-every", type=int, default=100)
    t.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    t.add_argument("--timeout", type=float, default=600, help="seconds a collective may wait for another rank")
    t.set_defaults(func=cmd_train_autoencoder)
