"""Reading frames: images from disk and videos with PyAV, as uint8 RGB (H, W, 3) arrays."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
VIDEO_EXTS = (".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg", ".y4m")


class DataError(ValueError):
    """Bad data on disk or a bad dataset spec; the message names the file and the fix."""


def read_image(path: str | Path) -> np.ndarray:
    """Read an image as uint8 RGB (H, W, 3).

    Grayscale is replicated to three channels and RGBA/LA drop alpha (frames are opaque; an alpha channel
    in a frame dump carries no motion information). 16-bit images are scaled to 8 bits.
    """
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such image file")
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                arr = np.asarray(im, dtype=np.float64)
                maxval = 65535.0 if arr.max() > 255 else 255.0
                return np.repeat((arr / maxval * 255 + 0.5).astype(np.uint8)[..., None], 3, axis=2)
            return np.array(im.convert("RGB"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise DataError(f"{path}: not a readable image ({e}); re-export or remove it") from e


def check_same_size(frames: list[np.ndarray], names: list[str] | list[Path]) -> None:
    """All frames of one sample must share one size."""
    sizes = {f.shape[:2] for f in frames}
    if len(sizes) > 1:
        listing = ", ".join(f"{n} {f.shape[1]}x{f.shape[0]}" for n, f in zip(names, frames, strict=True))
        raise DataError(f"frames of one triplet differ in size: {listing}; resize them to one size")


def decode_video(path: str | Path) -> np.ndarray:
    """Decode every frame of a video file into (N, H, W, 3) uint8 RGB."""
    import av

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such video file")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise DataError(f"{path}: has no video stream")
            frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    except av.error.FFmpegError as e:
        raise DataError(f"{path}: cannot be decoded ({e}); check the file or re-encode it (e.g. to H.264)") from e
    if len(frames) < 3:
        raise DataError(f"{path}: has {len(frames)} decodable frame(s); a triplet needs at least 3")
    return np.stack(frames)
