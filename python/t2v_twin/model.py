"""The VideoDenoiser of Sources/Generator/Model in PyTorch, module for module.

Every class mirrors a Swift class of the same name and every attribute mirrors a stored property,
so `state_dict()` keys are the Swift checkpoint keys (`down.0.resBlocks.0.conv1.weight`, ...).
Numerics follow the Swift engine: GroupNorm/LayerNorm eps 1e-5, attention scale 1/sqrt(head dim),
exact (erf) GELU, sinusoidal timestep features computed in float64 then rounded to float32.
"""
from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG_METADATA_KEY = "t2v.denoiser_config"


@dataclass
class DenoiserConfig:
    """Mirror of Swift `DenoiserConfig` (JSON field names are the Swift property names)."""

    inChannels: int = 3
    baseChannels: int = 64
    channelMultipliers: list = field(default_factory=lambda: [1, 2, 2])
    resBlocksPerLevel: int = 1
    heads: int = 4
    groups: int = 8
    frames: int = 16
    resolution: int = 32
    textDim: int = 384
    maxFrameDistance: int = 16
    temporal: bool = True
    temporalConvolution: bool = False
    crossAttention: bool = False
    temporalConditioning: bool = False
    temporalPositions: bool = False
    # Swift `DenoiserConfig.textWhitening`: the eps of the fixed whitening of the pooled text
    # (`TextWhitening`); None (the key absent) in models made before it existed.
    textWhitening: float | None = None
    # Scheduler fields are carried through untouched (the network does not use them).
    extra: dict = field(default_factory=dict)

    @staticmethod
    def tiny() -> "DenoiserConfig":
        """Swift `DenoiserConfig.tiny`."""
        return DenoiserConfig(baseChannels=16, channelMultipliers=[1, 2], heads=2, groups=4, frames=4,
                              resolution=16, maxFrameDistance=4)

    def channels(self, level: int) -> int:
        return self.baseChannels * self.channelMultipliers[level]

    @property
    def embeddingDim(self) -> int:
        return 4 * self.baseChannels

    @staticmethod
    def from_json(text: str) -> "DenoiserConfig":
        d = json.loads(text)
        known = {k: d.pop(k) for k in list(d) if k in DenoiserConfig.__dataclass_fields__ and k != "extra"}
        return DenoiserConfig(**known, extra=d)

    def to_json(self) -> str:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "extra"}
        for key in ("temporalConvolution", "crossAttention", "temporalConditioning", "temporalPositions"):  # Swift writes these only when on
            if not d[key]:
                del d[key]
        if d["textWhitening"] is None:  # Swift writes it only when set
            del d["textWhitening"]
        d.update(self.extra)
        if "schedule" not in d:
            raise ValueError("config has no 'schedule'; build it from a Swift checkpoint's metadata")
        return canonical_json(d)


