"""Golden values for FrechetDistanceTests: the FID formula as pytorch-fid / clean-fid compute it
(numpy mean, numpy.cov with rowvar=False, scipy.linalg.sqrtm of the covariance product).

Run from the package root: python3 Tests/GeneratorTests/Scripts/make_frechet_fixture.py
"""
import json

import numpy as np
from scipy import linalg

rng = np.random.default_rng(1234)
d = 5
mix_a = rng.normal(size=(d, d))
mix_b = rng.normal(size=(d, d)) * 0.7
a = rng.normal(size=(40, d)) @ mix_a + rng.normal(size=d)
b = rng.normal(size=(30, d)) @ mix_b + rng.normal(size=d) * 2


def fid(x, y):
    mu1, mu2 = x.mean(0), y.mean(0)
    s1, s2 = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean, _ = linalg.sqrtm(s1 @ s2, disp=False)
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)), s1


value, cov_a = fid(a, b)
out = {
    "a": a.astype(np.float32).tolist(),
    "b": b.astype(np.float32).tolist(),
    "cov_a": cov_a.ravel().tolist(),
    "distance": value,
}
# Recompute from the float32-rounded samples the Swift side reads.
out["distance"], cov = fid(np.array(out["a"], dtype=np.float64), np.array(out["b"], dtype=np.float64))
out["cov_a"] = cov.ravel().tolist()
with open("Tests/GeneratorTests/Fixtures/eval/frechet.json", "w") as f:
    json.dump(out, f)
print("distance", out["distance"])
