"""PyTorch twin of t2v-render's VideoDenoiser (Sources/Generator/Model).

Same architecture, same parameter names, same safetensors checkpoint format (float32 tensors,
DenoiserConfig JSON under the metadata key `t2v.denoiser_config`), so a model trained with
PyTorch renders with t2v-render and vice versa.
"""
from .model import (CONFIG_METADATA_KEY, DenoiserConfig, VideoDenoiser, load_denoiser,
                    save_denoiser)

__all__ = ["CONFIG_METADATA_KEY", "DenoiserConfig", "VideoDenoiser", "load_denoiser", "save_denoiser"]
