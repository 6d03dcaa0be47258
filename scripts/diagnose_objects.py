"""Where a trained denoiser loses small objects: per-family, per-timestep error, and its x0
prediction for one clip of a family at several noise levels.

    python3 scripts/diagnose_objects.py loss MODEL DATASET [--clips-per-family 8] [--seed 0]
        x0-space MSE of the conditional branch per family at t in T_GRID (the same noise draw
        for every model, seeded), and the error on the object pixels alone for the ball family
        (pixels that differ from the clip's median frame colour by more than 0.3).
    python3 scripts/diagnose_objects.py swap MODEL DATASET [--clips 8] [--seed 0]
        Colour binding in the prediction: each ball clip noised to t in T_GRID (one noise draw),
        its x0 predicted under its own caption with the colour word replaced by each of the four
        colours; the colour of x0-hat on the ball's pixels (nearest ball colour to its difference
        from the background) is compared with the caption's colour and the clip's own. At low t
        the input decides; where the text binds the colour, the caption's colour wins at high t.
    python3 scripts/diagnose_objects.py swap-direction MODEL DATASET [--clips 16] [--seed 0]
        Direction binding in the prediction, the same for the car: each car clip noised to t,
        x0 predicted under its caption with "left" and with "right"; the direction of travel of
        x0-hat's brightest pixels against the word's and the clip's own (t in T_GRID, 975, 999),
        and the word's effect: mean |x0-hat(left) - x0-hat(right)| over the prediction's mean
        deviation from its clip's mean frame.
    python3 scripts/diagnose_objects.py time-reversal MODEL [--seeds 4]
        Whether the network can prefer one direction of time at all: for pure-noise clips x and a
        car caption, max |f(reversed x) - reversed f(x)| relative to max |f(x)| at t = 950, 800,
        600 (0: the network is time-reversal equivariant, so for any prompt a clip and its
        reversal are equally likely and no word can choose "left" over "right"), with the
        temporal bias tables' asymmetry max |b[d] - b[-d]| and the largest bias gate.
    python3 scripts/diagnose_objects.py pure-noise MODEL DATASET [--t 999] [--draws 2] [--seed 0]
        What the caption alone makes of pure noise: at t = 999 (alpha-bar about 2e-9) the best x0
        prediction under a caption is the mean of the clips with that caption, so over a group of
        clips (one attribute value: a ball colour, a car direction; or one family) the mean of the
        model's x0-hat under their own captions should equal the group's mean clip. For every pair
        of groups: the model's difference |mean x0-hat(a) - mean x0-hat(b)| as a share of the
        data's |mean(a) - mean(b)| (1: the caption says all it can; 0: the caption is ignored), and
        the cosine between the two differences. Every clip gets the same noise draws (averaged),
        so only the captions tell the groups apart.
    python3 scripts/diagnose_objects.py x0 MODEL DATASET OUT.png [--family ball] [--index 0]
        For the family's clip: a row per t in T_GRID: x_t, then the model's x0 prediction
        (every other frame of 16).

Uses the PyTorch twin (python/t2v_twin), torch, safetensors, and `t2v-render embed` for the text
embeddings (release build; $T2V_RENDER overrides the binary).
"""
import argparse, json, math, os, sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from t2v_twin.model import load_denoiser  # noqa: E402

T_GRID = [50, 200, 400, 600, 700, 800, 900, 950]


def encoder():
    """The pooled MiniLM embeddings from `t2v-render embed --json` (the product's own encoder)."""
    import subprocess
    binary = os.environ.get("T2V_RENDER", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                       ".build", "release", "t2v-render"))

    def encode(texts):
        out = subprocess.run([binary, "embed", "--json", *texts], check=True, capture_output=True, text=True).stdout
        return torch.tensor([e["embedding"] for e in json.loads(out)["embeddings"]], dtype=torch.float32)
    return encode


