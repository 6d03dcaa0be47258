#!/usr/bin/env python3
"""Writes Tests/GeneratorTests/Fixtures/diffusion/denoiser_tiny.safetensors: a PyTorch port of
the Swift `VideoDenoiser` (Sources/Generator/Model) with random weights, saved with the Swift
checkpoint names and the `t2v.denoiser_config` metadata; and denoiser_tiny_io.safetensors with
one forward pass: `x` [2, 6, 3, 16, 16], `text` [2, 384], `timesteps` (int64) and `output`. Six frames exceed the tiny preset's maxFrameDistance (4), so the relative
bias is clamped; the temporal gates are non-zero so the TGS path is exercised.

Oracle: PyTorch (CPU, float32) for every op: conv2d, group_norm, layer_norm, linear, softmax
attention, GELU (exact), nearest upsampling. Run from the repository root:

    python3 Tests/GeneratorTests/Scripts/make_denoiser_fixture.py
"""
import json
import math
import os

import torch
import torch.nn as nn
import torch.nn.functional as F
from safetensors.torch import save_file

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "diffusion", "denoiser_tiny.safetensors")

CONFIG = {  # DenoiserConfig.tiny, in Swift's Codable layout
    "inChannels": 3, "baseChannels": 16, "channelMultipliers": [1, 2], "resBlocksPerLevel": 1, "heads": 2,
    "groups": 4, "frames": 4, "resolution": 16, "textDim": 384, "maxFrameDistance": 4, "temporal": True,
    "schedule": {"betaSchedule": {"cosine": {"maxBeta": 0.999}}, "trainSteps": 1000},
    "predictionType": "v_prediction",
}


class MHA(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.toQ, self.toK, self.toV, self.toOut = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, x, bias=None):
        b, l, d = x.shape
        h, dh = self.heads, d // self.heads
        q, k, v = (m(x).reshape(b, l, h, dh).permute(0, 2, 1, 3) for m in (self.toQ, self.toK, self.toV))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh)
        if bias is not None:
            scores = scores + bias
        y = scores.softmax(-1) @ v
        return self.toOut(y.permute(0, 2, 1, 3).reshape(b, l, d))


class TimestepEmbedding(nn.Module):
    def __init__(self, features, dim):
        super().__init__()
        self.features = features
        self.linear1, self.linear2 = nn.Linear(features, dim), nn.Linear(dim, dim)

    def forward(self, ts):
        half = self.features // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64) / half)
        angle = torch.tensor(ts, dtype=torch.float64)[:, None] * freqs[None]
        h = torch.cat([angle.cos(), angle.sin()], 1).float()
        return self.linear2(F.silu(self.linear1(h)))


