"""The VideoAutoencoder of Sources/Generator/Autoencoder in PyTorch, module for module.

Every class mirrors a Swift class of the same name and every attribute a stored property, so
`state_dict()` keys are the Swift file's keys (`encoder.down.0.resBlocks.0.conv1.weight`, ...), and
`load_autoencoder`/`save_autoencoder` read and write the same file: float32 safetensors with the
AutoencoderConfig JSON under `t2v.autoencoder_config` and the latent scale factor under
`t2v.latent_scale`. Numerics follow the Swift engine: GroupNorm eps 1e-5, stride-2 3x3
convolutions with padding 1, nearest 2x upsampling, log-variance clamped to [-30, 20].

    from t2v_twin.autoencoder import load_autoencoder
    ae, meta = load_autoencoder("ae.safetensors")
    z = ae.latents(frames)            # [B, T, 3, H, W] in [-1, 1] -> [B, T, C, H/f, W/f], scaled
    frames = ae.decode(z)
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from .model import write_swift_safetensors

AUTOENCODER_CONFIG_KEY = "t2v.autoencoder_config"
LATENT_SCALE_KEY = "t2v.latent_scale"
DENOISER_CONFIG_KEY = "t2v.denoiser_config"
TRAINING_CONFIG_KEY = "t2v.autoencoder_training_config"
LOGVAR_RANGE = (-30.0, 20.0)


def canonical_json(value) -> str:
    """JSON as Swift's JSONEncoder writes the config (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@dataclass
class AutoencoderConfig:
    """Mirror of Swift `AutoencoderConfig` (JSON field names are the Swift property names; fields the
    JSON leaves out keep these defaults, as Swift's decoder does)."""

    imageChannels: int = 3
    channels: list = field(default_factory=lambda: [32, 64, 128])
    latentChannels: int = 4
    resBlocks: int = 1
    groups: int = 8

    @staticmethod
    def tiny() -> "AutoencoderConfig":
        """Swift `AutoencoderConfig.tiny`."""
        return AutoencoderConfig(channels=[8, 16, 16], groups=4)

    @property
    def downsamplingFactor(self) -> int:
        return 1 << max(len(self.channels) - 1, 0)

    @staticmethod
    def from_json(text: str) -> "AutoencoderConfig":
        d = json.loads(text)
        return AutoencoderConfig(**{k: d[k] for k in AutoencoderConfig.__dataclass_fields__ if k in d})

    def to_json(self) -> str:
        return canonical_json({k: getattr(self, k) for k in self.__dataclass_fields__})


class AutoencoderResBlock(nn.Module):
    """Swift `AutoencoderResBlock`: conv1(SiLU(GN(x))), conv2(SiLU(GN(.))), plus skip(x)."""

    def __init__(self, cin: int, cout: int, groups: int):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.skip = None if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (x if self.skip is None else self.skip(x)) + h


class EncoderLevel(nn.Module):
    def __init__(self, resBlocks, downsample):
        super().__init__()
        self.resBlocks = nn.ModuleList(resBlocks)
        self.downsample = downsample


class DecoderLevel(nn.Module):
    def __init__(self, resBlocks, upsample):
        super().__init__()
        self.resBlocks = nn.ModuleList(resBlocks)
        self.upsample = upsample


