#!/usr/bin/env python3
"""Where the held-out paraphrases sit in the text encoder's space, relative to the training captions.

For each paraphrase (Scenes.heldOutParaphrases, never used in training), finds the training caption
(Scenes.trainingCaptions) with the highest cosine similarity of their all-MiniLM-L6-v2 embeddings, and
the nearest family centroid, and reports per family how often that is the paraphrase's own family and
how similar the nearest caption is. If the nearest caption is nearly always of the right family, the
text encoder separates the families and a paraphrase miss is the denoiser's, not the encoder's.

Both inputs come from the product: `t2v-scenes captions --json` and `t2v-render embed --json` (the
Swift MiniLM, checked against sentence-transformers by the test suite).

    python3 scripts/caption_neighbours.py [--bin .build/release]
"""
import argparse

import numpy as np

import corpus_text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=".build/release", help="folder with t2v-render and t2v-scenes")
    args = ap.parse_args()
    caps = corpus_text.captions(args.bin, "caption_neighbours")
    train, train_fam, held, held_fam = [], [], [], []
    for i, f in enumerate(caps):
        train += f["training"]
        train_fam += [i] * len(f["training"])
        held += f["heldout"]
        held_fam += [i] * len(f["heldout"])
    emb = corpus_text.embed(args.bin, train + held, "caption_neighbours")
    E, H = emb[: len(train)], emb[len(train):]
    train_fam, held_fam = np.array(train_fam), np.array(held_fam)
    sim = H @ E.T
    nearest = train_fam[sim.argmax(1)]
    cent = np.stack([E[train_fam == i].mean(0) for i in range(len(caps))])
    cent /= np.linalg.norm(cent, axis=1, keepdims=True)
    by_centroid = (H @ cent.T).argmax(1)
    print(f"{len(train)} training captions, {len(held)} held-out paraphrases, {len(caps)} families")
    print(f"paraphrases whose nearest training caption is of their family: {(nearest == held_fam).mean():.1%}; "
          f"nearest family centroid: {(by_centroid == held_fam).mean():.1%}")
    print(f"{'family':<11} {'nearest':>8} {'centroid':>9} {'cos to nearest':>15} {'cos to nearest other family':>28}")
    for i, f in enumerate(caps):
        sel = held_fam == i
        own = sim[sel][:, train_fam == i].max(1).mean()
        other = sim[sel][:, train_fam != i].max(1).mean()
        print(f"{f['id']:<11} {int((nearest[sel] == i).sum()):>4}/{int(sel.sum()):<3} {int((by_centroid[sel] == i).sum()):>5}/{int(sel.sum()):<3}"
              f" {own:>15.3f} {other:>28.3f}")


if __name__ == "__main__":
    main()
