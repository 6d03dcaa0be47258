#!/usr/bin/env python3
"""Writes the diffusion fixtures under Tests/GeneratorTests/Fixtures/diffusion from diffusers.

Oracle: Hugging Face diffusers (DDPMScheduler, DDIMScheduler, DPMSolverMultistepScheduler,
training_utils.compute_snr) on PyTorch, CPU, float32. Run from the repository root:

    python3 Tests/GeneratorTests/Scripts/make_scheduler_fixtures.py

Files written:
- schedules.json: betas and alphas_cumprod of the three beta schedules; timestep grids of each
  spacing for DDPM/DDIM and for DPM-Solver; add_noise and get_velocity on a batch with one
  timestep per sample; Min-SNR-5 loss weights for epsilon and v (the formula of diffusers'
  examples/text_to_image/train_text_to_image.py).
- scheduler_runs.json: whole sampling runs. For each case the data is per-element Gaussian
  N(mean, std^2); the model output at every step is the exact optimal predictor for that data
  (computed in float64 from diffusers' current sample) plus 0.05 N(0, 1) so that it is not
  exactly consistent; x_T, every model output, every noise array and every prev_sample that
  diffusers' step() returned are recorded. The Swift tests replay the model outputs and noise
  and compare each step's result.

  Inputs (betas, x_T, model outputs, noise) are float32 values, identical on both sides, but
  diffusers' scheduler state is promoted to float64 before stepping (`to_float64`). Its float32
  arithmetic is not a usable reference at rtol 1e-4: e.g. DDIM's direction coefficient
  sqrt(1 - abar_prev - std^2) at eta = 1 is a difference of O(1) numbers that are nearly equal
  at high noise, and loses up to 4% in float32 (the Swift code forms these coefficients in Double).
"""
import json
import os
import sys

import numpy as np
import torch
import diffusers
from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler
from diffusers.schedulers import scheduling_ddpm
from diffusers.training_utils import compute_snr

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "diffusion")

SCHEDULES = {
    "linear": dict(beta_schedule="linear", beta_start=0.0001, beta_end=0.02),
    "scaled_linear": dict(beta_schedule="scaled_linear", beta_start=0.00085, beta_end=0.012),
    "squaredcos_cap_v2": dict(beta_schedule="squaredcos_cap_v2"),
}


def floats(t):
    """A float32 tensor or array as a flat list of the exact float32 values."""
    a = t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)
    return [float(v) for v in a.astype(np.float32).reshape(-1)]


def doubles(t):
    """A float64 tensor as a flat list."""
    return [float(v) for v in t.detach().cpu().numpy().astype(np.float64).reshape(-1)]


def schedules_fixture():
    out = {"diffusers_version": diffusers.__version__, "torch_version": torch.__version__, "schedules": {}}
    for name, kw in SCHEDULES.items():
        s = DDPMScheduler(num_train_timesteps=1000, **kw)
        out["schedules"][name] = {"config": kw, "betas": floats(s.betas), "alphas_cumprod": floats(s.alphas_cumprod)}

    grids = []
    for spacing in ["leading", "trailing", "linspace"]:
        for steps in [1, 7, 10, 20, 25, 30, 50, 333, 1000]:
            for offset in [0, 1]:
                if offset and spacing != "leading":
                    continue
                s = DDIMScheduler(timestep_spacing=spacing, steps_offset=offset)
                s.set_timesteps(steps)
                d = DDPMScheduler(timestep_spacing=spacing, steps_offset=offset)
                d.set_timesteps(steps)
                assert d.timesteps.tolist() == s.timesteps.tolist()
                grids.append({"scheduler": "ddim", "spacing": spacing, "steps": steps, "offset": offset,
                              "timesteps": s.timesteps.tolist()})
                if steps < 1000:
                    p = DPMSolverMultistepScheduler(timestep_spacing=spacing, steps_offset=offset)
                    p.set_timesteps(steps)
                    grids.append({"scheduler": "dpm", "spacing": spacing, "steps": steps, "offset": offset,
                                  "timesteps": p.timesteps.tolist()})
    out["grids"] = grids

    g = torch.Generator().manual_seed(7)
    batch, dim = 6, 10
    x0 = torch.randn(batch, dim, generator=g)
    noise = torch.randn(batch, dim, generator=g)
    timesteps = torch.tensor([0, 1, 250, 500, 998, 999])
    forward = {"x0": floats(x0), "noise": floats(noise), "timesteps": timesteps.tolist(), "per_schedule": {}}
    for name, kw in SCHEDULES.items():
        s = DDPMScheduler(**kw)
        snr = compute_snr(s, timesteps)
        gamma = 5.0
        clipped = torch.stack([snr, gamma * torch.ones_like(timesteps)], dim=1).min(dim=1)[0]
        forward["per_schedule"][name] = {
            "noisy": floats(s.add_noise(x0, noise, timesteps)),
            "velocity": floats(s.get_velocity(x0, noise, timesteps)),
            "snr": [float(v) for v in snr.double()],
            "min_snr5_epsilon": [float(v) for v in (clipped / snr).double()],
            "min_snr5_v": [float(v) for v in (clipped / (snr + 1)).double()],
        }
    out["forward"] = forward
    return out