class AutoencoderEncoder(nn.Module):
    """Swift `AutoencoderEncoder`: [N, 3, H, W] -> [N, 2C, H/f, W/f] (mean, then log-variance)."""

    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        levels, g = len(cfg.channels), cfg.groups
        self.convIn = nn.Conv2d(cfg.imageChannels, cfg.channels[0], 3, padding=1)
        c = cfg.channels[0]
        down = []
        for l in range(levels):
            out = cfg.channels[l]
            blocks = []
            for _ in range(cfg.resBlocks):
                blocks.append(AutoencoderResBlock(c, out, g))
                c = out
            ds = nn.Conv2d(out, out, 3, stride=2, padding=1) if l < levels - 1 else None
            down.append(EncoderLevel(blocks, ds))
        self.down = nn.ModuleList(down)
        self.normOut = nn.GroupNorm(g, c, eps=1e-5)
        self.convOut = nn.Conv2d(c, 2 * cfg.latentChannels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.convIn(x)
        for level in self.down:
            for block in level.resBlocks:
                h = block(h)
            if level.downsample is not None:
                h = level.downsample(h)
        return self.convOut(F.silu(self.normOut(h)))


class AutoencoderDecoder(nn.Module):
    """Swift `AutoencoderDecoder`: [N, C, h, w] -> [N, 3, f*h, f*w]; levels stored top first."""

    def __init__(self, cfg: AutoencoderConfig):
        super().__init__()
        levels, g = len(cfg.channels), cfg.groups
        c = cfg.channels[-1]
        self.convIn = nn.Conv2d(cfg.latentChannels, c, 3, padding=1)
        up = []
        for l in reversed(range(levels)):
            out = cfg.channels[l]
            blocks = []
            for _ in range(cfg.resBlocks):
                blocks.append(AutoencoderResBlock(c, out, g))
                c = out
            us = nn.Conv2d(out, out, 3, padding=1) if l > 0 else None
            up.insert(0, DecoderLevel(blocks, us))
        self.up = nn.ModuleList(up)
        self.normOut = nn.GroupNorm(g, c, eps=1e-5)
        self.convOut = nn.Conv2d(c, cfg.imageChannels, 3, padding=1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = self.convIn(z)
        for level in reversed(self.up):
            for block in level.resBlocks:
                h = block(h)
            if level.upsample is not None:
                h = level.upsample(F.interpolate(h, scale_factor=2, mode="nearest"))
        return self.convOut(F.silu(self.normOut(h)))


class VideoAutoencoder(nn.Module):
    """Swift `VideoAutoencoder`: a per-frame VAE; frames [N, 3, H, W] or [B, T, 3, H, W].

    `encode` gives the unscaled posterior (mean, log-variance); `sample`, `latents` multiply by
    `scaleFactor` and `decode` divides by it (the diffusion model's unit-variance latent space)."""

    def __init__(self, config: AutoencoderConfig, scaleFactor: float = 1.0):
        super().__init__()
        self.config = config
        self.encoder = AutoencoderEncoder(config)
        self.decoder = AutoencoderDecoder(config)
        self.scaleFactor = float(scaleFactor)

    def _images(self, frames: torch.Tensor):
        lead = tuple(frames.shape[:-3])
        return frames.reshape(-1, *frames.shape[-3:]), lead

    def encode(self, frames: torch.Tensor):
        x, lead = self._images(frames)
        c = self.config.latentChannels
        moments = self.encoder(x)
        mean, logvar = moments[:, :c], moments[:, c:].clamp(*LOGVAR_RANGE)
        shape = lead + tuple(mean.shape[1:])
        return mean.reshape(shape), logvar.reshape(shape)

    def sample(self, mean: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        """scaleFactor * (mean + exp(logvar / 2) * eps); Swift draws eps from its Philox stream."""
        z = mean + torch.exp(0.5 * logvar) * eps
        return z if self.scaleFactor == 1 else z * self.scaleFactor

    def latents(self, frames: torch.Tensor) -> torch.Tensor:
        mean, _ = self.encode(frames)
        return mean if self.scaleFactor == 1 else mean * self.scaleFactor

    def decode(self, latents: torch.Tensor) -> torch.Tensor:
        z, lead = self._images(latents)
        if self.scaleFactor != 1:
            z = z * (1 / self.scaleFactor)
        x = self.decoder(z)
        return x.reshape(lead + tuple(x.shape[1:]))

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """The deterministic reconstruction decode(latents(frames))."""
        return self.decode(self.latents(frames))


def float32_text(value: float) -> str:
    """The shortest decimal that reads back as the same float32 (what Swift's `String(Float)` writes)."""
    return str(np.float32(value))


def load_autoencoder(path: str) -> tuple[VideoAutoencoder, dict[str, str]]:
    """Reads a file written by `t2v-render train-autoencoder` (or `save_autoencoder`); strict on
    names and shapes. Raises ValueError naming the file and what is wrong."""
    from safetensors import safe_open

    try:
        with safe_open(path, framework="pt") as f:
            metadata = f.metadata() or {}
            tensors = {k: f.get_tensor(k).to(torch.float32) for k in f.keys()}
    except Exception as e:  # the safetensors package raises several types
        raise ValueError(f"{path}: not a readable safetensors file ({e})") from e
    if TRAINING_CONFIG_KEY in metadata:
        raise ValueError(f"{path}: an autoencoder training checkpoint, not the trained autoencoder; "
                         "pass the -o file of `t2v-render train-autoencoder`")
    if AUTOENCODER_CONFIG_KEY not in metadata:
        what = "a denoiser checkpoint" if DENOISER_CONFIG_KEY in metadata else "not a t2v-render autoencoder"
        raise ValueError(f"{path}: no '{AUTOENCODER_CONFIG_KEY}' metadata; {what}")
    if LATENT_SCALE_KEY not in metadata:
        raise ValueError(f"{path}: no '{LATENT_SCALE_KEY}' metadata (the latent scale factor)")
    scale = float(np.float32(metadata[LATENT_SCALE_KEY]))
    if not (np.isfinite(scale) and scale > 0):
        raise ValueError(f"{path}: latent scale '{metadata[LATENT_SCALE_KEY]}' is not a positive number")
    model = VideoAutoencoder(AutoencoderConfig.from_json(metadata[AUTOENCODER_CONFIG_KEY]), scale)
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


def save_autoencoder(model: VideoAutoencoder, path: str, metadata: dict[str, str] | None = None,
                     state: dict[str, torch.Tensor] | None = None) -> None:
    """Writes float32 safetensors with the config JSON under `t2v.autoencoder_config` and the scale
    under `t2v.latent_scale`, atomically, laid out as Swift's `SafeTensors.write` lays it out
    (metadata keys sorted, tensors by name, header padded with spaces to 8 bytes). `state` replaces
    the model's own tensors (e.g. EMA weights)."""
    meta = dict(metadata or {})
    meta[AUTOENCODER_CONFIG_KEY] = model.config.to_json()
    meta[LATENT_SCALE_KEY] = float32_text(model.scaleFactor)
    write_swift_safetensors(path, state if state is not None else model.state_dict(), meta)
