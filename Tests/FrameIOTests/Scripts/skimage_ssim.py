#!/usr/bin/env python3
"""Oracle for GaussianSSIM: scikit-image's structural_similarity with Wang et al.'s settings.

Reads a JSON list of jobs on stdin, each {"a": path, "b": path, "width": W, "height": H,
"mode": "gray" | "rgb" | "luma601" | "luma709"}; the files hold raw 8-bit samples (gray: W*H
bytes; the others: packed RGB24, W*H*3 bytes). Prints a JSON list of mean SSIM values.

    structural_similarity(a, b, gaussian_weights=True, sigma=1.5,
                          use_sample_covariance=False, data_range=255)
"""
import json
import sys

import numpy as np
from skimage.metrics import structural_similarity

LUMA = {"luma601": (0.299, 0.587, 0.114), "luma709": (0.2126, 0.7152, 0.0722)}


def load(path, job):
    data = np.fromfile(path, dtype=np.uint8)
    if job["mode"] == "gray":
        return data.reshape(job["height"], job["width"])
    return data.reshape(job["height"], job["width"], 3)


def main():
    results = []
    for job in json.load(sys.stdin):
        a, b = load(job["a"], job), load(job["b"], job)
        kwargs = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255)
        if job["mode"] == "rgb":
            value = structural_similarity(a, b, channel_axis=2, **kwargs)
        elif job["mode"] in LUMA:
            w = np.array(LUMA[job["mode"]], dtype=np.float64)
            value = structural_similarity(a.astype(np.float64) @ w, b.astype(np.float64) @ w, **kwargs)
        else:
            value = structural_similarity(a, b, **kwargs)
        results.append(float(value))
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
