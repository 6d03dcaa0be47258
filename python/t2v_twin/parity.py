"""Parity check: the PyTorch twin's forward pass against t2v-render's Swift forward pass.

    python3 python/t2v_twin/parity.py --model M.safetensors --inputs in.safetensors \
        --swift-output out.safetensors [--rtol 1e-4] [--atol-scale 1e-5]

`M` is a checkpoint written by Swift (`VideoDenoiser.save`), `in` holds `x`, `timesteps`, `text`
(and `tokens`, `token_counts` for a model with cross-attention), `out` holds the Swift output `y`.
An `x` of rank 5 is a batch of clips (Swift `model(x, timesteps:text:tokens:)`, the twin's
`forward`); of rank 4, independent images (Swift `model(images:timesteps:text:tokens:)`, the
twin's `forward_images`: the spatial layers only). Passes when |y_torch - y_swift| <= atol + rtol * |y_torch|
element-wise, with atol = atol_scale * max|y_torch| (default 1e-5; near-zero outputs make a pure relative test
meaningless). Also round-trips the checkpoint through `save_denoiser`/`load_denoiser` and checks
that the names, shapes, values and config metadata survive. Exit status 0 on pass, 1 on failure.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import torch  # noqa: E402
from safetensors.torch import load_file  # noqa: E402

from t2v_twin import CONFIG_METADATA_KEY, load_denoiser, save_denoiser  # noqa: E402
from t2v_twin.model import BUNDLE_PREFIXES  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--swift-output", required=True)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol-scale", type=float, default=1e-5)
    args = ap.parse_args()

    torch.set_num_threads(2)
    model, meta = load_denoiser(args.model)
    model.eval()
    inputs = load_file(args.inputs)
    y_swift = load_file(args.swift_output)["y"]
    with torch.no_grad():
        forward = model.forward_images if inputs["x"].dim() == 4 else model
        y = forward(inputs["x"], inputs["timesteps"], inputs["text"], inputs.get("tokens"), inputs.get("token_counts"))
    if y.shape != y_swift.shape:
        print(f"FAIL shape: torch {tuple(y.shape)} swift {tuple(y_swift.shape)}")
        return 1
    diff = (y - y_swift).abs()
    atol = args.atol_scale * float(y.abs().max())
    bad = diff > atol + args.rtol * y.abs()
    rel = float((diff / (y.abs() + atol)).max())
    cfg = json.loads(meta[CONFIG_METADATA_KEY])
    params = sum(p.numel() for p in model.parameters())
    print(f"parity {os.path.basename(args.model)}: base {cfg['baseChannels']} levels {len(cfg['channelMultipliers'])} "
          f"params {params} out {tuple(y.shape)}: max|diff| {float(diff.max()):.3e}, max|y| {float(y.abs().max()):.3e}, "
          f"max rel {rel:.3e}, mismatches {int(bad.sum())} (rtol {args.rtol}, atol {atol:.2e})")

    # Round trip through the twin's writer: same names, shapes, values and config.
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "twin.safetensors")
        save_denoiser(model, path)
        again, meta2 = load_denoiser(path)
        a, b = model.state_dict(), again.state_dict()
        same = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        same_cfg = json.loads(meta2[CONFIG_METADATA_KEY]) == cfg
        src = load_file(args.model)
        # A model file may carry its autoencoder and training captions beside the denoiser.
        same_names = {k for k in src if not k.startswith(BUNDLE_PREFIXES)} == set(a)
    if not (same and same_cfg and same_names):
        print(f"FAIL round trip: tensors equal {same}, config equal {same_cfg}, names as Swift's {same_names}")
        return 1
    if bad.any():
        print("FAIL parity")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