class ResBlock(nn.Module):
    def __init__(self, cin, cout, emb, groups):
        super().__init__()
        self.cout, self.groups = cout, groups
        self.norm1 = nn.GroupNorm(groups, cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(emb, 2 * cout)
        self.norm2 = nn.GroupNorm(groups, cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x, emb):
        h = self.conv1(F.silu(self.norm1(x)))
        ss = self.film(F.silu(emb))
        scale, shift = ss[:, :self.cout, None, None], ss[:, self.cout:, None, None]
        h = self.norm2(h) * (1 + scale) + shift
        h = self.conv2(F.silu(h))
        return (self.skip(x) if self.skip is not None else x) + h


class SpatialAttention(nn.Module):
    def __init__(self, c, heads, groups):
        super().__init__()
        self.norm = nn.GroupNorm(groups, c)
        self.attention = MHA(c, heads)

    def forward(self, x):
        n, c, h, w = x.shape
        t = self.norm(x).reshape(n, c, h * w).permute(0, 2, 1)
        return x + self.attention(t).permute(0, 2, 1).reshape(n, c, h, w)


class Temporal(nn.Module):
    def __init__(self, c, heads, dmax):
        super().__init__()
        self.dmax = dmax
        self.norm1, self.norm2 = nn.LayerNorm(c), nn.LayerNorm(c)
        self.attention = MHA(c, heads)
        self.ff1, self.ff2 = nn.Linear(c, 2 * c), nn.Linear(2 * c, c)
        self.relativeBias = nn.Parameter(torch.randn(2 * dmax + 1, heads))
        self.biasGate = nn.Parameter(torch.randn(heads, 1, 1) * 0.5)
        self.residualGate = nn.Parameter(torch.tensor([0.6]))

    def forward(self, x, frames):
        bf, c, h, w = x.shape
        b = bf // frames
        seq = x.reshape(b, frames, c, h * w).permute(0, 3, 1, 2).reshape(b * h * w, frames, c)
        i = torch.arange(frames)
        idx = (i[None, :] - i[:, None]).clamp(-self.dmax, self.dmax) + self.dmax
        bias = self.biasGate * self.relativeBias[idx].permute(2, 0, 1)
        seq = seq + self.residualGate * self.attention(self.norm1(seq), bias)
        seq = seq + self.residualGate * self.ff2(F.gelu(self.ff1(self.norm2(seq))))
        return seq.reshape(b, h * w, frames, c).permute(0, 2, 3, 1).reshape(bf, c, h, w)


class Level(nn.Module):
    def __init__(self, blocks, temporal, resample, name):
        super().__init__()
        self.resBlocks = nn.ModuleList(blocks)
        self.temporal = temporal
        setattr(self, name, resample)
        self.resampleName = name


class VideoDenoiser(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        base, mults, g, heads = cfg["baseChannels"], cfg["channelMultipliers"], cfg["groups"], cfg["heads"]
        e, levels = 4 * base, len(mults)
        ch = [base * m for m in mults]
        self.timeEmbedding = TimestepEmbedding(base, e)
        self.textProjection = nn.Linear(cfg["textDim"], e)
        self.convIn = nn.Conv2d(cfg["inChannels"], ch[0], 3, padding=1)
        down, c = [], ch[0]
        for l in range(levels):
            blocks = []
            for _ in range(cfg["resBlocksPerLevel"]):
                blocks.append(ResBlock(c, ch[l], e, g))
                c = ch[l]
            ds = nn.Conv2d(ch[l], ch[l], 3, stride=2, padding=1) if l < levels - 1 else None
            down.append(Level(blocks, Temporal(ch[l], heads, cfg["maxFrameDistance"]), ds, "downsample"))
        self.down = nn.ModuleList(down)
        self.midRes1 = ResBlock(c, c, e, g)
        self.midAttention = SpatialAttention(c, heads, g)
        self.midTemporal = Temporal(c, heads, cfg["maxFrameDistance"])
        self.midRes2 = ResBlock(c, c, e, g)
        up = []
        for l in reversed(range(levels)):
            blocks = [ResBlock(c + ch[l] if r == 0 else ch[l], ch[l], e, g) for r in range(cfg["resBlocksPerLevel"])]
            c = ch[l]
            us = nn.Conv2d(ch[l], ch[l], 3, padding=1) if l > 0 else None
            up.insert(0, Level(blocks, Temporal(ch[l], heads, cfg["maxFrameDistance"]), us, "upsample"))
        self.up = nn.ModuleList(up)
        self.normOut = nn.GroupNorm(g, c)
        self.convOut = nn.Conv2d(c, cfg["inChannels"], 3, padding=1)

    def forward(self, x, ts, text):
        b, f, ch, h, w = x.shape
        e = 4 * self.cfg["baseChannels"]
        emb = (self.timeEmbedding(ts) + self.textProjection(text))[:, None].expand(b, f, e).reshape(b * f, e)
        hid = self.convIn(x.reshape(b * f, ch, h, w))
        skips = []
        for lvl in self.down:
            for blk in lvl.resBlocks:
                hid = blk(hid, emb)
            hid = lvl.temporal(hid, f)
            skips.append(hid)
            if lvl.downsample is not None:
                hid = lvl.downsample(hid)
        hid = self.midRes2(self.midTemporal(self.midAttention(self.midRes1(hid, emb)), f), emb)
        for lvl, skip in reversed(list(zip(self.up, skips))):
            hid = torch.cat([hid, skip], 1)
            for blk in lvl.resBlocks:
                hid = blk(hid, emb)
            hid = lvl.temporal(hid, f)
            if lvl.upsample is not None:
                hid = lvl.upsample(F.interpolate(hid, scale_factor=2, mode="nearest"))
        hid = self.convOut(F.silu(self.normOut(hid)))
        return hid.reshape(b, f, ch, h, w)


def main():
    torch.manual_seed(0)
    model = VideoDenoiser(CONFIG)
    with torch.no_grad():  # perturb the norms' affine parameters too (PyTorch starts them at 1 and 0)
        for name, p in model.named_parameters():
            if "norm" in name:
                p.add_(torch.randn_like(p) * 0.1)
    x = torch.randn(2, 6, 3, 16, 16)
    text = torch.randn(2, 384) * 0.05
    ts = [17, 650]
    with torch.no_grad():
        out = model(x, ts, text)
    tensors = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_file(tensors, OUT, metadata={"t2v.denoiser_config": json.dumps(CONFIG), "torch_version": torch.__version__})
    io = OUT.replace(".safetensors", "_io.safetensors")
    save_file({"x": x, "text": text, "output": out, "timesteps": torch.tensor(ts, dtype=torch.int64)}, io)
    print(f"wrote {os.path.relpath(OUT)} and {os.path.relpath(io)}; output std {out.std():.4f}")


if __name__ == "__main__":
    main()