def optimal(sample, t, abar, mean, std, prediction):
    """The exact MMSE predictor for x0 ~ N(mean, std^2), evaluated in float64."""
    x = sample.double().numpy()
    a = float(abar[t]) if t >= 0 else 1.0
    al, si = np.sqrt(a), np.sqrt(1 - a)
    centred = x - al * mean
    den = a * std**2 + 1 - a
    eps = si * centred / den
    x0 = mean + al * std**2 * centred / den
    return {"epsilon": eps, "sample": x0, "v_prediction": al * eps - si * x0}[prediction]


def to_float64(s, kind):
    """Promotes the scheduler's coefficient tables to float64 (same values, exact conversion)."""
    s.betas = s.betas.double()
    s.alphas = 1.0 - s.betas
    s.alphas_cumprod = torch.cumprod(s.alphas, dim=0)
    if kind == "ddpm":
        s.one = torch.tensor(1.0, dtype=torch.float64)
    elif kind == "ddim":
        s.final_alpha_cumprod = (torch.tensor(1.0, dtype=torch.float64) if s.config.set_alpha_to_one
                                 else s.alphas_cumprod[0])
    else:
        abar = s.alphas_cumprod
        sig = ((1 - abar) / abar) ** 0.5
        last = 0.0 if s.config.final_sigmas_type == "zero" else float(sig[0])
        s.sigmas = torch.cat([sig[s.timesteps], torch.tensor([last], dtype=torch.float64)])


def run_case(name, kind, schedule, prediction, steps, spacing, dim, seed, **extra):
    kw = dict(SCHEDULES[schedule])
    kw.update(prediction_type=prediction, timestep_spacing=spacing)
    step_kw = {}
    if kind == "ddpm":
        kw.update(clip_sample=extra.get("clip_sample", False), variance_type=extra.get("variance_type", "fixed_small"),
                  steps_offset=extra.get("steps_offset", 0))
        s = DDPMScheduler(**kw)
    elif kind == "ddim":
        kw.update(clip_sample=extra.get("clip_sample", False), set_alpha_to_one=extra.get("set_alpha_to_one", True),
                  steps_offset=extra.get("steps_offset", 0))
        s = DDIMScheduler(**kw)
        step_kw["eta"] = extra.get("eta", 0.0)
    else:
        kw.update(algorithm_type="dpmsolver++", solver_type="midpoint", solver_order=extra.get("solver_order", 2),
                  lower_order_final=True, final_sigmas_type=extra.get("final_sigmas_type", "zero"),
                  steps_offset=extra.get("steps_offset", 0))
        s = DPMSolverMultistepScheduler(**kw)
    s.set_timesteps(steps)
    to_float64(s, kind)

    rng = np.random.default_rng(seed)
    mean = rng.uniform(-0.8, 0.8, dim)
    std = rng.uniform(0.1, 0.6, dim)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(1, dim, generator=g).double()  # diffusers wants a batch axis
    record = {"name": name, "scheduler": kind, "schedule": schedule, "prediction_type": prediction,
              "steps": steps, "spacing": spacing, "options": extra, "mean": floats(mean), "std": floats(std),
              "x_T": floats(x), "timesteps": s.timesteps.tolist(), "model_outputs": [], "noise": [], "prev_samples": []}
    abar = s.alphas_cumprod.double().numpy()
    for i, t in enumerate(s.timesteps.tolist()):
        out = optimal(x, t, abar, mean, std, prediction) + 0.05 * rng.standard_normal((1, dim))
        out = torch.from_numpy(out.astype(np.float32).astype(np.float64)).reshape(1, dim)
        noise = None
        if kind == "ddpm":
            # DDPMScheduler.step draws its own noise with randn_tensor; hand it ours instead.
            if t > 0:
                noise = torch.randn(1, dim, generator=torch.Generator().manual_seed(10_000 + i)).double()
            scheduling_ddpm.randn_tensor = lambda shape, **_: noise
            x = s.step(out, t, x).prev_sample
        elif kind == "ddim":
            if step_kw["eta"] > 0:
                noise = torch.randn(1, dim, generator=g).double()
            x = s.step(out, t, x, eta=step_kw["eta"], variance_noise=noise).prev_sample
        else:
            x = s.step(out, t, x).prev_sample
        record["model_outputs"].append(floats(out))
        record["noise"].append(floats(noise) if noise is not None else None)
        record["prev_samples"].append(doubles(x))
    return record


