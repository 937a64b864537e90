"""The classical flow prior of ``ArchConfig.flow_init``: OpenCV DIS both ways, turned into flows at time t.

The prior is exactly what the DIS interpolation baseline (``rife_core.evaluation.baselines``) samples
with: frame0 at p + t * F(1->0)(p), frame1 at p + (1 - t) * F(0->1)(p) (linear motion, the opposite flow
at the same pixel), with the baseline's blend weights as the initial mask. A network whose residual and
mask are zero therefore computes DIS interpolation (up to the warp's arithmetic); what it learns is the
correction. DIS runs on the CPU in OpenCV, outside autograd and outside the ONNX graph, whose export takes
the prior as an input (``flow_init``); ``dis_prior`` is the reference way to compute it.
"""

from __future__ import annotations

import numpy as np
import torch

from rife_core.data.flow import DIS_PRESETS, dis_flows_at, to_u8


def dis_preset(flow_init: str) -> int:
    """OpenCV's preset constant for ``flow_init`` = ``dis_<preset>``."""
    name = flow_init.removeprefix("dis_")
    if not flow_init.startswith("dis_") or name not in DIS_PRESETS:
        raise ValueError(f"flow_init {flow_init!r} is not a DIS prior; use dis_{'/dis_'.join(DIS_PRESETS)}")
    return DIS_PRESETS[name]


@torch.no_grad()
def dis_prior(img0: torch.Tensor, img1: torch.Tensor, timestep: torch.Tensor, flow_init: str) -> torch.Tensor:
    """(B, 4, H, W) flows in pixels from the frame at t into frame0 (channels 0-1) and frame1 (2-3).

    ``timestep``: one value, or one per batch item (any shape with that many elements).
    """
    preset = dis_preset(flow_init)
    b = img0.shape[0]
    ts = timestep.detach().reshape(-1).float().cpu().tolist()
    ts = ts * b if len(ts) == 1 else ts
    out = []
    for a, c, t in zip(img0, img1, ts, strict=True):
        to0, to1 = dis_flows_at(to_u8(a), to_u8(c), t, preset)
        out.append(torch.from_numpy(np.concatenate((to0, to1), axis=2)).permute(2, 0, 1))
    return torch.stack(out).to(img0.device, img0.dtype)


def prior_mask_logit(timestep: torch.Tensor) -> torch.Tensor:
    """(B or 1, 1, 1, 1) fusion-mask logit of the DIS baseline's blend: weight 1 - t on warped frame0."""
    t = timestep.reshape(-1, 1, 1, 1)
    return torch.log(1 - t) - torch.log(t)
