#!/usr/bin/env python3
"""Writes a ~30 MB model-like safetensors file (64 F32 tensors + 1 F16 tensor) with
safetensors.numpy, then times Python's own load of it for comparison.
Usage: make_weights.py OUT.safetensors"""
import sys
import time

import numpy as np
from safetensors.numpy import load_file, save_file

out = sys.argv[1]
rng = np.random.default_rng(0)
tensors = {f"blocks.{i}.weight": rng.standard_normal((256, 448), dtype=np.float32) for i in range(64)}
tensors["embed.half"] = rng.standard_normal((1024, 512)).astype(np.float16)
save_file(tensors, out, metadata={"format": "np"})
best = min((lambda t0: (load_file(out), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5))
print(f"python safetensors.numpy.load_file (copies every tensor): {best * 1e3:.1f} ms")
