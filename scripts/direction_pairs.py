"""Per seed, the direction each word sent the car in a direction-overfit.sh arm (sign of the
least-squares slope of the tracked x), and how many seeds go the same way for both words.

    python3 scripts/direction_pairs.py work/direction-overfit/ARM
"""
import json, sys, os, numpy as np
d=sys.argv[1]
rows=[json.loads(l) for l in open(d+"/track.jsonl")]
man=[json.loads(l) for l in open(d+"/samples-dataset/manifest.jsonl")]
assert len(rows)==len(man)
seeds=len(rows)//2
dirs={}
for r,m in zip(rows,man):
    k=int(os.path.basename(m["source"]).split("-")[1].split(".")[0])
    assert r["caption"]==m["caption"]
    xs=[(i,dd[0]) for i,dd in enumerate(r["detections"]) if dd is not None]
    if len(xs)<4: v="-"
    else:
        i,x=np.array(xs).T; v="L" if np.polyfit(i,x,1)[0]<0 else "R"
    dirs[k]=v
left="".join(dirs[s] for s in range(seeds)); right="".join(dirs[seeds+s] for s in range(seeds))
same=sum(a==b for a,b in zip(left,right))
print(f"left: {left}  right: {right}  right direction: {left.count('L')+right.count('R')}/{2*seeds}  same way: {same} of {seeds}")