def runs_fixture():
    cases = [
        run_case("ddpm_linear_eps_1000", "ddpm", "linear", "epsilon", 1000, "leading", 4, 1),
        run_case("ddpm_linear_eps_50_leading_clip", "ddpm", "linear", "epsilon", 50, "leading", 16, 2, clip_sample=True),
        run_case("ddpm_cosine_v_25_trailing", "ddpm", "squaredcos_cap_v2", "v_prediction", 25, "trailing", 16, 3),
        run_case("ddpm_scaled_x0_20_linspace_large", "ddpm", "scaled_linear", "sample", 20, "linspace", 16, 4,
                 variance_type="fixed_large"),
        run_case("ddim_linear_eps_50_leading", "ddim", "linear", "epsilon", 50, "leading", 16, 5),
        run_case("ddim_cosine_v_20_trailing_eta1", "ddim", "squaredcos_cap_v2", "v_prediction", 20, "trailing", 16, 6, eta=1.0),
        run_case("ddim_scaled_x0_10_trailing_eta05", "ddim", "scaled_linear", "sample", 10, "trailing", 16, 7, eta=0.5),
        run_case("ddim_scaled_eps_25_leading_offset1_sd", "ddim", "scaled_linear", "epsilon", 25, "leading", 16, 8,
                 steps_offset=1, set_alpha_to_one=False),
        run_case("ddim_linear_eps_20_leading_clip", "ddim", "linear", "epsilon", 20, "leading", 16, 9, clip_sample=True),
        run_case("dpm_linear_eps_10_linspace", "dpm", "linear", "epsilon", 10, "linspace", 16, 10),
        run_case("dpm_linear_eps_20_trailing", "dpm", "linear", "epsilon", 20, "trailing", 16, 11),
        run_case("dpm_cosine_v_15_linspace", "dpm", "squaredcos_cap_v2", "v_prediction", 15, "linspace", 16, 12),
        run_case("dpm_scaled_x0_12_leading_sigmamin", "dpm", "scaled_linear", "sample", 12, "leading", 16, 13,
                 final_sigmas_type="sigma_min"),
        run_case("dpm_linear_v_20_trailing_sigmamin", "dpm", "linear", "v_prediction", 20, "trailing", 16, 14,
                 final_sigmas_type="sigma_min"),
        run_case("dpm_linear_eps_10_order1", "dpm", "linear", "epsilon", 10, "linspace", 16, 15, solver_order=1),
    ]
    return {"diffusers_version": diffusers.__version__, "torch_version": torch.__version__, "cases": cases}


def write(name, obj):
    path = os.path.join(OUT, name)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    os.replace(tmp, path)
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    write("schedules.json", schedules_fixture())
    write("scheduler_runs.json", runs_fixture())
