"""Classical optical flow and backward warping on NumPy frames: the one DIS set-up the project uses.

The DIS interpolation baseline, large-motion subsets and distillation teachers all take their flow from
``dis_flow`` and warp with ``backward_warp``.
"""

from __future__ import annotations

import cv2
import numpy as np

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
    return cv2.DISOpticalFlow_create(preset).calc(_gray(src), _gray(dst), None)


def backward_warp(img: np.ndarray, flow: np.ndarray) -> np.ndarray:
    """``out(p) = img(p + flow(p))``, bilinear, borders replicated, in ``img``'s dtype."""
    h, w = flow.shape[:2]
    gx, gy = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cv2.remap(img, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
