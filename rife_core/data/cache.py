"""Decoded-frame cache: one uint8 .npy per video, memory-mapped on later runs."""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

from rife_core.data.frames import DataError, decode_video

log = logging.getLogger(__name__)

CACHE_ENV = "RIFE_NAS_CACHE"


def cache_dir() -> Path:
    """``$RIFE_NAS_CACHE``, else ``$XDG_CACHE_HOME/rife-nas``, else ``~/.cache/rife-nas``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "rife-nas"


def _key(path: Path) -> str:
    # Path, size and mtime: a re-encoded file at the same path gets a new entry.
    st = path.stat()
    digest = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    return f"{path.stem}-{digest}"


def cached_frames(path: str | Path) -> np.ndarray:
    """Frames of a video as a read-only (N, H, W, 3) uint8 array; decodes once, then memory-maps."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such video file")
    target = cache_dir() / "frames" / f"{_key(path)}.npy"
    if target.is_file():
        return np.load(target, mmap_mode="r")
    log.info("decoding %s (once; cached at %s)", path.name, target)
    frames = decode_video(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp.npy")
    np.save(tmp, frames)
    os.replace(tmp, target)  # atomic: concurrent workers never read a half-written file
    return np.load(target, mmap_mode="r")
