from __future__ import annotations

import numpy as np
import pytest

from rife_core.data.augment import AugmentConfig, augment
from rife_core.data.triplets import Triplet

OFF = dict(p_hflip=0, p_vflip=0, p_channel_reverse=0, p_temporal_reverse=0, p_rotate=0, p_resize=0)


def marked_triplet(h: int = 60, w: int = 80) -> Triplet:
    """img1 is the pointwise inverse of img0, imgt equals img0: any spatial op keeps these relations."""
    img0 = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    return Triplet(img0, img0.copy(), 255 - img0, 0.25, "marked")


@pytest.mark.parametrize("which", ["p_hflip", "p_vflip", "p_channel_reverse", "p_rotate", None])
def test_each_augmentation_keeps_frames_aligned(which: str | None) -> None:
    cfg = AugmentConfig(crop=32, **(OFF | ({which: 1.0} if which else {})))
    tri = marked_triplet()
    for seed in range(5):
        out = augment(tri, cfg, np.random.default_rng(seed))
        assert out.img0.shape == (32, 32, 3)
        assert np.array_equal(out.imgt, out.img0) and np.array_equal(out.img1, 255 - out.img0)
        assert out.t == 0.25


def test_crop_matches_a_window_of_the_original() -> None:
    tri = marked_triplet()
    out = augment(tri, AugmentConfig(crop=20, **OFF), np.random.default_rng(4))
    hits = [(y, x) for y in range(41) for x in range(61) if np.array_equal(tri.img0[y : y + 20, x : x + 20], out.img0)]
    assert len(hits) == 1


def test_specific_transforms_are_the_ones_claimed() -> None:
    tri = marked_triplet()
    cfg = AugmentConfig(crop=None, **(OFF | {"p_hflip": 1.0}))
    assert np.array_equal(augment(tri, cfg, np.random.default_rng(0)).img0, tri.img0[:, ::-1])
    cfg = AugmentConfig(crop=None, **(OFF | {"p_channel_reverse": 1.0}))
    assert np.array_equal(augment(tri, cfg, np.random.default_rng(0)).img0, tri.img0[..., ::-1])
    rot = augment(tri, AugmentConfig(crop=None, **(OFF | {"p_rotate": 1.0})), np.random.default_rng(0)).img0
    assert any(np.array_equal(rot, np.rot90(tri.img0, k)) for k in (1, 2, 3))


def test_temporal_reverse_swaps_frames_and_time() -> None:
    tri = marked_triplet()
    out = augment(tri, AugmentConfig(crop=None, **(OFF | {"p_temporal_reverse": 1.0})), np.random.default_rng(0))
    assert np.array_equal(out.img0, tri.img1) and np.array_equal(out.img1, tri.img0)
    assert out.t == 0.75


def test_random_resize_scales_all_frames_alike() -> None:
    img = np.random.default_rng(1).integers(0, 256, (60, 80, 3), dtype=np.uint8)
    tri = Triplet(img, img.copy(), img.copy(), 0.5, "same")
    cfg = AugmentConfig(crop=None, **(OFF | {"p_resize": 1.0}), resize_range=(0.5, 0.5))
    out = augment(tri, cfg, np.random.default_rng(0))
    assert out.img0.shape == (30, 40, 3)
    assert np.array_equal(out.img0, out.imgt) and np.array_equal(out.img0, out.img1)


def test_small_frames_are_upscaled_to_the_crop() -> None:
    out = augment(marked_triplet(20, 30), AugmentConfig(crop=24, **OFF), np.random.default_rng(0))
    assert out.img0.shape == (24, 24, 3)


def test_bad_probabilities_are_rejected() -> None:
    with pytest.raises(ValueError, match=r"p_hflip=1\.5"):
        AugmentConfig(p_hflip=1.5)
