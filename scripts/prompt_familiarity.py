#!/usr/bin/env python3
"""How far a prompt may sit from the training captions before `render` calls it unknown.

For the scene corpus's held-out paraphrases (never trained on: they are wordings the model should
handle) and for a fixed list of prompts about other subjects (which it cannot draw), the best cosine
similarity of each to the training captions, from the product's own text encoder. The threshold
`CaptionIndex.farThreshold` (Sources/Generator/Pipeline/CaptionIndex.swift) must lie between the
lowest paraphrase and the highest other-subject prompt; this prints both, and where the main job's
prompt lands.

    python3 scripts/prompt_familiarity.py [--bin .build/release]
"""
import argparse

import numpy as np

import corpus_text

OTHER_SUBJECTS = [
    "a cat playing the piano", "a bowl of fruit on a kitchen table", "a man riding a horse on a beach",
    "a dog catching a frisbee", "a plate of spaghetti", "a person typing on a laptop",
    "an elephant walking through the savanna", "a close-up of a human face smiling",
    "a red sports car parked in a garage", "a child blowing out birthday candles", "a chess board with pieces",
    "people dancing at a wedding", "a cup of coffee with latte art", "a skateboarder doing a trick",
    "a robot vacuum cleaning a carpet", "a woman reading a book in a library", "a tiger resting in the grass",
    "a pizza coming out of an oven", "astronauts walking on the moon", "a violinist on stage",
]
MAIN_JOB = "A cyberpunk city at night"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=".build/release", help="folder with t2v-render and t2v-scenes")
    args = ap.parse_args()
    caps = corpus_text.captions(args.bin, "prompt_familiarity")
    train = [c for f in caps for c in f["training"]]
    held = [c for f in caps for c in f["heldout"]]
    emb = corpus_text.embed(args.bin, train + held + OTHER_SUBJECTS + [MAIN_JOB], "prompt_familiarity")
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    t = emb[: len(train)]
    best = (emb[len(train):] @ t.T).max(1)
    held_best = best[: len(held)]
    other_best = best[len(held): len(held) + len(OTHER_SUBJECTS)]
    print(f"{len(train)} training captions, {len(held)} held-out paraphrases, {len(OTHER_SUBJECTS)} prompts of other subjects")
    print(f"held-out paraphrases: best similarity min {held_best.min():.3f}, 5th percentile {np.percentile(held_best, 5):.3f}, "
          f"median {np.median(held_best):.3f}")
    print(f"other subjects: best similarity max {other_best.max():.3f}, median {np.median(other_best):.3f}")
    for s, p in sorted(zip(other_best, OTHER_SUBJECTS), reverse=True)[:3]:
        print(f"  {s:.3f} {p}")
    print(f"the main job's prompt {MAIN_JOB!r}: {best[-1]:.3f}")
    lo, hi = other_best.max(), held_best.min()
    print(f"a threshold in ({lo:.3f}, {hi:.3f}) calls every paraphrase known and every other subject far"
          if lo < hi else "the two sets overlap: no threshold separates them")


if __name__ == "__main__":
    main()