def alphas_cumprod(meta):
    """The model's training schedule (cosine, optionally log-SNR shifted, or custom betas)."""
    cfg = json.loads(meta["t2v.denoiser_config"])
    sched = cfg.get("schedule", {"betaSchedule": {"cosine": {"maxBeta": 0.999}}, "trainSteps": 1000})
    steps = sched.get("trainSteps", 1000)
    kind = sched["betaSchedule"]
    if "custom" in kind:
        betas = np.array(kind["custom"]["betas"])
    else:
        key = "cosine" if "cosine" in kind else "shiftedCosine"
        params = kind[key]
        shift = params.get("logSNRShift", 0.0)
        f = lambda u: math.cos((u / steps + 0.008) / 1.008 * math.pi / 2) ** 2

        def abar(u):
            a = f(u) / f(0)
            if shift == 0 or a >= 1:
                return a
            return 1 / (1 + math.exp(-(math.log(a / (1 - a)) + shift))) if a > 0 else 0.0
        betas = np.array([min(1 - abar(i + 1) / abar(i), params["maxBeta"]) if shift else
                          min(1 - f(i + 1) / f(i), params["maxBeta"]) for i in range(steps)])
    return torch.tensor(np.cumprod(1 - betas), dtype=torch.float32)


def load(dataset):
    from safetensors.numpy import load_file
    manifest = [json.loads(l) for l in open(os.path.join(dataset, "manifest.jsonl"))]
    shards = {}
    clips = []
    for r in manifest:
        if r["shard"] not in shards:
            shards[r["shard"]] = load_file(os.path.join(dataset, r["shard"]))["clips"]
        clips.append(shards[r["shard"]][r["index"]])
    fam = [os.path.basename(r["source"]).rsplit("-", 1)[0] for r in manifest]
    return manifest, np.stack(clips), fam


def to_tensor(clips):
    return torch.tensor(clips).float().permute(0, 1, 4, 2, 3) / 127.5 - 1


def loss_table(args, model, meta):
    ab = alphas_cumprod(meta)
    manifest, clips, fam = load(args.dataset)
    enc = encoder()
    families = sorted(set(fam))
    gen = torch.Generator().manual_seed(args.seed)
    print("family".ljust(12) + "".join(f"t={t}".rjust(10) for t in T_GRID))
    rows = {}
    for f in families:
        idx = [i for i, x in enumerate(fam) if x == f][: args.clips_per_family]
        x0 = to_tensor(clips[idx])
        emb = enc([manifest[i]["caption"] for i in idx])
        errs, obj = [], []
        for t in T_GRID:
            a, s = ab[t].sqrt(), (1 - ab[t]).sqrt()
            noise = torch.randn(x0.shape, generator=gen)
            xt = a * x0 + s * noise
            with torch.no_grad():
                v = model(xt, torch.full((len(idx),), t), emb)
            xh = a * xt - s * v
            errs.append(((xh - x0) ** 2).mean().item())
            if f == "ball":
                med = x0.flatten(3).median(dim=3).values[..., None, None]
                mask = ((x0 - med).abs().amax(dim=2, keepdim=True) > 0.6).expand_as(x0)
                obj.append(((xh - x0) ** 2)[mask].mean().item())
        rows[f] = errs
        print(f.ljust(12) + "".join(f"{e:10.4f}" for e in errs))
        if obj:
            print("ball-object".ljust(12) + "".join(f"{e:10.4f}" for e in obj))


def x0_sheet(args, model, meta):
    ab = alphas_cumprod(meta)
    manifest, clips, fam = load(args.dataset)
    idx = [i for i, x in enumerate(fam) if x == args.family][args.index]
    x0 = to_tensor(clips[idx:idx + 1])
    emb = encoder()([manifest[idx]["caption"]])
    print("caption:", manifest[idx]["caption"])
    gen = torch.Generator().manual_seed(args.seed)
    rows = [torch.cat([x0[0, ::2], x0[0, ::2]], 0)]
    for t in T_GRID:
        a, s = ab[t].sqrt(), (1 - ab[t]).sqrt()
        xt = a * x0 + s * torch.randn(x0.shape, generator=gen)
        with torch.no_grad():
            v = model(xt, torch.full((1,), t), emb)
        xh = a * xt - s * v
        rows.append(torch.cat([xt[0, ::2], xh[0, ::2]], 0))
    img = torch.cat([torch.cat(list(r), dim=2) for r in rows], dim=1)
    img = ((img.clamp(-1, 1) + 1) * 127.5).byte().permute(1, 2, 0).numpy()
    Image.fromarray(img).resize((img.shape[1] * 3, img.shape[0] * 3), Image.NEAREST).save(args.out)
    print(f"wrote {args.out}: first row the clean clip twice, then per t in {T_GRID}: x_t (left 8) and x0-hat (right 8)")


