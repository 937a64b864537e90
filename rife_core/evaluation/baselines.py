"""Reference methods every comparison includes: the 50/50 blend and classical DIS-flow interpolation."""

from __future__ import annotations

import numpy as np
import torch

from rife_core.data.flow import backward_warp, dis_flow


def blend(img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear cross-fade: (1 - t) * img0 + t * img1."""
    t = t.view(-1, 1, 1, 1)
    return (1 - t) * img0 + t * img1


def _to_u8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()


def dis_interpolate(img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """DIS optical flow both ways; each frame is warped part of the way to time t, then blended.

    Frame0 is sampled at p + t * F(1->0)(p) and frame1 at p + (1 - t) * F(0->1)(p): flow at the target
    is approximated by the opposite flow at the same pixel (linear motion), as in classical VFI baselines.
    """
    out = []
    for a, b, tt in zip(img0, img1, t.view(-1).tolist(), strict=True):
        a8, b8 = _to_u8(a), _to_u8(b)
        f01, f10 = dis_flow(a8, b8), dis_flow(b8, a8)
        w0 = backward_warp(a8, tt * f10).astype(np.float32)
        w1 = backward_warp(b8, (1 - tt) * f01).astype(np.float32)
        mix = (1 - tt) * w0 + tt * w1
        out.append(torch.from_numpy(mix / 255).permute(2, 0, 1))
    return torch.stack(out).to(img0.device, img0.dtype)


METHODS = {"blend": blend, "dis": dis_interpolate}
BASELINES = tuple(METHODS)  # every evaluation table includes these
