from __future__ import annotations

import cv2
import numpy as np

from rife_core.data.synthetic import SyntheticConfig, SyntheticTriplets


def test_deterministic_and_split_specific() -> None:
    a, b = SyntheticTriplets("train", 5, seed=3), SyntheticTriplets("train", 5, seed=3)
    assert np.array_equal(a[2].imgt, b[2].imgt) and np.array_equal(a[2].img0, b[2].img0)
    assert not np.array_equal(a[2].imgt, SyntheticTriplets("val", 5, seed=3)[2].imgt)
    assert a[0].img0.shape == (256, 256, 3) and a[0].t == 0.5


def _shift(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    ga, gb = (cv2.cvtColor(x, cv2.COLOR_RGB2GRAY).astype(np.float64) for x in (a, b))
    (dx, dy), _ = cv2.phaseCorrelate(ga, gb)
    return np.array([dx, dy])


def test_background_motion_is_linear_in_time() -> None:
    cfg = SyntheticConfig(max_rotation=0, max_zoom=0, sprites=(0, 0), max_shift=40, random_t=True)
    ds = SyntheticTriplets("test", 6, seed=1, config=cfg)
    for i in range(6):
        tri = ds[i]
        full = _shift(tri.img0, tri.img1)
        part = _shift(tri.img0, tri.imgt)
        assert np.linalg.norm(full) <= 40 + 1
        np.testing.assert_allclose(part, tri.t * full, atol=0.6)


def test_motion_is_large_compared_to_the_clips() -> None:
    ds = SyntheticTriplets("val", 20, seed=0)
    psnr = []
    for i in range(len(ds)):
        tri = ds[i]
        blend = (tri.img0.astype(np.float64) + tri.img1) / 2
        psnr.append(10 * np.log10(255.0**2 / ((blend - tri.imgt) ** 2).mean()))
    # The embedded clips give 28.6-34.8 dB for the same blend; large motion should be far below that.
    assert np.mean(psnr) < 24
