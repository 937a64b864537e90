from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rife_core.data.cache import cached_frames
from rife_core.data.frames import DataError, check_same_size, decode_video, read_image

from .conftest import rand_img, save, write_video


def test_rgb_round_trip(tmp_path: Path) -> None:
    img = rand_img(np.random.default_rng(0))
    assert np.array_equal(read_image(save(tmp_path / "a.png", img)), img)


def test_grayscale_is_replicated_to_rgb(tmp_path: Path) -> None:
    gray = np.random.default_rng(1).integers(0, 256, (10, 12), dtype=np.uint8)
    out = read_image(save(tmp_path / "g.png", gray))
    assert out.shape == (10, 12, 3) and all(np.array_equal(out[..., c], gray) for c in range(3))


def test_rgba_drops_alpha(tmp_path: Path) -> None:
    rgba = np.random.default_rng(2).integers(0, 256, (10, 12, 4), dtype=np.uint8)
    out = read_image(save(tmp_path / "a.png", rgba))
    assert np.array_equal(out, rgba[..., :3])


def test_sixteen_bit_is_scaled(tmp_path: Path) -> None:
    arr = np.array([[0, 65535], [32896, 257]], dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / "d.png")
    out = read_image(tmp_path / "d.png")
    assert out[..., 0].tolist() == [[0, 255], [128, 1]]


def test_corrupt_and_missing_images_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"\x89PNG\r\n\x1a\n not really")
    with pytest.raises(DataError, match=r"broken\.png: not a readable image"):
        read_image(bad)
    with pytest.raises(DataError, match=r"nothere\.png: no such image file"):
        read_image(tmp_path / "nothere.png")


def test_size_mismatch_lists_every_frame() -> None:
    frames = [np.zeros((4, 6, 3), np.uint8), np.zeros((4, 6, 3), np.uint8), np.zeros((5, 6, 3), np.uint8)]
    with pytest.raises(DataError, match=r"c\.png 6x5"):
        check_same_size(frames, ["a.png", "b.png", "c.png"])


def test_video_decodes_every_frame(tmp_path: Path) -> None:
    frames = np.stack([np.full((32, 48, 3), 20 * i, np.uint8) for i in range(7)])
    out = decode_video(write_video(tmp_path / "v.mkv", frames))
    assert out.shape == frames.shape and out.dtype == np.uint8
    # Lossless codec; only the RGB<->YUV conversion rounds.
    assert np.abs(out.astype(int) - frames).max() <= 2


def test_undecodable_video_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "junk.mp4"
    bad.write_bytes(b"\x00" * 4096)
    with pytest.raises(DataError, match=r"junk\.mp4: cannot be decoded"):
        decode_video(bad)
    with pytest.raises(DataError, match="no such video file"):
        decode_video(tmp_path / "none.mp4")


def test_cache_decodes_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    frames = np.stack([np.full((16, 16, 3), 30 * i, np.uint8) for i in range(4)])
    path = write_video(tmp_path / "c.mkv", frames)
    first = cached_frames(path)

    def fail(_path: Path) -> np.ndarray:
        raise AssertionError("decoded again despite the cache")

    monkeypatch.setattr("rife_core.data.cache.decode_video", fail)
    again = cached_frames(path)
    assert isinstance(again, np.memmap) and np.array_equal(first, again)
