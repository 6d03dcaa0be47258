#!/usr/bin/env python3
"""How far apart attribute words put captions, before and after whitening the caption embeddings.

The denoiser sees a prompt as MiniLM's pooled embedding through one learned linear layer. Captions
that differ in an attribute word ("left"/"right", "red"/"blue") lie close together in that space
next to captions of other families, so the layer has to learn a large gain along a direction the
training captions barely vary in. Whitening the embeddings over the training captions (subtract
their mean, scale each principal direction by 1 / sqrt(its variance + eps)) is the classic
preconditioning of such an input. This script prints the distances between probe captions in
MiniLM's space and after whitening with a few values of eps, restricted to the span of the training
captions (directions they do not vary in are dropped, as a new wording's components there carry
nothing the model was trained on).

    python3 scripts/caption_whitening.py work/default-model/dataset [--bin .build/release]
"""
import argparse
import json
import os
import subprocess

import numpy as np

PAIRS = [
    ("car left/right", "a car driving left along a road at night", "a car driving right along a road at night"),
    ("clouds left/right", "clouds drifting left across a blue sky", "clouds drifting right across a blue sky"),
    ("ball red/blue", "a red ball bouncing", "a blue ball bouncing"),
    ("ball green/yellow", "a green ball bouncing", "a yellow ball bouncing"),
    ("city/fireworks", "a cyberpunk city at night", "fireworks in the night sky"),
    ("ball/car", "a red ball bouncing", "a car driving left along a road at night"),
    ("snow/city", "snow falling in a forest", "a cyberpunk city at night"),
]


def embed(binary, texts):
    out = subprocess.run([os.path.join(binary, "t2v-render"), "embed", "--json", *texts],
                         check=True, capture_output=True, text=True).stdout
    return np.array([e["embedding"] for e in json.loads(out)["embeddings"]], dtype=np.float64)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dataset", help="an extracted dataset folder (its manifest.jsonl holds the training captions)")
    ap.add_argument("--bin", default=".build/release", help="folder holding t2v-render")
    args = ap.parse_args()
    with open(os.path.join(args.dataset, "manifest.jsonl")) as f:
        captions = sorted({json.loads(line)["caption"] for line in f})
    probes = sorted({t for _, a, b in PAIRS for t in (a, b)})
    e = embed(args.bin, captions + probes)
    train, probe = e[:len(captions)], dict(zip(probes, e[len(captions):]))
    centred = train - train.mean(axis=0)
    _, s, vt = np.linalg.svd(centred, full_matrices=False)
    var = s ** 2 / len(train)
    span = var > 1e-9 * var[0]
    print(f"{len(captions)} distinct training captions; their embeddings span {span.sum()} of {train.shape[1]} dimensions")
    header = "| eps | " + " | ".join(name for name, _, _ in PAIRS) + " | attribute / family (car left/right over ball/car) |"
    print(header)
    print("|" + "---|" * (len(PAIRS) + 2))
    for eps in [None, 1e-1, 1e-2, 1e-3]:
        if eps is None:
            transform = np.eye(train.shape[1])
        else:
            transform = vt[span].T / np.sqrt(var[span] + eps)
        d = [np.linalg.norm((probe[a] - probe[b]) @ transform) for _, a, b in PAIRS]
        ratio = d[0] / d[5]
        print(f"| {'none (MiniLM)' if eps is None else eps} | " + " | ".join(f"{x:.2f}" for x in d) + f" | {ratio:.2f} |")


if __name__ == "__main__":
    main()
