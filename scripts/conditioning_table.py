#!/usr/bin/env python3
"""The conditioning study's table (docs/conditioning.md) from each arm's REPORT.md.

    python3 scripts/conditioning_table.py work/conditioning [ARM ...]

Per arm: exact and paraphrase adherence with one binomial standard error (sqrt(p(1-p)/n) over the
n clips of the column), attribute accuracy (ball colour, car and cloud direction, all), Frechet
distance and inter-frame SSIM, read from the report `t2v-scenes report` wrote for the arm's
teacher; the training wall time from times.txt when it was recorded.
"""
import math
import os
import re
import sys


def parse(path):
    text = open(path).read()
    out = {}
    rows = re.findall(r"^\| (\w+) \| (\d+)/(\d+) \| (\d+)/(\d+) \| \d+/\d+ \|", text, re.M)
    if rows:
        ok_e = sum(int(r[1]) for r in rows); n_e = sum(int(r[2]) for r in rows)
        ok_p = sum(int(r[3]) for r in rows); n_p = sum(int(r[4]) for r in rows)
        out["exact"] = (ok_e, n_e)
        out["para"] = (ok_p, n_p)
    # The distance, with its jackknife standard error where the report gives one.
    m = re.search(r"^\| model under test \| `[^`]*` \| \d+ \| [^|]* \| ([\d.]+)(?: ± ([\d.]+))? \|", text, re.M)
    out["fd"] = float(m.group(1)) if m else None
    out["fd_se"] = float(m.group(2)) if m and m.group(2) else None
    m = re.search(r"^\| model under test \(\d+\) \| ([\d.]+) \|", text, re.M)
    out["ssim"] = float(m.group(1)) if m else None
    m = re.search(r"^\| real held-out \(\d+\) \| ([\d.]+) \|", text, re.M)
    out["real_ssim"] = float(m.group(1)) if m else None
    attr = {}
    for name, key in (("model under test", "exact"), ("model under test, paraphrases", "para")):
        m = re.search(r"^\| " + re.escape(name) + r" \| ([^|]+) \| ([^|]+) \| ([^|]+) \| (\d+)/(\d+) \([\d.]+%\) \|", text, re.M)
        if m:
            attr[key] = (m.group(1).strip(), m.group(2).strip(), m.group(3).strip(), int(m.group(4)), int(m.group(5)))
    out["attr"] = attr
    return out


def pct(ok, n):
    p = ok / n
    return f"{100 * p:.1f}% ± {100 * math.sqrt(p * (1 - p) / n):.1f}"


def main():
    root = sys.argv[1]
    arms = sys.argv[2:] or sorted(d for d in os.listdir(root) if os.path.isfile(os.path.join(root, d, "REPORT.md")))
    times = {}
    tpath = os.path.join(root, "times.txt")
    if os.path.exists(tpath):
        for line in open(tpath):
            m = re.match(r"(\S+): trained (\d+) steps in (\d+) s", line)
            if m:
                times[m.group(1)] = times.get(m.group(1), 0) + int(m.group(3))
    print("| arm | exact | paraphrase | attributes, exact (ball colour; car; clouds) | attributes, paraphrase | FD | inter-frame SSIM |")
    print("|---|---|---|---|---|---|---|")
    for arm in arms:
        r = parse(os.path.join(root, arm, "REPORT.md"))
        def attr(key):
            a = r["attr"].get(key)
            if not a:
                return "-"
            return f"{a[3]}/{a[4]} ({a[0]}; {a[1]}; {a[2]})"
        fd = "-" if r["fd"] is None else f"{r['fd']:.0f}" + ("" if r["fd_se"] is None else f" ± {r['fd_se']:.0f}")
        print(f"| {arm} | {pct(*r['exact'])} | {pct(*r['para'])} | {attr('exact')} | {attr('para')} | "
              f"{fd} | {r['ssim']:.4f} (real {r['real_ssim']:.4f}) |")


if __name__ == "__main__":
    main()
