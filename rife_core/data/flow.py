"""Classical optical flow and backward warping on NumPy frames: the one DIS set-up the project uses.

The DIS interpolation baseline, the network's DIS prior, large-motion subsets and distillation teachers all
take their flow from ``dis_flow`` (at time t: ``dis_flows_at``) and warp with ``backward_warp``.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

# OpenCV's DIS preset: MEDIUM is the usual accuracy/speed balance for frame interpolation baselines.
DIS_PRESET = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM
DIS_PRESETS = {
    "ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST,
    "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
    "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM,
}


def _gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(img), cv2.COLOR_RGB2GRAY)


def dis_flow(src: np.ndarray, dst: np.ndarray, preset: int = DIS_PRESET) -> np.ndarray:
    """(H, W, 2) float32 DIS flow between two uint8 RGB frames: ``src(p) ~ dst(p + flow(p))``."""
    return cv2.DISOpticalFlow_create(preset).calc(_gray(src), _gray(dst), None)  # type: ignore[attr-defined]  # not in OpenCV's stubs


def dis_flows_at(
    img0: np.ndarray, img1: np.ndarray, t: float, preset: int = DIS_PRESET
) -> tuple[np.ndarray, np.ndarray]:
    """Flows (H, W, 2) from the frame at time ``t`` into ``img0`` and into ``img1`` (uint8 RGB frames).

    DIS both ways; the flow at the target pixel is approximated by the opposite flow at the same pixel
    (linear motion): t * F(1->0) into frame0, (1 - t) * F(0->1) into frame1, as classical VFI baselines do.
    """
    return t * dis_flow(img1, img0, preset), (1 - t) * dis_flow(img0, img1, preset)


def to_u8(frame: torch.Tensor) -> np.ndarray:
    """A (3, H, W) frame in [0, 1] as the (H, W, 3) uint8 array OpenCV works on."""
    return (frame.detach().clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy()


def backward_warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``out(p) = img(p + flow(p))``, bilinear, borders replicated, in ``img``'s dtype."""
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