def canonical_json(value: Any) -> str:
    """JSON as Swift's JSONEncoder writes the config (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


class MultiHeadAttention(nn.Module):
    """Swift `MultiHeadAttention` (toQ/toK/toV/toOut, all with biases); cross-attention to
    `context` (width `contextDim`) when given."""

    def __init__(self, dim: int, heads: int, contextDim: int | None = None):
        super().__init__()
        self.heads = heads
        self.toQ = nn.Linear(dim, dim)
        self.toK = nn.Linear(contextDim or dim, dim)
        self.toV = nn.Linear(contextDim or dim, dim)
        self.toOut = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor, bias: torch.Tensor | None = None, context: torch.Tensor | None = None) -> torch.Tensor:
        b, l, dim = x.shape
        dh = dim // self.heads
        ctx = x if context is None else context
        lk = ctx.shape[1]
        q = self.toQ(x).reshape(b, l, self.heads, dh).permute(0, 2, 1, 3)
        k = self.toK(ctx).reshape(b, lk, self.heads, dh).permute(0, 2, 1, 3)
        v = self.toV(ctx).reshape(b, lk, self.heads, dh).permute(0, 2, 1, 3)
        # softmax(Q K^T / sqrt(dh) + bias) V; a float attn_mask is added to the scores.
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        y = y.permute(0, 2, 1, 3).reshape(b, l, dim)
        return self.toOut(y)


class ResBlock(nn.Module):
    """Swift `ResBlock`: conv1(SiLU(GN(x))), FiLM on GN, conv2(SiLU(.)), plus skip(x)."""

    def __init__(self, cin: int, cout: int, embeddingDim: int, groups: int):
        super().__init__()
        self.outChannels = cout
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.film = nn.Linear(embeddingDim, 2 * cout)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = None if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        n, c = x.shape[0], self.outChannels
        h = self.conv1(F.silu(self.norm1(x)))
        ss = self.film(F.silu(emb))
        scale = ss[:, :c].reshape(n, c, 1, 1)
        shift = ss[:, c:].reshape(n, c, 1, 1)
        h = self.norm2(h) * (scale + 1) + shift
        h = self.conv2(F.silu(h))
        return (x if self.skip is None else self.skip(x)) + h


class SpatialAttention(nn.Module):
    """Swift `SpatialAttention`: x + MHA(GN(x)) over the H*W pixels of each frame."""

    def __init__(self, channels: int, heads: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=1e-5)
        self.attention = MultiHeadAttention(channels, heads)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        tokens = self.norm(x).reshape(n, c, h * w).permute(0, 2, 1)
        y = self.attention(tokens).permute(0, 2, 1).reshape(n, c, h, w)
        return x + y


def token_mask(counts: torch.Tensor, width: int) -> torch.Tensor:
    """Swift `TokenStates.mask`: additive [items, 1, 1, width] mask keeping each item's first
    max(count, 1) tokens (an item without tokens attends to its all-zero first token)."""
    keep = torch.arange(width, device=counts.device)[None, :] < counts.clamp(min=1)[:, None]
    mask = torch.zeros(keep.shape, dtype=torch.float32, device=counts.device).masked_fill(~keep, float("-inf"))
    return mask[:, None, None, :]


class CrossAttention(nn.Module):
    """Swift `CrossAttention`: x + MHA(GN(x), tokens), the H*W positions of all of an item's
    frames as queries; the output projection starts at zero."""

    def __init__(self, channels: int, textDim: int, heads: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=1e-5)
        self.attention = MultiHeadAttention(channels, heads, contextDim=textDim)
        nn.init.zeros_(self.attention.toOut.weight)
        nn.init.zeros_(self.attention.toOut.bias)

    def forward(self, x: torch.Tensor, tokens: torch.Tensor, mask: torch.Tensor, frames: int) -> torch.Tensor:
        n, c, h, w = x.shape
        items = tokens.shape[0]
        q = self.norm(x).reshape(items, frames, c, h * w).permute(0, 1, 3, 2).reshape(items, frames * h * w, c)
        y = self.attention(q, bias=mask, context=tokens)
        return x + y.reshape(items, frames, h * w, c).permute(0, 1, 3, 2).reshape(n, c, h, w)


class TemporalConvolution(nn.Module):
    """Swift `TemporalConvolution`: x + conv3x3([a(t-1), a(t), a(t+1)] on channels), a = SiLU(GN(x)),
    zeros beyond the clip's ends; the convolution starts at zero."""

    def __init__(self, channels: int, groups: int):
        super().__init__()
        self.norm = nn.GroupNorm(groups, channels, eps=1e-5)
        self.conv = nn.Conv2d(3 * channels, channels, 3, padding=1)
        nn.init.zeros_(self.conv.weight)
        nn.init.zeros_(self.conv.bias)

    def forward(self, x: torch.Tensor, frames: int) -> torch.Tensor:
        bf, c, h, w = x.shape
        a = F.silu(self.norm(x)).reshape(bf // frames, frames, c, h, w)
        edge = torch.zeros_like(a[:, :1])
        previous = torch.cat([edge, a[:, :-1]], 1)
        following = torch.cat([a[:, 1:], edge], 1)
        return x + self.conv(torch.cat([previous, a, following], 2).reshape(bf, 3 * c, h, w))


class TemporalTransformer(nn.Module):
    """Swift `TemporalTransformer`: TGS attention softmax(QK^T/sqrt(d) + gamma*T)V over frames,
    T[h, i, j] = relativeBias[clamp(j - i, -D, D) + D, h], and a residualGate-gated residual.
    Fresh blocks start as Swift's: residualGate 1, zero output projections (attention.toOut, ff2).
    With `textDim` (Swift `temporalConditioning`) the clip's vector condition(text) is added to the
    input of both sub-blocks, not to the residual stream; `condition` starts at zero. With
    `positions` (Swift `temporalPositions`) each frame's vector position(phi(f)) is added there too,
    phi the frame index's sinusoidal features (`frame_position_features`); `position` starts at zero."""

    POSITION_FEATURES = 16

    def __init__(self, channels: int, heads: int, maxDistance: int, convolutionGroups: int | None = None,
                 textDim: int | None = None, positions: bool = False):
        super().__init__()
        self.convolution = None if convolutionGroups is None else TemporalConvolution(channels, convolutionGroups)
        self.condition = None if textDim is None else nn.Linear(textDim, channels)
        self.position = nn.Linear(self.POSITION_FEATURES, channels) if positions else None
        self.heads = heads
        self.maxDistance = maxDistance
        self.norm1 = nn.LayerNorm(channels, eps=1e-5)
        self.attention = MultiHeadAttention(channels, heads)
        self.norm2 = nn.LayerNorm(channels, eps=1e-5)
        self.ff1 = nn.Linear(channels, 2 * channels)
        self.ff2 = nn.Linear(2 * channels, channels)
        table = torch.zeros(2 * maxDistance + 1, heads)
        for d in range(-maxDistance, maxDistance + 1):
            for h in range(heads):
                slope = 2.0 ** (-8.0 * (h + 1) / heads)
                table[d + maxDistance, h] = -abs(d) * slope
        self.relativeBias = nn.Parameter(table)
        self.biasGate = nn.Parameter(torch.zeros(heads, 1, 1))
        self.residualGate = nn.Parameter(torch.ones(1))
        for p in (self.attention.toOut.weight, self.attention.toOut.bias, self.ff2.weight, self.ff2.bias):
            nn.init.zeros_(p)
        for layer in (self.condition, self.position):
            if layer is not None:
                nn.init.zeros_(layer.weight)
                nn.init.zeros_(layer.bias)

    @classmethod
    def frame_position_features(cls, frames: int) -> torch.Tensor:
        """Swift `framePositionFeatures`: sin and cos of 2 pi f / 2^(k+2) for k = 0..<8, `[F, 16]`."""
        f = torch.arange(frames, dtype=torch.float64).reshape(frames, 1)
        periods = torch.tensor([2.0 ** (k + 2) for k in range(cls.POSITION_FEATURES // 2)], dtype=torch.float64)
        angle = 2 * math.pi * f / periods
        return torch.stack([angle.sin(), angle.cos()], dim=2).reshape(frames, cls.POSITION_FEATURES).float()

    def toeplitz_bias(self, frames: int) -> torch.Tensor:
        """T, `[heads, F, F]`."""
        i = torch.arange(frames, device=self.relativeBias.device).reshape(frames, 1)
        j = torch.arange(frames, device=self.relativeBias.device).reshape(1, frames)
        idx = (j - i).clamp(-self.maxDistance, self.maxDistance) + self.maxDistance
        return self.relativeBias[idx].permute(2, 0, 1)

    def forward(self, x: torch.Tensor, frames: int, text: torch.Tensor | None = None) -> torch.Tensor:
        if self.convolution is not None:
            x = self.convolution(x, frames)
        bf, c, h, w = x.shape
        b = bf // frames
        seq = x.reshape(b, frames, c, h * w).permute(0, 3, 1, 2).reshape(b * h * w, frames, c)
        vector = None  # the clip's text vector [B, 1, 1, C] plus the frames' [1, 1, F, C], broadcast
        if self.condition is not None:
            if text is None:
                raise ValueError("this temporal block is text-conditioned: pass the clips' text")
            vector = self.condition(text).reshape(b, 1, 1, c)
        if self.position is not None:
            features = self.frame_position_features(frames).to(x.device, x.dtype)
            p = self.position(features).reshape(1, 1, frames, c)
            vector = p if vector is None else vector + p

        def conditioned(s):
            return s if vector is None else (s.reshape(b, h * w, frames, c) + vector).reshape(b * h * w, frames, c)

        bias = self.biasGate * self.toeplitz_bias(frames)
        gate = self.residualGate
        seq = seq + gate * self.attention(self.norm1(conditioned(seq)), bias=bias.unsqueeze(0))
        seq = seq + gate * self.ff2(F.gelu(self.ff1(self.norm2(conditioned(seq)))))
        return seq.reshape(b, h * w, frames, c).permute(0, 2, 3, 1).reshape(bf, c, h, w)


def whitening_statistics(rows: np.ndarray, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """Swift `TextWhitening.statistics`, in float64: the mean mu of `rows` [n, D] and the symmetric
    W = c sum_k v_k v_k^T / sqrt(lambda_k + eps) over the eigenpairs of their covariance
    (1/n) sum (r - mu)(r - mu)^T with lambda_k > 1e-9 lambda_max, c = 1 / sqrt(sum_k lambda_k /
    (lambda_k + eps)), so the mean of |W(r - mu)|^2 over the rows is 1."""
    rows = np.asarray(rows, dtype=np.float64)
    mu = rows.mean(axis=0)
    centred = rows - mu
    cov = centred.T @ centred / len(rows)
    values, vectors = np.linalg.eigh(cov)
    keep = values > 1e-9 * values.max()
    values, vectors = values[keep], vectors[:, keep]
    mean_square = float(np.sum(values / (values + epsilon)))
    w = (vectors / np.sqrt(values + epsilon)) @ vectors.T
    return mu, w * (1 / math.sqrt(mean_square) if mean_square > 0 else 1.0)


class TextWhitening(nn.Module):
    """Swift `TextWhitening`: the fixed map f(e) = W (e - |e| mu) of the pooled text `[B, D]`
    (W (e - mu) for a unit-length caption embedding; the zero, unconditional, embedding stays
    zero). `mean` [D] and `matrix` [D, D] are buffers, not parameters: Swift fits them once when
    a run starts and never trains them (`Parameter.trainable` false), so they stay out of the
    optimizer, weight decay, gradient clipping and the EMA, which all take `parameters()`, yet
    travel in `state_dict()` under the checkpoint keys `textWhitening.mean`, `.matrix`. A fresh
    module is the identity."""

    def __init__(self, dim: int):
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("matrix", torch.eye(dim))

    def fit(self, embeddings, epsilon: float) -> int:
        """Swift `TextWhitening.fit`: mu and W from the training captions' distinct embeddings
        `[n, D]`, zero rows (the empty caption) left out, stored as float32. Returns the number
        of rows fitted; raises ValueError with fewer than two or another width."""
        rows = np.asarray(embeddings, dtype=np.float64).reshape(len(embeddings), -1)
        dim = self.mean.shape[0]
        if rows.shape[1] != dim:
            raise ValueError(f"text whitening: every caption embedding must have {dim} values, got {rows.shape[1]}")
        rows = rows[(rows != 0).any(axis=1)]
        if len(rows) < 2:
            raise ValueError(f"text whitening needs at least two distinct non-empty captions, got {len(rows)}")
        mu, w = whitening_statistics(rows, epsilon)
        with torch.no_grad():
            self.mean.copy_(torch.from_numpy(mu.astype(np.float32)))
            self.matrix.copy_(torch.from_numpy(w.astype(np.float32)))
        return len(rows)

    def forward(self, text: torch.Tensor) -> torch.Tensor:
        # No gradient reaches the text (Swift computes it under `withoutGradients`), and the map
        # runs in float32 under bf16 autocast too, as Swift computes it.
        with torch.no_grad(), torch.autocast(text.device.type, enabled=False):
            e = text.float()
            return F.linear(e - e.norm(dim=1, keepdim=True) * self.mean, self.matrix)


class TimestepEmbedding(nn.Module):
    """Swift `TimestepEmbedding`: [cos(t f_i), sin(t f_i)], f_i = 10000^(-i/half), then MLP."""

    def __init__(self, features: int, embeddingDim: int):
        super().__init__()
        self.features = features
        self.linear1 = nn.Linear(features, embeddingDim)
        self.linear2 = nn.Linear(embeddingDim, embeddingDim)

    def sinusoidal(self, timesteps: torch.Tensor) -> torch.Tensor:
        half = self.features // 2
        freqs = torch.exp(-math.log(10000.0) * torch.arange(half, dtype=torch.float64, device=timesteps.device) / half)
        angle = timesteps.to(torch.float64).reshape(-1, 1) * freqs.reshape(1, -1)
        return torch.cat([torch.cos(angle), torch.sin(angle)], dim=1).to(torch.float32)

    def forward(self, timesteps: torch.Tensor) -> torch.Tensor:
        h = self.sinusoidal(timesteps).to(self.linear1.weight.device)
        return self.linear2(F.silu(self.linear1(h)))


class DownLevel(nn.Module):
    def __init__(self, resBlocks, crossAttention, temporal, downsample):
        super().__init__()
        self.resBlocks = nn.ModuleList(resBlocks)
        self.crossAttention = crossAttention
        self.temporal = temporal
        self.downsample = downsample


class UpLevel(nn.Module):
    def __init__(self, resBlocks, crossAttention, temporal, upsample):
        super().__init__()
        self.resBlocks = nn.ModuleList(resBlocks)
        self.crossAttention = crossAttention
        self.temporal = temporal
        self.upsample = upsample


class VideoDenoiser(nn.Module):
    """Swift `VideoDenoiser`: factorised space-time UNet; x `[B, F, C, H, W]` -> same shape."""

    def __init__(self, config: DenoiserConfig):
        super().__init__()
        self.config = cfg = config
        e, g, levels = cfg.embeddingDim, cfg.groups, len(cfg.channelMultipliers)

        def temporal(c):
            return TemporalTransformer(c, cfg.heads, cfg.maxFrameDistance,
                                       cfg.groups if cfg.temporalConvolution else None,
                                       cfg.textDim if cfg.temporalConditioning else None,
                                       cfg.temporalPositions) if cfg.temporal else None

        def cross_attention(c, level):
            if not cfg.crossAttention or (level is not None and level < levels - 2):
                return None
            return CrossAttention(c, cfg.textDim, cfg.heads, g)

        self.timeEmbedding = TimestepEmbedding(cfg.baseChannels, e)
        if cfg.textWhitening is not None and not (isinstance(cfg.textWhitening, (int, float))
                                                   and not isinstance(cfg.textWhitening, bool)
                                                   and math.isfinite(cfg.textWhitening) and cfg.textWhitening > 0):
            raise ValueError(f"textWhitening (its eps) must be positive, got {cfg.textWhitening!r}")
        self.textWhitening = None if cfg.textWhitening is None else TextWhitening(cfg.textDim)
        self.textProjection = nn.Linear(cfg.textDim, e)
        self.convIn = nn.Conv2d(cfg.inChannels, cfg.channels(0), 3, padding=1)

        down = []
        c = cfg.channels(0)
        for l in range(levels):
            out = cfg.channels(l)
            blocks = []
            for _ in range(cfg.resBlocksPerLevel):
                blocks.append(ResBlock(c, out, e, g))
                c = out
            ds = nn.Conv2d(out, out, 3, stride=2, padding=1) if l < levels - 1 else None
            down.append(DownLevel(blocks, cross_attention(out, l), temporal(out), ds))
        self.down = nn.ModuleList(down)

        self.midRes1 = ResBlock(c, c, e, g)
        self.midAttention = SpatialAttention(c, cfg.heads, g)
        self.midCrossAttention = cross_attention(c, None)
        self.midTemporal = temporal(c)
        self.midRes2 = ResBlock(c, c, e, g)

        up = []
        for l in reversed(range(levels)):
            out = cfg.channels(l)
            blocks = [ResBlock(c + out if r == 0 else out, out, e, g) for r in range(cfg.resBlocksPerLevel)]
            c = out
            us = nn.Conv2d(out, out, 3, padding=1) if l > 0 else None
            up.insert(0, UpLevel(blocks, cross_attention(out, l), temporal(out), us))
        self.up = nn.ModuleList(up)

        self.normOut = nn.GroupNorm(g, c, eps=1e-5)
        self.convOut = nn.Conv2d(c, cfg.inChannels, 3, padding=1)

    def forward(self, x: torch.Tensor, timesteps: torch.Tensor, text: torch.Tensor,
                tokens: torch.Tensor | None = None, token_counts: torch.Tensor | None = None) -> torch.Tensor:
        """Clips `[B, F, C, H, W]`, one timestep `[B]` and pooled text `[B, textDim]` per clip;
        `tokens` [B, L, textDim] zero-padded and `token_counts` [B] (Swift `TokenStates`): required
        with `crossAttention`, ignored without it."""
        b, f, ch, h, w = x.shape
        e = self.config.embeddingDim
        # With the whitening, its output replaces the prompt everywhere the pooled text is read
        # (the FiLM projection and the temporal stream), as in Swift.
        text = self._condition(text)
        emb_clip = self.timeEmbedding(timesteps) + self.textProjection(text)
        emb = emb_clip.reshape(b, 1, e).expand(b, f, e).reshape(b * f, e)
        hidden = self._unet(x.reshape(b * f, ch, h, w), emb, f, text, tokens, token_counts)
        return hidden.reshape(b, f, ch, h, w)

    def forward_images(self, x: torch.Tensor, timesteps: torch.Tensor, text: torch.Tensor,
                       tokens: torch.Tensor | None = None, token_counts: torch.Tensor | None = None) -> torch.Tensor:
        """Swift `callAsFunction(images:timesteps:text:tokens:)`: independent images `[N, C, H, W]`,
        each with its own timestep `[N]` and pooled text `[N, textDim]`, through the spatial layers
        only (the temporal stream is skipped: the image part of joint image-video training);
        `tokens`/`token_counts` one item per image, as in `forward`. Returns `[N, C, H, W]`."""
        if x.dim() != 4 or x.shape[1] != self.config.inChannels:
            raise ValueError(f"expected images of shape [N, {self.config.inChannels}, H, W], got {tuple(x.shape)}")
        text = self._condition(text)
        emb = self.timeEmbedding(timesteps) + self.textProjection(text)
        return self._unet(x, emb, None, text, tokens, token_counts)

    def _condition(self, text: torch.Tensor) -> torch.Tensor:
        """The pooled text the network reads: whitened (`config.textWhitening`) or as given."""
        return text if self.textWhitening is None else self.textWhitening(text)

    def _unet(self, x: torch.Tensor, emb: torch.Tensor, frames: int | None, text: torch.Tensor,
              tokens: torch.Tensor | None, token_counts: torch.Tensor | None) -> torch.Tensor:
        """The UNet on frames `[B*F, C, H, W]` with their embeddings `[B*F, E]` (Swift `forward`):
        `frames` is F for clips (the temporal blocks see the clips' `text`), None for independent
        images (temporal blocks skipped, one cross-attention item per image)."""
        per_item = 1 if frames is None else frames
        if self.config.crossAttention:
            if tokens is None or token_counts is None:
                raise ValueError("this model attends to the prompts' token states: pass tokens and token_counts")
            mask = token_mask(token_counts, tokens.shape[1])

        def attend(block, hidden):
            return hidden if block is None else block(hidden, tokens, mask, per_item)

        def relate(block, hidden):
            return hidden if block is None or frames is None else block(hidden, frames, text)

        hidden = self.convIn(x)
        skips = []
        for level in self.down:
            for block in level.resBlocks:
                hidden = block(hidden, emb)
            hidden = attend(level.crossAttention, hidden)
            hidden = relate(level.temporal, hidden)
            skips.append(hidden)
            if level.downsample is not None:
                hidden = level.downsample(hidden)

        hidden = self.midRes1(hidden, emb)
        hidden = self.midAttention(hidden)
        hidden = attend(self.midCrossAttention, hidden)
        hidden = relate(self.midTemporal, hidden)
        hidden = self.midRes2(hidden, emb)

        for level, skip in reversed(list(zip(self.up, skips))):
            hidden = torch.cat([hidden, skip], dim=1)
            for block in level.resBlocks:
                hidden = block(hidden, emb)
            hidden = attend(level.crossAttention, hidden)
            hidden = relate(level.temporal, hidden)
            if level.upsample is not None:
                hidden = level.upsample(F.interpolate(hidden, scale_factor=2, mode="nearest"))

        return self.convOut(F.silu(self.normOut(hidden)))


BUNDLE_PREFIXES = ("autoencoder.", "captions.")


def load_denoiser(path: str) -> tuple[VideoDenoiser, dict[str, str]]:
    """Reads a checkpoint written by t2v-render (or `save_denoiser`); strict on names and shapes."""
    from safetensors import safe_open

    with safe_open(path, framework="pt") as f:
        metadata = f.metadata() or {}
        if CONFIG_METADATA_KEY not in metadata:
            raise ValueError(f"{path}: no '{CONFIG_METADATA_KEY}' metadata; not a t2v-render denoiser checkpoint")
        # A latent model's autoencoder and the training captions ride along under their prefixes.
        tensors = {k: f.get_tensor(k).to(torch.float32) for k in f.keys() if not k.startswith(BUNDLE_PREFIXES)}
    model = VideoDenoiser(DenoiserConfig.from_json(metadata[CONFIG_METADATA_KEY]))
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise ValueError(f"{path}: missing tensors {missing[:5]}, unexpected tensors {extra[:5]}")
    for k, t in tensors.items():
        if tuple(t.shape) != tuple(expected[k].shape):
            raise ValueError(f"{path}: tensor {k} has shape {tuple(t.shape)}, expected {tuple(expected[k].shape)}")
    model.load_state_dict(tensors, strict=True)
    return model, metadata


def save_denoiser(model: VideoDenoiser, path: str, metadata: dict[str, str] | None = None,
                  state: dict[str, torch.Tensor] | None = None) -> None:
    """Writes float32 safetensors with the config JSON under `t2v.denoiser_config`, atomically, laid
    out byte for byte as Swift's `SafeTensors.write` lays it out: metadata keys sorted, tensors by
    name, header padded with spaces to 8 bytes. (The safetensors package orders the metadata map
    differently from run to run.) `state` replaces the model's own tensors (e.g. EMA weights)."""
    meta = dict(metadata or {})
    meta[CONFIG_METADATA_KEY] = model.config.to_json()
    write_swift_safetensors(path, state if state is not None else model.state_dict(), meta)


def write_swift_safetensors(path: str, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> None:
    """float32 safetensors laid out byte for byte as Swift's `SafeTensors.write` lays them out
    (metadata keys sorted, tensors by name, header padded with spaces to 8 bytes), atomically."""
    arrays = {k: v.detach().to(torch.float32).cpu().contiguous().numpy().astype("<f4", copy=False)
              for k, v in tensors.items()}
    names = sorted(arrays, key=lambda n: n.encode())
    parts = ['"__metadata__":{' + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{json.dumps(meta[k], ensure_ascii=False)}"
                                          for k in sorted(meta, key=lambda k: k.encode())) + "}"]
    offset = 0
    for name in names:
        a = arrays[name]
        shape = ",".join(str(d) for d in a.shape)
        parts.append(f'{json.dumps(name, ensure_ascii=False)}:{{"dtype":"F32","shape":[{shape}],'
                     f'"data_offsets":[{offset},{offset + a.nbytes}]}}')
        offset += a.nbytes
    header = ("{" + ",".join(parts) + "}").encode()
    header += b" " * ((8 - len(header) % 8) % 8)
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(len(header).to_bytes(8, "little"))
        f.write(header)
        for name in names:
            f.write(arrays[name].tobytes())
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
