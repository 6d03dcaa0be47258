#!/usr/bin/env python3
"""Writes the PyTorch parity fixtures for the tensor engine (Tests/GeneratorTests/Fixtures/ops).

Every op runs in float64 PyTorch on float32-representable inputs (uniform in [-1, 1) from a
seeded NumPy generator); outputs and gradients (of sum(out * gy) for a random upstream gy) are
stored as float32 safetensors. Key names: "<case>.<tensor>". Run from anywhere:

    python3 Tests/GeneratorTests/Scripts/make_op_fixtures.py

Needs torch, numpy, safetensors. The Swift tests only read the committed files.
"""
import math
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "ops")
rng = np.random.default_rng(20261126)


def rand(*shape, scale=1.0):
    return (rng.uniform(-1, 1, size=shape) * scale).astype(np.float32)


def t(a, grad=True):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


def f32(x):
    return x.detach().numpy().astype(np.float32)


def case(store, name, fn, inputs, extra=None):
    """Runs fn on float64 copies of inputs; stores inputs, output, gy and input grads."""
    ts = {k: t(v, grad=not k.startswith("const_")) for k, v in inputs.items()}
    out = fn(**ts)
    gy = rand(*out.shape)
    (out * torch.tensor(gy, dtype=torch.float64)).sum().backward()
    for k, v in inputs.items():
        store[f"{name}.{k}"] = v
        if ts[k].grad is not None:
            store[f"{name}.grad_{k}"] = f32(ts[k].grad)
    store[f"{name}.out"] = f32(out)
    store[f"{name}.gy"] = gy
    for k, v in (extra or {}).items():
        store[f"{name}.{k}"] = v


def ops():
    s = {}
    case(s, "conv3x3", lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1),
         dict(x=rand(2, 3, 9, 8), w=rand(5, 3, 3, 3), b=rand(5)))
    case(s, "conv3x3s2", lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
         dict(x=rand(2, 3, 9, 8), w=rand(5, 3, 3, 3), b=rand(5)))
    # Wide enough that the engine's im2col works in two row tiles (k * Wout > 256K floats).
    case(s, "conv3x3_tiled", lambda x, w, b: F.conv2d(x, w, b, stride=1, padding=1),
         dict(x=rand(1, 32, 12, 100), w=rand(4, 32, 3, 3), b=rand(4)))
    case(s, "conv1x1", lambda x, w, b: F.conv2d(x, w, b), dict(x=rand(2, 6, 5, 4), w=rand(4, 6, 1, 1), b=rand(4)))
    case(s, "groupnorm", lambda x, w, b: F.group_norm(x, 4, w, b, eps=1e-5),
         dict(x=rand(2, 8, 5, 3, scale=3), w=rand(8), b=rand(8)))
    case(s, "layernorm", lambda x, w, b: F.layer_norm(x, (16,), w, b, eps=1e-5),
         dict(x=rand(3, 4, 16, scale=3), w=rand(16), b=rand(16)))
    case(s, "gelu", lambda x: F.gelu(x), dict(x=rand(4, 33, scale=5)))
    case(s, "silu", lambda x: F.silu(x), dict(x=rand(4, 33, scale=5)))
    case(s, "softmax", lambda x: torch.softmax(x, dim=-1), dict(x=rand(4, 33, scale=5)))
    case(s, "matmul", lambda a, b: a @ b, dict(a=rand(3, 4, 7), b=rand(3, 7, 5)))
    case(s, "linear", lambda x, w, b: F.linear(x, w, b), dict(x=rand(2, 3, 7), w=rand(5, 7), b=rand(5)))
    case(s, "upsample", lambda x: F.interpolate(x, scale_factor=2, mode="nearest"), dict(x=rand(2, 3, 4, 5)))
    case(s, "avgpool", lambda x: F.avg_pool2d(x, 2), dict(x=rand(2, 3, 4, 6)))
    case(s, "mse", lambda p, q: F.mse_loss(p, q).reshape(1), dict(p=rand(3, 5), q=rand(3, 5)))
    case(s, "broadcast", lambda a, b: (a + b) * a / (b * b + 1.5) - b,
         dict(a=rand(2, 3, 4), b=rand(3, 1)))

    # Attention with additive bias [H, Lq, Lk] and a key padding mask [B, 1, 1, Lk].
    keep = np.ones((2, 12), dtype=bool)
    keep[0, 9:] = False
    keep[1, 3] = False
    mask = np.where(keep, 0.0, -np.inf).astype(np.float32).reshape(2, 1, 1, 12)

    def attn(q, k, v, bias, const_mask):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias + const_mask)

    case(s, "attention", attn, dict(q=rand(2, 3, 10, 8), k=rand(2, 3, 12, 8), v=rand(2, 3, 12, 6),
                                    bias=rand(3, 10, 12), const_mask=mask))
    # Long enough for several query blocks (block ~ 65536 / Lk rows).
    case(s, "attention_long", lambda q, k, v: F.scaled_dot_product_attention(q, k, v),
         dict(q=rand(1, 2, 700, 16, scale=2), k=rand(1, 2, 300, 16, scale=2), v=rand(1, 2, 300, 16)))
    case(s, "attention_causal", lambda q, k, v: F.scaled_dot_product_attention(q, k, v, is_causal=True),
         dict(q=rand(2, 9, 8), k=rand(2, 9, 8), v=rand(2, 9, 8)))
    return s


