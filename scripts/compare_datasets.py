#!/usr/bin/env python3
"""Compare two datasets made by `t2v-render extract` (same corpus layout): clip by clip.

Usage: python3 scripts/compare_datasets.py DATASET_A DATASET_B

Clips are matched by the source file name in manifest.jsonl (the directories may differ). Prints
how many clips are byte-identical, per family (the name before the first '-') and in all, and over
all values the mean absolute difference in levels and the share that differ by more than 2.
"""
import collections
import json
import os
import sys

import numpy as np
from safetensors.numpy import load_file


def load(d):
    rows = [json.loads(l) for l in open(os.path.join(d, "manifest.jsonl")) if l.strip()]
    shards = {}
    clips = {}
    for r in rows:
        if r["shard"] not in shards:
            shards[r["shard"]] = load_file(os.path.join(d, r["shard"]))["clips"]
        clips[os.path.basename(r["source"])] = shards[r["shard"]][r["index"]]
    return clips


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    a, b = load(sys.argv[1]), load(sys.argv[2])
    common = sorted(set(a) & set(b))
    if not common:
        raise SystemExit("no clips in common (matched by source file name)")
    same, total = collections.Counter(), collections.Counter()
    diff_sum, big, count = 0.0, 0, 0
    for name in common:
        fam = name.split("-")[0]
        total[fam] += 1
        x, y = a[name].astype(np.int32), b[name].astype(np.int32)
        if x.shape != y.shape:
            raise SystemExit(f"{name}: shapes differ, {x.shape} vs {y.shape}")
        d = np.abs(x - y)
        same[fam] += int(not d.any())
        diff_sum += float(d.sum())
        big += int((d > 2).sum())
        count += d.size
    print(f"{len(common)} clips in common ({len(a)} in A, {len(b)} in B)")
    for fam in sorted(total):
        print(f"  {fam}: {same[fam]}/{total[fam]} identical")
    print(f"identical: {sum(same.values())} of {len(common)}")
    print(f"all values: mean |diff| {diff_sum / count:.3f} levels, {100 * big / count:.2f}% differ by more than 2")


if __name__ == "__main__":
    main()
