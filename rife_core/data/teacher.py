"""Teacher flows for distillation: OpenCV DIS from the middle frame to each input, cached on disk.

Per training triplet, ``teacher_flow`` computes the flows imgt -> img0 and imgt -> img1 at the frames'
full resolution (what a backward warp of each input onto the middle frame needs). ``TeacherFlows``
attaches them to a dataset's triplets; each is computed once and stored as float16 at half resolution
(vectors in full-resolution pixels) under ``<cache>/teacher_flow/``, keyed by the frames' content: for
the default training split that is about 0.3 GB by its frame sizes (estimated, not measured). Datasets
too large to cache (Vimeo-90K) compute on the fly in the loader workers when ``cache=False``.
Augmentations transform frames and flows together (``rife_core.data.augment``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import replace

import cv2
import numpy as np

from rife_core.data.cache import cache_dir
from rife_core.data.flow import dis_flow
from rife_core.data.triplets import Triplet

log = logging.getLogger(__name__)

STORE_SCALE = 0.5  # flows are smooth at DIS's patch scale: half resolution loses little, saves 4x disk


def teacher_flow(tri: Triplet) -> np.ndarray:
    """(H, W, 4) float32: DIS flow imgt -> img0 (x, y), then imgt -> img1, in pixels."""
    return np.concatenate([dis_flow(tri.imgt, tri.img0), dis_flow(tri.imgt, tri.img1)], axis=-1).astype(np.float32)


def frames_key(tri: Triplet) -> str:
    """A content hash of a triplet's three frames: cached per-triplet data is keyed by it."""
    h = hashlib.sha256()
    for img in (tri.img0, tri.imgt, tri.img1):
        h.update(np.ascontiguousarray(img).data)
    return h.hexdigest()[:24]


def _store(flow: np.ndarray) -> np.ndarray:
    h, w = flow.shape[:2]
    size = (max(1, round(w * STORE_SCALE)), max(1, round(h * STORE_SCALE)))
    return (cv2.resize(flow, size, interpolation=cv2.INTER_AREA) * STORE_SCALE).astype(np.float16)


def _restore(stored: np.ndarray, h: int, w: int) -> np.ndarray:
    sx, sy = w / stored.shape[1], h / stored.shape[0]
    flow = cv2.resize(stored.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR)
    return flow * np.array([sx, sy, sx, sy], np.float32)


class TeacherFlows:
    """``base``'s triplets with ``flow`` attached (computed once per triplet, cached when ``cache``)."""

    def __init__(self, base, cache: bool = True) -> None:
        self.base = base
        self.cache = cache
        self.name = getattr(base, "name", "data")

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, idx: int) -> Triplet:
        tri = self.base[idx]
        if not self.cache:
            return replace(tri, flow=teacher_flow(tri))
        h, w = tri.imgt.shape[:2]
        path = cache_dir() / "teacher_flow" / f"{frames_key(tri)}.npy"
        if path.is_file():
            return replace(tri, flow=_restore(np.load(path), h, w))
        stored = _store(teacher_flow(tri))
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp.npy")
        np.save(tmp, stored)
        os.replace(tmp, path)  # atomic: loader workers never read a half-written file
        return replace(tri, flow=_restore(stored, h, w))