class Block(torch.nn.Module):
    """GroupNorm -> SiLU -> 3x3 conv -> residual -> self-attention over positions -> residual.
    Parameter names match the Swift test's TinyBlock (norm, conv, attn.toQ/toK/toV/toOut)."""

    def __init__(self, c=8, heads=2):
        super().__init__()
        self.norm = torch.nn.GroupNorm(4, c)
        self.conv = torch.nn.Conv2d(c, c, 3, padding=1)
        self.attn = torch.nn.Module()
        for n in ["toQ", "toK", "toV", "toOut"]:
            setattr(self.attn, n, torch.nn.Linear(c, c))
        self.heads = heads

    def forward(self, x):
        h = x + self.conv(F.silu(self.norm(x)))
        b, c, hh, ww = h.shape
        seq = h.reshape(b, c, hh * ww).transpose(1, 2)
        d = c // self.heads

        def split(y):
            return y.reshape(b, hh * ww, self.heads, d).transpose(1, 2)

        a = F.scaled_dot_product_attention(split(self.attn.toQ(seq)), split(self.attn.toK(seq)), split(self.attn.toV(seq)))
        a = self.attn.toOut(a.transpose(1, 2).reshape(b, hh * ww, c))
        return (seq + a).transpose(1, 2).reshape(b, c, hh, ww)


def block():
    torch.manual_seed(0)
    m = Block().double()
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.tensor(rand(*p.shape, scale=0.5), dtype=torch.float64))
    x = t(rand(2, 8, 6, 5))
    out = m(x)
    gy = rand(*out.shape)
    (out * torch.tensor(gy, dtype=torch.float64)).sum().backward()
    s = {"x": f32(x), "out": f32(out), "gy": gy, "grad_x": f32(x.grad)}
    for n, p in m.named_parameters():
        s[f"param.{n}"] = f32(p)
        s[f"grad.{n}"] = f32(p.grad)
    return s


def optim():
    """Three AdamW steps (lr 1e-2, wd 0.1) on given gradients, then clip_grad_norm_."""
    p0 = rand(4, 3)
    grads = [rand(4, 3, scale=2) for _ in range(3)]
    p = torch.tensor(p0, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.AdamW([p], lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
    s = {"p0": p0}
    for i, g in enumerate(grads):
        p.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        s[f"g{i}"] = g
        s[f"p{i + 1}"] = f32(p)
    a, b = t(rand(5, scale=3)), t(rand(2, 2, scale=3))
    a.grad, b.grad = a.detach().clone(), b.detach().clone()
    norm = torch.nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    s.update({"clip_a": f32(a), "clip_b": f32(b), "clip_norm": np.array([norm.item()], dtype=np.float32),
              "clipped_a": f32(a.grad), "clipped_b": f32(b.grad)})
    return s


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    meta = {"generator": "make_op_fixtures.py", "torch": torch.__version__}
    for name, fn in [("ops", ops), ("block", block), ("optim", optim)]:
        data = fn()
        save_file(data, os.path.join(OUT, f"{name}.safetensors"), metadata=meta)
        print(name, len(data), "tensors")