COLOURS = {"red": (0.88, 0.10, 0.09), "green": (0.12, 0.72, 0.18), "blue": (0.12, 0.28, 0.92),
           "yellow": (0.96, 0.84, 0.10)}


def swap_table(args, model, meta):
    ab = alphas_cumprod(meta)
    manifest, clips, fam = load(args.dataset)
    idx = [i for i, x in enumerate(fam) if x == "ball"][: args.clips]
    enc = encoder()
    names = list(COLOURS)
    gen = torch.Generator().manual_seed(args.seed)
    x0 = to_tensor(clips[idx])                                          # [n, T, 3, H, W]
    med = x0.flatten(3).median(dim=3).values[..., None, None]           # background colour per frame
    mask = ((x0 - med).abs().amax(dim=2, keepdim=True) > 0.6)           # the ball's pixels
    truth, captions = [], []
    for i in idx:
        cap = manifest[i]["caption"]
        own = [c for c in names if c in cap.split()]
        assert len(own) == 1, f"caption {cap!r} names no single colour"
        truth.append(own[0])
        captions.append([cap.replace(own[0], c) for c in names])
    emb = enc([c for row in captions for c in row]).reshape(len(idx), len(names), -1)
    print(f"{len(idx)} ball clips; x0-hat's ball colour under each colour word, per t")
    print("t".rjust(5) + "  follows the caption  follows the clip   (of %d)" % (len(idx) * len(names)))
    for t in T_GRID:
        a, s = ab[t].sqrt(), (1 - ab[t]).sqrt()
        xt = a * x0 + s * torch.randn(x0.shape, generator=gen)
        follows_caption = follows_clip = 0
        for k, word in enumerate(names):
            with torch.no_grad():
                v = model(xt, torch.full((len(idx),), t), emb[:, k])
            xh = (a * xt - s * v + 1) / 2                                  # [0, 1]
            bg = (med + 1) / 2
            for n in range(len(idx)):
                d = (xh[n] - bg[n]).permute(1, 0, 2, 3)[:, mask[n][:, 0]].mean(dim=1)   # mean over the ball's pixels
                bgc = bg[n].mean(dim=(0, 2, 3))
                best = max(names, key=lambda c: float(torch.nn.functional.cosine_similarity(
                    d, torch.tensor(COLOURS[c]) - bgc, dim=0)))
                follows_caption += best == word
                follows_clip += best == truth[n]
        print(f"{t:5d}  {follows_caption:20d}  {follows_clip:16d}")


def travel(clip):
    """Direction of travel of the brightest things in a clip [T, 3, H, W] in [0, 1] (the car's
    headlights): the slope of the luminance-weighted x centroid of each frame's brightest 2% of
    pixels over the frames; "left", "right", or "none" when it moves less than a pixel in all."""
    lum = clip.mean(dim=1)                                              # [T, H, W]
    xs = torch.arange(lum.shape[-1], dtype=torch.float32)
    centres = []
    for f in lum:
        cut = torch.quantile(f.flatten(), 0.98)
        w = (f - cut).clamp(min=0)
        centres.append(float((w.sum(dim=0) * xs).sum() / w.sum().clamp(min=1e-8)))
    t = np.arange(len(centres))
    slope = np.polyfit(t, np.array(centres), 1)[0]
    if abs(slope) * (len(centres) - 1) < 1:
        return "none"
    return "right" if slope > 0 else "left"


