from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

SHARED = Path(__file__).resolve().parents[4] / "shared" / "data"


def shared_or_skip(name: str) -> Path:
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"{path} is absent (development data in ../shared/data, not shipped to users)")
    return path


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # One decode cache per test session, never the user's ~/.cache.
    monkeypatch.setenv("RIFE_NAS_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def save(path: Path, arr: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path)
    return path


def rand_img(rng: np.random.Generator, h: int = 24, w: int = 32) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def write_video(path: Path, frames: np.ndarray, codec: str = "ffv1", rate: int = 24) -> Path:
    """Lossless (ffv1, yuv444p) so that decoded frames can be compared closely."""
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=rate)
        s.height, s.width = frames.shape[1:3]
        s.pix_fmt = "yuv444p"
        for f in frames:
            for p in s.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path
