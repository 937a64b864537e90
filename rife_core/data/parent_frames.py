"""The parent's frames for distillation, computed once per training triplet at full size and cached on disk.

The ``parent`` loss term needs the parent's output for every training crop. Computed per batch it costs a
parent forward on every step (the step times with and without the cache: docs/results/parent.md). Cached,
it is one forward per triplet at full size (minutes for the embedded clips), kept as uint8 under
``<cache>/parent_frames/<parent key>/`` and keyed by the frames' content, and the crops then take it
through the same augmentation as the frames (``rife_core.data.augment``). A full-size target also sees
the whole frame, not a crop's borders. It pays once several trainings share it (a search's trials);
a single short fine-tune is faster without it.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from rife_core.data.cache import cache_dir
from rife_core.data.frames import DataError
from rife_core.data.teacher import frames_key
from rife_core.data.triplets import Triplet

log = logging.getLogger(__name__)


def weights_key(model: torch.nn.Module) -> str:
    """A short hash of a network's weights (names and values): the one weights digest, so that cached outputs
    (the parent's frames here, the importance memo in training) of one network are never read for another."""
    h = hashlib.sha256()
    for name, value in sorted(model.state_dict().items()):
        h.update(name.encode())
        h.update(value.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:16]


def _tensor(img: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1)[None].float().div(255)


class ParentFrames:
    """``base``'s triplets with ``parent`` (uint8, H x W x 3) attached from the cache; ``fill`` computes them."""

    def __init__(self, base, parent_key: str) -> None:
        self.base = base
        self.name = getattr(base, "name", "data")
        self.folder = cache_dir() / "parent_frames" / parent_key
        # item -> cache file, hashed once (``fill``) or on first read, not on every read in the loader
        self._paths: dict[int, Path] = {}

    def __len__(self) -> int:
        return len(self.base)

    def _path(self, idx: int, tri: Triplet | None = None) -> Path:
        if idx not in self._paths:
            self._paths[idx] = self.folder / f"{frames_key(tri if tri is not None else self.base[idx])}.npy"
        return self._paths[idx]

    def missing(self) -> list[int]:
        return [i for i in range(len(self.base)) if not self._path(i).is_file()]

    @torch.no_grad()
    def fill(self, parent: torch.nn.Module, device: torch.device) -> int:
        """Compute and store the parent's frame of every triplet not yet cached; returns how many."""
        todo = self.missing()
        if not todo:
            return 0
        log.info("caching the parent's frames of %d training triplets (once, in %s)", len(todo), self.folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        t0, shown = time.perf_counter(), -1
        for k, i in enumerate(todo):
            tri = self.base[i]
            a, b = (_tensor(x).to(device) for x in (tri.img0, tri.img1))
            frame = parent(a, b, tri.t).frame[0].clamp(0, 1)
            out = (frame * 255).round().byte().permute(1, 2, 0).cpu().numpy()
            path = self._path(i, tri)
            tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(tmp, out)
            os.replace(tmp, path)  # atomic: a kill leaves no half-written entry
            tenth = 10 * (k + 1) // len(todo)
            if tenth != shown:
                shown = tenth
                el = time.perf_counter() - t0
                eta = el / (k + 1) * (len(todo) - k - 1)
                log.info("parent frames %d/%d (%.0f s, ETA %.0f s)", k + 1, len(todo), el, eta)
        return len(todo)

    def __getitem__(self, idx: int) -> Triplet:
        tri = self.base[idx]
        path = self._path(idx, tri)
        if not path.is_file():
            raise DataError(f"the parent's frame of {tri.name} is not cached ({path}); call ParentFrames.fill first")
        return replace(tri, parent=np.load(path))
