"""Training data for the twin's trainer: clips from a pack or, lazily, from `extract`'s shards, and
the random draws of each step, keyed so that they do not depend on how many processes train.

A step's global batch (B = per-rank batch x world size) is drawn from a stream keyed by (seed,
step): which clips, which are trained unconditionally, which timesteps. Every rank draws the same
global batch and takes its own slice [rank*b, (rank+1)*b); each sample's noise comes from a stream
keyed by (seed, step, its place in the global batch). With joint image-video training the last
slots of the global batch hold independent frames instead of clips (`frames` per slot): their
clips, frames, dropout and timesteps come from a stream keyed by (seed, step) of its own, and a
slot's noise (`frames` images) from its place's stream, as a clip's. So one process with batch 4 and two with
batch 2 see the same samples and the same noise, and a run resumes at any world size with the same
global batch to the same draws.

train-autoencoder (autoencoder_train.py) reads `extract`'s dataset itself (`open_dataset`), one
crop of one frame at a time; crop number n of the run (step x global batch + place) takes its
clip, frame, position and posterior noise from a stream keyed by (seed, n) (`crop_draws`).
"""
from __future__ import annotations

import json
import os

import numpy as np

MASK64 = (1 << 64) - 1


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


def stream_key(*parts: int) -> int:
    """A 63-bit torch seed from integers (seed, step, sample, purpose): distinct keys give
    unrelated streams."""
    h = 0
    for p in parts:
        h = _splitmix64(h ^ (int(p) & MASK64))
    return h & ((1 << 63) - 1)


DRAWS, NOISE, IMAGES, TEXT_NOISE, HIGH_NOISE, CAPTION = 1, 2, 5, 6, 7, 8  # stream purposes (train)
CROP, SCALE = 3, 4  # stream purposes (train-autoencoder)


def read_safetensors_header(path: str) -> tuple[dict, int]:
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        return json.loads(f.read(n)), 8 + n


class PackedClips:
    """Clips held in memory: a uint8 array [N, T, H, W, 3] (a pack's `clips`)."""

    def __init__(self, clips: np.ndarray):
        self.clips = clips
        self.shape = tuple(clips.shape[1:])

    def __len__(self) -> int:
        return len(self.clips)

    def get(self, indices) -> np.ndarray:
        return np.stack([np.asarray(self.clips[int(i)]) for i in indices])

    def frames(self, indices, frame_indices) -> np.ndarray:
        """Frame k of clip i for each pair: uint8 [N, H, W, 3]."""
        return np.stack([np.asarray(self.clips[int(i), int(k)]) for i, k in zip(indices, frame_indices)])


class ShardClips:
    """Clips read lazily from an `extract` dataset: each shard's `clips` tensor (U8 [n, T, H, W, 3])
    memory-mapped, only the pages of the clips a rank trains on ever read. `records` lists
    (shard file name, index) in the pack's clip order."""

    def __init__(self, dataset: str, records: list[tuple[str, int]]):
        self.dataset = dataset
        self.records = records
        self._maps: dict[str, np.memmap] = {}
        self.shape = None
        for name in sorted({s for s, _ in records}):
            path = os.path.join(dataset, name)
            if not os.path.isfile(path):
                raise SystemExit(f"{path}: shard not found; pass --dataset with the folder `extract` wrote")
            header, start = read_safetensors_header(path)
            info = header.get("clips")
            if info is None or info["dtype"] != "U8" or len(info["shape"]) != 5:
                raise SystemExit(f"{path}: no U8 [N, T, H, W, 3] tensor named 'clips'")
            shape = tuple(info["shape"][1:])
            if self.shape is not None and shape != self.shape:
                raise SystemExit(f"{path}: clips are {list(shape)}, other shards hold {list(self.shape)}")
            self.shape = shape
            begin, end = info["data_offsets"]
            if end - begin != int(np.prod(info["shape"])):
                raise SystemExit(f"{path}: 'clips' data size does not match its shape")
            self._maps[name] = np.memmap(path, dtype=np.uint8, mode="r", offset=start + begin,
                                         shape=tuple(info["shape"]))
        for name, index in records:
            if not 0 <= index < len(self._maps[name]):
                raise SystemExit(f"{os.path.join(dataset, name)}: clip {index} is out of range")

    def __len__(self) -> int:
        return len(self.records)

    def get(self, indices) -> np.ndarray:
        out = []
        for i in indices:
            name, index = self.records[int(i)]
            out.append(np.asarray(self._maps[name][index]))
        return np.stack(out)

    def frames(self, indices, frame_indices) -> np.ndarray:
        """Frame k of clip i for each pair: uint8 [N, H, W, 3]; only those frames are read."""
        out = []
        for i, k in zip(indices, frame_indices):
            name, index = self.records[int(i)]
            out.append(np.asarray(self._maps[name][index, int(k)]))
        return np.stack(out)

    def crop(self, i: int, frame: int, top: int, left: int, size: int) -> np.ndarray:
        """A `size` x `size` crop [size, size, 3] (uint8) of one frame of clip `i`: only its rows are read."""
        name, index = self.records[int(i)]
        return np.asarray(self._maps[name][index, frame, top:top + size, left:left + size])

    def frame(self, i: int, frame: int, height: int, width: int) -> np.ndarray:
        """The top-left `height` x `width` of one frame of clip `i` [height, width, 3] (uint8)."""
        name, index = self.records[int(i)]
        return np.asarray(self._maps[name][index, frame, :height, :width])


