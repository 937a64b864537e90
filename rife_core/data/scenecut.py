"""Scene-cut detection from the frames themselves."""

from __future__ import annotations

import numpy as np

# A cut is a frame-to-frame change that is both large in absolute terms and large against the clip's
# typical change nearby. On the embedded clips, real cuts change the mean absolute luma by 50-85 levels
# and ordinary fast motion by at most ~21 (bikes.mp4), so 30 levels and 3x the local median separate them.
ABS_THRESHOLD = 30.0
REL_THRESHOLD = 3.0
WINDOW = 10  # frames each side for the local median
THUMB = 64  # frames are compared at about this width, which ignores noise and is fast


def frame_differences(frames: np.ndarray) -> np.ndarray:
    """Mean absolute luma difference between consecutive frames, on a 0-255 scale; length N-1."""
    step = max(1, frames.shape[2] // THUMB)
    small = frames[:, ::step, ::step].astype(np.float32)
    luma = small @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    return np.abs(np.diff(luma, axis=0)).mean(axis=(1, 2))


def detect_cuts(frames: np.ndarray) -> list[int]:
    """Indices i such that frames i and i+1 belong to different shots."""
    d = frame_differences(frames)
    cuts = []
    for i, v in enumerate(d):
        lo, hi = max(0, i - WINDOW), min(len(d), i + WINDOW + 1)
        neighbours = np.delete(d[lo:hi], i - lo)
        local = float(np.median(neighbours)) if neighbours.size else 0.0
        if v > ABS_THRESHOLD and v > REL_THRESHOLD * local:
            cuts.append(i)
    return cuts
