"""Reference methods every comparison includes: the 50/50 blend and classical DIS-flow interpolation."""

from __future__ import annotations

import numpy as np
import torch

from rife_core.data.flow import backward_warp, dis_flows_at, to_u8
from rife_core.evaluation.evaluate import Predictor, evaluate, model_predictor


def blend(img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear cross-fade: (1 - t) * img0 + t * img1."""
    t = t.view(-1, 1, 1, 1)
    return (1 - t) * img0 + t * img1


def dis_interpolate(img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """DIS optical flow both ways; each frame is warped part of the way to time t, then blended.

    Frame0 is sampled at p + t * F(1->0)(p) and frame1 at p + (1 - t) * F(0->1)(p) (``dis_flows_at``).
    """
    out = []
    for a, b, tt in zip(img0, img1, t.view(-1).tolist(), strict=True):
        a8, b8 = to_u8(a), to_u8(b)
        to0, to1 = dis_flows_at(a8, b8, tt)
        w0 = backward_warp(a8, to0).astype(np.float32)
        w1 = backward_warp(b8, to1).astype(np.float32)
        mix = (1 - tt) * w0 + tt * w1
        out.append(torch.from_numpy(mix / 255).permute(2, 0, 1))
    return torch.stack(out).to(img0.device, img0.dtype)


METHODS = {"blend": blend, "dis": dis_interpolate}
BASELINES = tuple(METHODS)  # every evaluation table includes these


def blend_psnr(
    dataset, *, max_items: int | None = None, center: int | None = None, device: torch.device | str = "cpu"
) -> float:
    """The 50/50 blend's PSNR on ``dataset``, scored as ``evaluate`` scores a network: the plateau's level."""
    return evaluate(blend, dataset, max_items=max_items, center=center, device=device)["psnr"]


def baseline_psnr(
    dataset,
    parents: dict[str, torch.nn.Module] | None = None,
    *,
    max_items: int | None = None,
    center: int | None = None,
) -> dict[str, float]:
    """PSNR of the blend, DIS and each of ``parents`` (name -> loaded network) on the same triplets."""
    methods: dict[str, Predictor] = {**METHODS, **{name: model_predictor(net) for name, net in (parents or {}).items()}}
    return {name: evaluate(fn, dataset, max_items=max_items, center=center)["psnr"] for name, fn in methods.items()}