def open_dataset(folder: str) -> ShardClips:
    """An `extract` dataset (manifest.jsonl + shards), its clips in manifest order, read lazily
    (Swift `DatasetLoader`: every clip must have the manifest's first clip's shape)."""
    manifest = os.path.join(folder, "manifest.jsonl")
    if not os.path.isfile(manifest):
        raise SystemExit(f"{folder}: no manifest.jsonl; create a dataset with `t2v-render extract VIDEOS... -o {folder}`")
    with open(manifest) as f:
        records = [json.loads(line) for line in f if line.strip()]
    if not records:
        raise SystemExit(f"{folder}: no clips (manifest.jsonl is empty)")
    shape = (records[0]["frames"], records[0]["height"], records[0]["width"])
    for r in records:
        if (r["frames"], r["height"], r["width"]) != shape:
            raise SystemExit(f"{folder}: clips differ in shape ({r['shard']}#{r['index']} is "
                             f"{r['frames']}x{r['height']}x{r['width']})")
    clips = ShardClips(folder, [(r["shard"], int(r["index"])) for r in records])
    if tuple(clips.shape) != (*shape, 3):
        raise SystemExit(f"{folder}: the shards hold clips of {list(clips.shape)}, the manifest says "
                         f"{shape[0]}x{shape[1]}x{shape[2]}; the dataset is damaged")
    return clips


def open_clips(pack, dataset: str | None):
    """The pack's clips: in memory when the pack holds them, else from the shards it indexes
    (in `dataset`, default the folder recorded when the pack was made)."""
    if "clips" in pack.files:
        return PackedClips(pack["clips"])
    meta = json.loads(str(pack["meta_json"]))
    folder = dataset or meta["dataset"]
    names = [str(s) for s in pack["shard_names"]]
    records = [(names[s], int(i)) for s, i in zip(pack["shard_of"], pack["index_in_shard"])]
    return ShardClips(folder, records)


def step_draws(torch, seed: int, step: int, global_batch: int, n_clips: int, train_steps: int,
               dropout: float):
    """The global batch of 0-based `step`: clip indices, unconditional flags, timesteps (CPU)."""
    g = torch.Generator().manual_seed(stream_key(seed, step, DRAWS))
    idx = torch.randint(n_clips, (global_batch,), generator=g)
    drop = torch.rand(global_batch, generator=g) < dropout
    t = torch.randint(train_steps, (global_batch,), generator=g)
    return idx, drop, t


def image_draws(torch, seed: int, step: int, count: int, n_clips: int, frames: int, train_steps: int,
                dropout: float):
    """The `count` independent frames of 0-based `step`'s image slots (slot after slot, `frames`
    per slot): the clip and frame each comes from, unconditional flags, timesteps (CPU)."""
    g = torch.Generator().manual_seed(stream_key(seed, step, IMAGES))
    clip = torch.randint(n_clips, (count,), generator=g)
    frame = torch.randint(frames, (count,), generator=g)
    drop = torch.rand(count, generator=g) < dropout
    t = torch.randint(train_steps, (count,), generator=g)
    return clip, frame, drop, t


