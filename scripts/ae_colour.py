#!/usr/bin/env python3
"""What an autoencoder keeps of the ball's colour: reads `t2v-scenes track --json` of a ball
dataset and of its reconstructions (`t2v-render eval-autoencoder --reconstructions`), and prints,
per named colour, the clips whose ball the report's colour judge reads in that colour (the
`named` and `read` fields track writes for each clip) before and after coding. With the dataset's manifest.jsonl and a seed SPLIT, clips whose corpus
seed (FAMILY-SEED.mp4) is below SPLIT (those the autoencoder trained on) are counted apart from
the rest (unseen).

Usage: python3 scripts/ae_colour.py ORIGINAL.track.jsonl RECONSTRUCTED.track.jsonl [MANIFEST.jsonl SPLIT]
"""
import collections, json, re, sys

a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
assert len(a) == len(b), "the two files hold different clip counts"
parts = ["all"] * len(a)
if len(sys.argv) > 4:
    split = int(sys.argv[4])
    seeds = [int(re.search(r"-(\d+)\.\w+$", json.loads(l)["source"]).group(1)) for l in open(sys.argv[3])]
    assert len(seeds) == len(a), "the manifest holds another clip count"
    parts = ["trained-on" if s < split else "unseen" for s in seeds]
rows = collections.defaultdict(lambda: [0, 0, 0, collections.Counter()])
for part, x, y in zip(parts, a, b):
    assert x["caption"] == y["caption"], "the two files list clips in another order"
    want = x["named"]
    if want is None:
        continue
    row = rows[(part, want)]
    row[0] += 1
    row[1] += x["read"] == want
    row[2] += y["read"] == want
    row[3][y["read"] or "none"] += 1
print("| clips | named colour | clips | original read right | reconstruction read right | reconstruction read as |")
print("|---|---|---|---|---|---|")
for (part, want), (n, ok_a, ok_b, reads) in sorted(rows.items()):
    print(f"| {part} | {want} | {n} | {ok_a}/{n} | {ok_b}/{n} | {', '.join(f'{k} {v}' for k, v in reads.most_common())} |")
