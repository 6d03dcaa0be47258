"""Parity check: the PyTorch twin's VideoAutoencoder against t2v-render's Swift one.

    python3 python/t2v_twin/autoencoder_parity.py --model AE.safetensors --inputs in.safetensors \
        --swift-output out.safetensors [--rtol 1e-4] [--atol-scale 1e-5]

`AE` is a file written by Swift (`VideoAutoencoder.save`); `in` holds `frames` ([N, 3, H, W] or
[B, T, 3, H, W]), `eps` (the posterior noise Swift drew, the latent's shape) and `z` (latents to
decode); `out` holds Swift's `mean`, `logvar`, `sample`, `latents` and `decoded` (of `z`). Each output
passes when |torch - swift| <= atol + rtol * |torch| element-wise, atol = atol_scale * max|torch|.
Reports the max abs diff of each. Also round-trips the file through `save_autoencoder` /
`load_autoencoder` (names, shapes, values, config and scale survive) and checks that the twin writes
the same bytes as Swift. Exit status 0 on pass, 1 on failure.
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

from t2v_twin.autoencoder import (AUTOENCODER_CONFIG_KEY, LATENT_SCALE_KEY, load_autoencoder,  # noqa: E402
                                  save_autoencoder)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--inputs", required=True)
    ap.add_argument("--swift-output", required=True)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol-scale", type=float, default=1e-5)
    args = ap.parse_args()

    torch.set_num_threads(2)
    model, meta = load_autoencoder(args.model)
    model.eval()
    inputs = load_file(args.inputs)
    swift = load_file(args.swift_output)
    with torch.no_grad():
        mean, logvar = model.encode(inputs["frames"])
        ours = {
            "mean": mean,
            "logvar": logvar,
            "sample": model.sample(mean, logvar, inputs["eps"]),
            "latents": model.latents(inputs["frames"]),
            "decoded": model.decode(inputs["z"]),
        }
    cfg = json.loads(meta[AUTOENCODER_CONFIG_KEY])
    print(f"autoencoder parity {os.path.basename(args.model)}: channels {cfg['channels']} latent {cfg['latentChannels']} "
          f"scale {meta[LATENT_SCALE_KEY]} frames {tuple(inputs['frames'].shape)}")
    failed = False
    for name, y in ours.items():
        s = swift[name]
        if y.shape != s.shape:
            print(f"FAIL {name} shape: torch {tuple(y.shape)} swift {tuple(s.shape)}")
            failed = True
            continue
        diff = (y - s).abs()
        atol = args.atol_scale * float(y.abs().max())
        bad = int((diff > atol + args.rtol * y.abs()).sum())
        print(f"  {name:8s} {tuple(y.shape)}: max|diff| {float(diff.max()):.3e}, max|y| {float(y.abs().max()):.3e}, "
              f"mismatches {bad} (rtol {args.rtol}, atol {atol:.2e})")
        failed |= bad > 0

    # Round trip through the twin's writer: same names, shapes, values, config, scale and bytes.
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "twin.safetensors")
        extra = {k: v for k, v in meta.items() if k not in (AUTOENCODER_CONFIG_KEY, LATENT_SCALE_KEY)}
        save_autoencoder(model, path, metadata=extra)
        again, meta2 = load_autoencoder(path)
        a, b = model.state_dict(), again.state_dict()
        same = a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
        same_cfg = json.loads(meta2[AUTOENCODER_CONFIG_KEY]) == cfg and again.scaleFactor == model.scaleFactor
        same_names = set(load_file(args.model)) == set(a)
        with open(path, "rb") as f1, open(args.model, "rb") as f2:
            same_bytes = f1.read() == f2.read()
    if not (same and same_cfg and same_names and same_bytes):
        print(f"FAIL round trip: tensors equal {same}, config and scale equal {same_cfg}, names as Swift's {same_names}, "
              f"bytes as Swift's {same_bytes}")
        return 1
    if failed:
        print("FAIL parity")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