def swap_direction_table(args, model, meta):
    """Direction binding in the prediction: car clips noised to t, x0 predicted under the clip's
    caption with its direction word as "left" and as "right"; the direction of travel of x0-hat
    (`travel`) against the word's and the clip's own (checked first on the clean clips)."""
    ab = alphas_cumprod(meta)
    manifest, clips, fam = load(args.dataset)
    words = ["left", "right"]
    # Car clips whose caption names a direction (some, like "night road with a car driving by", do not).
    idx = [i for i, x in enumerate(fam) if x == "car" and set(manifest[i]["caption"].split()) & set(words)][: args.clips]
    enc = encoder()
    gen = torch.Generator().manual_seed(args.seed)
    x0 = to_tensor(clips[idx])
    truth, captions = [], []
    def mirrored(cap):  # every "left" as "right" and back ("from right to left" -> "from left to right")
        return " ".join({"left": "right", "right": "left"}.get(w, w) for w in cap.split())
    for i in idx:
        cap = manifest[i]["caption"]
        named = [w for w in cap.split() if w in words]
        truth.append(named[-1])                                         # "from right to left": left
        captions.append([cap if named[-1] == w else mirrored(cap) for w in words])
    clean = [travel((x0[n] + 1) / 2) for n in range(len(idx))]
    print(f"{len(idx)} car clips; the clean clips' travel matches their caption in "
          f"{sum(c == w for c, w in zip(clean, truth))} of {len(idx)}")
    emb = enc([c for row in captions for c in row]).reshape(len(idx), len(words), -1)
    print("t".rjust(5) + "  follows the word  follows the clip  none   (of %d)  word effect" % (len(idx) * len(words)))
    # Beyond the grid: 975 and 999, where the noisy clip barely shows its direction any more.
    # Word effect: mean |x0-hat("left") - x0-hat("right")| over mean |x0-hat - mean frame|, how far
    # the word moves the prediction against how much the prediction varies at all.
    for t in T_GRID + [975, 999]:
        a, s = ab[t].sqrt(), (1 - ab[t]).sqrt()
        xt = a * x0 + s * torch.randn(x0.shape, generator=gen)
        word_n = clip_n = none_n = 0
        preds = []
        for k, word in enumerate(words):
            with torch.no_grad():
                v = model(xt, torch.full((len(idx),), t), emb[:, k])
            xh = ((a * xt - s * v + 1) / 2).clamp(0, 1)
            preds.append(xh)
            for n in range(len(idx)):
                d = travel(xh[n])
                word_n += d == word
                clip_n += d == truth[n]
                none_n += d == "none"
        spread = (preds[0] - preds[0].mean(dim=1, keepdim=True)).abs().mean()
        effect = float((preds[0] - preds[1]).abs().mean() / spread.clamp_min(1e-12))
        print(f"{t:5d}  {word_n:16d}  {clip_n:16d}  {none_n:4d}  {effect:11.3f}")


def time_reversal_table(args, model, meta):
    from safetensors.numpy import load_file
    weights = load_file(args.model)
    tables = [k for k in weights if k.endswith("relativeBias")]
    asymmetry = max((float(np.abs(weights[k] - weights[k][::-1]).max()) for k in tables), default=0.0)
    gate = max((float(np.abs(weights[k]).max()) for k in weights if k.endswith("biasGate")), default=0.0)
    cfg = json.loads(meta["t2v.denoiser_config"])
    print(f"temporal convolution: {bool(cfg.get('temporalConvolution', False))}; bias tables' asymmetry "
          f"max |b[d] - b[-d]| {asymmetry:.3f}; largest |bias gate| {gate:.3f}")
    c = model.config
    text = encoder()(["a car driving left along a road at night"])
    g = torch.Generator().manual_seed(0)
    print("    t  max |f(rev x) - rev f(x)| / max |f(x)|  (worst of the seeds)")
    for t in [950, 800, 600]:
        worst = 0.0
        for _ in range(args.seeds):
            x = torch.randn(1, c.frames, c.inChannels, c.resolution, c.resolution, generator=g)
            with torch.no_grad():
                y = model(x, torch.tensor([t]), text)
                yr = model(x.flip(1), torch.tensor([t]), text)
            worst = max(worst, ((yr - y.flip(1)).abs().max() / y.abs().max()).item())
        print(f"{t:5d}  {worst:.4f}")


