"""Triplet datasets: frame0, the target frame at time t, frame1, all uint8 RGB (H, W, 3).

Two storage shapes cover every source: windows into a sequence of frames (videos, frame folders) and
explicit lists of image files (Vimeo-90K, ATD-12K, Middlebury, UCF101).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rife_core.data.frames import DataError, check_same_size, read_image

SPLITS = ("train", "val", "test")
# Contiguous time segments of each sequence: the first 80% of frames train, the next 10% validate, the
# last 10% test. A window belongs to a split only if all its frames lie inside that segment.
SPLIT_FRACTIONS = {"train": (0.0, 0.8), "val": (0.8, 0.9), "test": (0.9, 1.0)}


@dataclass(frozen=True)
class Triplet:
    img0: np.ndarray
    imgt: np.ndarray
    img1: np.ndarray
    t: float  # time of imgt between img0 (0) and img1 (1)
    name: str  # where it came from, for reports and error messages
    # Teacher flows (H, W, 4) float32 in pixels, from imgt into img0 (channels 0-1: x, y) and into img1
    # (2-3): imgt(p) ~ img0(p + flow[p, 0:2]). None unless a TeacherFlows source attached them.
    flow: np.ndarray | None = None
    # A pretrained parent's frame at t (H, W, 3) uint8, the target of the ``parent`` loss term. None unless a
    # ParentFrames source attached it.
    parent: np.ndarray | None = None


Window = tuple[int, int, int]  # frame indices (start, target, end)


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise DataError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")


def split_range(n_frames: int, split: str) -> tuple[int, int]:
    """Frame index range [start, stop) of ``split`` in a sequence of ``n_frames``."""
    check_split(split)
    lo, hi = SPLIT_FRACTIONS[split]
    return round(lo * n_frames), round(hi * n_frames)


def sequence_windows(n_frames: int, split: str, cuts: Sequence[int] = (), spans: Sequence[int] = (2,)) -> list[Window]:
    """All windows (i, i+k, i+n), n in ``spans``, 0 < k < n, inside ``split``'s segment and one shot.

    ``cuts`` holds indices c where frames c and c+1 belong to different shots.
    """
    start, stop = split_range(n_frames, split)
    cut_arr = np.asarray(sorted(cuts), dtype=int)
    out: list[Window] = []
    for n in sorted(set(spans)):
        if n < 2:
            raise DataError(f"span {n}: a window needs at least 2 frame steps (span 2 = consecutive triplet)")
        for i in range(start, stop - n):
            # A cut c in [i, i+n) means the window straddles two shots.
            if cut_arr.size and np.any((cut_arr >= i) & (cut_arr < i + n)):
                continue
            out.extend((i, i + k, i + n) for k in range(1, n))
    return out


class SequenceTriplets:
    """Windows into one sequence of frames held in memory (or memory-mapped)."""

    def __init__(self, name: str, frames: np.ndarray, windows: list[Window]) -> None:
        self.name = name
        self.frames = frames
        self.windows = windows

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, idx: int) -> Triplet:
        i, k, j = self.windows[idx]
        f = self.frames
        return Triplet(np.array(f[i]), np.array(f[k]), np.array(f[j]), (k - i) / (j - i), f"{self.name}#{k}")


class FileTriplets:
    """Triplets given as image paths; images are read on access."""

    def __init__(self, name: str, items: list[tuple[Path, Path, Path, float]]) -> None:
        self.name = name
        self.items = items

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, idx: int) -> Triplet:
        paths = self.items[idx][:3]
        frames = [read_image(p) for p in paths]
        check_same_size(frames, list(paths))
        return Triplet(frames[0], frames[1], frames[2], t=self.items[idx][3], name=f"{self.name}:{paths[1]}")


class ConcatTriplets:
    """Several triplet datasets end to end."""

    def __init__(self, name: str, parts: Sequence) -> None:
        self.name = name
        self.parts = [p for p in parts if len(p)]
        self._ends = np.cumsum([len(p) for p in self.parts]) if self.parts else np.zeros(0, dtype=int)

    def __len__(self) -> int:
        return int(self._ends[-1]) if len(self._ends) else 0

    def __getitem__(self, idx: int) -> Triplet:
        if not 0 <= idx < len(self):
            raise IndexError(idx)
        part = int(np.searchsorted(self._ends, idx, side="right"))
        start = int(self._ends[part - 1]) if part else 0
        return self.parts[part][idx - start]
