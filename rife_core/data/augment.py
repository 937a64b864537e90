"""Training augmentations (RIFE's recipe plus random resize), one random choice applied to all frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rife_core.data.triplets import Triplet


@dataclass(frozen=True)
class AugmentConfig:
    """Each augmentation has its own probability; 0 switches it off."""

    crop: int | None = 224  # square random crop side (RIFE: 224); None keeps the whole frame
    p_hflip: float = 0.5
    p_vflip: float = 0.5
    p_channel_reverse: float = 0.5  # RGB <-> BGR
    p_temporal_reverse: float = 0.5  # swap frame0 and frame1, t -> 1 - t
    p_rotate: float = 0.5  # then one of 90, 180, 270 degrees
    # Random resize of the whole triplet before cropping (the article's large-motion remedy): with
    # probability p_resize, scale by a factor drawn log-uniformly from resize_range.
    p_resize: float = 0.0
    resize_range: tuple[float, float] = (0.5, 2.0)

    def __post_init__(self) -> None:
        for name in ("p_hflip", "p_vflip", "p_channel_reverse", "p_temporal_reverse", "p_rotate", "p_resize"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name}={getattr(self, name)} is not a probability in [0, 1]")
        lo, hi = self.resize_range
        if not 0 < lo <= hi:
            raise ValueError(f"resize_range={self.resize_range}: need 0 < low <= high")
        if self.crop is not None and self.crop < 1:
            raise ValueError(f"crop={self.crop}: give a positive size or None")


def _resize(frames: list[np.ndarray], scale: float, flow: np.ndarray | None = None):
    """Frames (and a teacher flow, whose vectors scale with the image) resized by ``scale``."""
    import cv2

    h, w = frames[0].shape[:2]
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    frames = [cv2.resize(f, size, interpolation=interp) for f in frames]
    if flow is not None:
        sx, sy = size[0] / w, size[1] / h
        flow = cv2.resize(flow, size, interpolation=interp) * np.array([sx, sy, sx, sy], np.float32)
    return frames, flow


def random_crop(frames: list[np.ndarray], crop: int, rng: np.random.Generator, flow: np.ndarray | None = None):
    """Same crop window on every frame (and the flow); frames smaller than ``crop`` are first upscaled."""
    h, w = frames[0].shape[:2]
    if h < crop or w < crop:
        frames, flow = _resize(frames, crop / min(h, w), flow)
        h, w = frames[0].shape[:2]
    y = int(rng.integers(0, h - crop + 1))
    x = int(rng.integers(0, w - crop + 1))
    frames = [f[y : y + crop, x : x + crop] for f in frames]
    return frames, (flow[y : y + crop, x : x + crop] if flow is not None else None)


# Teacher-flow vectors under each geometric transform; channels (x0, y0, x1, y1).
_HFLIP_SIGN = np.array([-1, 1, -1, 1], np.float32)
_VFLIP_SIGN = np.array([1, -1, 1, -1], np.float32)


def _rot90_flow(flow: np.ndarray, k: int) -> np.ndarray:
    """``np.rot90(flow, k)`` with each vector rotated too: one counter-clockwise turn maps (u, v) to (v, -u)."""
    flow = np.rot90(flow, k)
    for _ in range(k % 4):
        flow = flow[..., [1, 0, 3, 2]] * np.array([1, -1, 1, -1], np.float32)
    return flow


def augment(tri: Triplet, cfg: AugmentConfig, rng: np.random.Generator) -> Triplet:
    """Apply ``cfg``'s augmentations to one triplet; all frames see the same choices."""
    # A parent's frame (the distillation target) is one more image at t: every geometric choice applies to it.
    frames = [tri.img0, tri.imgt, tri.img1, *([tri.parent] if tri.parent is not None else [])]
    t, flow = tri.t, tri.flow
    if cfg.p_resize and rng.random() < cfg.p_resize:
        lo, hi = np.log(cfg.resize_range)
        frames, flow = _resize(frames, float(np.exp(rng.uniform(lo, hi))), flow)
    if cfg.crop is not None:
        frames, flow = random_crop(frames, cfg.crop, rng, flow)
    if rng.random() < cfg.p_hflip:
        frames = [f[:, ::-1] for f in frames]
        flow = flow[:, ::-1] * _HFLIP_SIGN if flow is not None else None
    if rng.random() < cfg.p_vflip:
        frames = [f[::-1] for f in frames]
        flow = flow[::-1] * _VFLIP_SIGN if flow is not None else None
    if rng.random() < cfg.p_channel_reverse:
        frames = [f[..., ::-1] for f in frames]
    if rng.random() < cfg.p_temporal_reverse:
        frames = [frames[2], frames[1], frames[0], *frames[3:]]
        t = 1.0 - t
        flow = flow[..., [2, 3, 0, 1]] if flow is not None else None  # into img1 becomes into img0
    if rng.random() < cfg.p_rotate:
        k = int(rng.integers(1, 4))
        frames = [np.rot90(f, k) for f in frames]
        flow = _rot90_flow(flow, k) if flow is not None else None
    frames = [np.ascontiguousarray(f) for f in frames]
    flow = np.ascontiguousarray(flow, dtype=np.float32) if flow is not None else None
    parent = frames[3] if len(frames) > 3 else None
    return Triplet(frames[0], frames[1], frames[2], t, tri.name, flow, parent)