def pure_noise_table(args, model, meta):
    """The caption's whole effect at pure noise against the best possible (the data's group means)."""
    ab = alphas_cumprod(meta)
    manifest, clips, fam = load(args.dataset)
    groups = {}
    for i, f in enumerate(fam):
        words = set(manifest[i]["caption"].replace(",", " ").split())
        values = [w for w in (list(COLOURS) if f == "ball" else ["left", "right"] if f in ("car", "clouds") else []) if w in words]
        groups.setdefault(f, []).append(i)
        if len(values) == 1:  # captions naming both ("from right to left") stay in the family group only
            groups.setdefault(f"{f} {values[0]}", []).append(i)
    enc = encoder()
    gen = torch.Generator().manual_seed(args.seed)
    t = args.t
    a, s = ab[t].sqrt(), (1 - ab[t]).sqrt()
    x0 = to_tensor(clips)
    emb = enc([r["caption"] for r in manifest])
    # The same noise draws for every clip, so that only the caption tells two groups apart.
    xh = torch.zeros_like(x0)
    for _ in range(args.draws):
        noise = torch.randn(x0.shape[1:], generator=gen)
        for lo in range(0, len(manifest), 16):
            xb = x0[lo:lo + 16]
            xt = a * xb + s * noise
            with torch.no_grad():
                v = model(xt, torch.full((len(xb),), t), emb[lo:lo + 16])
            xh[lo:lo + 16] += (a * xt - s * v) / args.draws
    print(f"t = {t} (alpha-bar {float(ab[t]):.1e}); {len(manifest)} clips; groups: "
          + ", ".join(f"{k} ({len(v)})" for k, v in groups.items()))
    print(f"{'pair':32s}  model / data difference  cosine")
    names = list(groups)
    for i, ga in enumerate(names):
        for gb in names[i + 1:]:
            # attribute values within one family, or whole families against each other
            if (" " in ga) != (" " in gb) or (" " in ga and ga.split()[0] != gb.split()[0]):
                continue
            data = x0[groups[ga]].mean(0) - x0[groups[gb]].mean(0)
            mod = xh[groups[ga]].mean(0) - xh[groups[gb]].mean(0)
            ratio = float(mod.abs().mean() / data.abs().mean().clamp_min(1e-12))
            cos = float(torch.nn.functional.cosine_similarity(mod.flatten(), data.flatten(), dim=0))
            print(f"{ga + ' / ' + gb:32s}  {ratio:23.3f}  {cos:6.3f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    l = sub.add_parser("loss")
    l.add_argument("model"); l.add_argument("dataset")
    l.add_argument("--clips-per-family", type=int, default=8); l.add_argument("--seed", type=int, default=0)
    w = sub.add_parser("swap")
    w.add_argument("model"); w.add_argument("dataset")
    w.add_argument("--clips", type=int, default=8); w.add_argument("--seed", type=int, default=0)
    d = sub.add_parser("swap-direction")
    d.add_argument("model"); d.add_argument("dataset")
    d.add_argument("--clips", type=int, default=16); d.add_argument("--seed", type=int, default=0)
    r = sub.add_parser("time-reversal")
    r.add_argument("model"); r.add_argument("--seeds", type=int, default=4)
    q = sub.add_parser("pure-noise")
    q.add_argument("model"); q.add_argument("dataset")
    q.add_argument("--t", type=int, default=999); q.add_argument("--seed", type=int, default=0)
    q.add_argument("--draws", type=int, default=2)
    x = sub.add_parser("x0")
    x.add_argument("model"); x.add_argument("dataset"); x.add_argument("out")
    x.add_argument("--family", default="ball"); x.add_argument("--index", type=int, default=0)
    x.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(2)
    model, meta = load_denoiser(args.model)
    model.eval()
    {"loss": loss_table, "swap": swap_table, "swap-direction": swap_direction_table, "time-reversal": time_reversal_table,
     "pure-noise": pure_noise_table, "x0": x0_sheet}[args.cmd](args, model, meta)


if __name__ == "__main__":
    main()