def high_noise_timesteps(torch, seed: int, step: int, t, share: float, start: int, train_steps: int, purpose: int):
    """--high-noise-fraction: each timestep of `t` replaced, with probability `share`, by one drawn
    uniformly from [start, train_steps), from a stream of its own (`purpose`: DRAWS for the clips,
    IMAGES for the image slots), so a run without it draws what it drew before (CPU)."""
    if share <= 0:
        return t
    g = torch.Generator().manual_seed(stream_key(seed, step, HIGH_NOISE, purpose))
    u = torch.rand(t.shape[0], generator=g)
    band = start + torch.randint(train_steps - start, (t.shape[0],), generator=g)
    return torch.where(u < share, band, t)


def text_noise_draws(torch, seed: int, step: int, positions, per_position: int, dim: int):
    """--text-noise's draws for each global-batch position (`per_position` embeddings: 1 for a
    clip, `frames` for an image slot), each position from its own stream: the uniform [0, 1)
    fraction of the noise scale and z ~ N(0, I) of `dim` values per embedding (CPU)."""
    u, z = [], []
    for p in positions:
        g = torch.Generator().manual_seed(stream_key(seed, step, int(p), TEXT_NOISE))
        u.append(torch.rand(per_position, generator=g))
        z.append(torch.randn(per_position, dim, generator=g))
    return torch.cat(u), torch.cat(z)


def caption_draws(torch, seed: int, step: int, positions, per_position: int):
    """Which of its captions each embedding of the global-batch positions trains under (a clip
    with alternatives): a uniform [0, 1) value per embedding, each position from its own stream."""
    return torch.cat([torch.rand(per_position, generator=torch.Generator().manual_seed(
        stream_key(seed, step, int(p), CAPTION))) for p in positions])


def choose_captions(caption_index, offsets, alternatives, rows, u):
    """The caption row each of clips `rows` trains under: its own (`caption_index`) or one of its
    alternatives (`alternatives[offsets[r]:offsets[r + 1]]`), uniformly by `u` in [0, 1) (Swift
    `TrainingClip.drawingCaption`: k = floor(u (n + 1)) of the clip's n + 1 captions, 0 its own)."""
    chosen = caption_index[rows].clone()
    for j, (r, uj) in enumerate(zip(rows.tolist(), u.tolist())):
        lo, hi = int(offsets[r]), int(offsets[r + 1])
        k = min(int(uj * (hi - lo + 1)), hi - lo)
        if k > 0:
            chosen[j] = int(alternatives[lo + k - 1])
    return chosen


def sample_noise(torch, seed: int, step: int, positions, shape) -> "torch.Tensor":
    """N(0, I) noise of `shape` for each global-batch position, each from its own stream (CPU)."""
    out = []
    for p in positions:
        g = torch.Generator().manual_seed(stream_key(seed, step, int(p), NOISE))
        out.append(torch.randn(shape, generator=g))
    return torch.stack(out)


def crop_draws(torch, seed: int, sample: int, n_clips: int, frames: int, height: int, width: int,
               crop: int, latent_shape):
    """train-autoencoder's draws for global sample number `sample` (step x global batch +
    position): clip, frame, top, left (Swift's order, each uniform), then the posterior noise
    N(0, I) of `latent_shape`, all from one stream keyed by (seed, sample)."""
    g = torch.Generator().manual_seed(stream_key(seed, sample, CROP))
    clip = int(torch.randint(n_clips, (1,), generator=g))
    frame = int(torch.randint(frames, (1,), generator=g))
    top = int(torch.randint(height - crop + 1, (1,), generator=g))
    left = int(torch.randint(width - crop + 1, (1,), generator=g))
    eps = torch.randn(tuple(latent_shape), generator=g)
    return clip, frame, top, left, eps


def scale_draws(torch, seed: int, count: int, n_clips: int, frames: int) -> list[tuple[int, int]]:
    """The (clip, frame) pairs the latent scale is measured on: a stream of its own keyed by seed."""
    g = torch.Generator().manual_seed(stream_key(seed, SCALE))
    out = []
    for _ in range(count):
        clip = int(torch.randint(n_clips, (1,), generator=g))
        out.append((clip, int(torch.randint(frames, (1,), generator=g))))
    return out
