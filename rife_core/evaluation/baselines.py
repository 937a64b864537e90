"""Reference methods every comparison includes: the 50/50 blend and classical DIS-flow interpolation."""

from __future__ import annotations

import cv2
import numpy as np
import torch

# OpenCV's DIS preset: MEDIUM is the usual accuracy/speed balance for frame interpolation baselines.
DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM


def blend(img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear cross-fade: (1 - t) * img0 + t * img1."""
    t = t.view(-1, 1, 1, 1)
    return (1 - t) * img0 + t * img1


def _to_u8(x: torch.Tensor) -> np.ndarray:
    return (x.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()


def _sample(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """Backward warp: out(p) = img(p + flow(p)), bilinear, border replicated."""
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def dis_interpolate(img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """DIS optical flow both ways; each frame is warped part of the way to time t, then blended.

    Frame0 is sampled at p + t * F(1->0)(p) and frame1 at p + (1 - t) * F(0->1)(p): flow at the target
    is approximated by the opposite flow at the same pixel (linear motion), as in classical VFI baselines.
    """
    dis = cv2.DISOpticalFlow_create(DIS_PRESET)
    out = []
    for a, b, tt in zip(img0, img1, t.view(-1).tolist(), strict=True):
        a8, b8 = _to_u8(a), _to_u8(b)
        ga, gb = cv2.cvtColor(a8, cv2.COLOR_RGB2GRAY), cv2.cvtColor(b8, cv2.COLOR_RGB2GRAY)
        f01 = dis.calc(ga, gb, None)
        f10 = dis.calc(gb, ga, None)
        w0 = _sample(a8, tt * f10).astype(np.float32)
        w1 = _sample(b8, (1 - tt) * f01).astype(np.float32)
        mix = (1 - tt) * w0 + tt * w1
        out.append(torch.from_numpy(mix / 255).permute(2, 0, 1))
    return torch.stack(out).to(img0.device, img0.dtype)


METHODS = {"blend": blend, "dis": dis_interpolate}
BASELINES = tuple(METHODS)  # every evaluation table includes these
