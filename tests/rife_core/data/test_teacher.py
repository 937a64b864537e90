"""Teacher flows: augmentations move vectors with the pixels, so the teacher warps as well after them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from rife_core.data.augment import AugmentConfig, augment, random_crop
from rife_core.data.flow import backward_warp
from rife_core.data.spec import load
from rife_core.data.teacher import TeacherFlows, teacher_flow
from rife_core.data.triplets import Triplet

OFF = dict(crop=None, p_hflip=0, p_vflip=0, p_channel_reverse=0, p_temporal_reverse=0, p_rotate=0)


@pytest.fixture(scope="module")
def moving() -> Triplet:
    """A real triplet with large motion (bikes), cropped for speed, with its teacher flow."""
    ds = load("default", "val")
    tri = next(ds[i] for i in range(len(ds)) if ds[i].name.startswith("bikes"))
    tri = Triplet(*(f[40:200, 200:440].copy() for f in (tri.img0, tri.imgt, tri.img1)), t=tri.t, name=tri.name)
    return replace(tri, flow=teacher_flow(tri))


def warp_errors(tri: Triplet) -> tuple[float, float]:
    """Mean absolute error (grey levels) of each input warped by the teacher onto the middle frame."""
    e0 = np.abs(backward_warp(tri.img0.astype(np.float32), tri.flow[..., :2]) - tri.imgt).mean()
    e1 = np.abs(backward_warp(tri.img1.astype(np.float32), tri.flow[..., 2:]) - tri.imgt).mean()
    return float(e0), float(e1)


def test_teacher_warps_better_than_no_motion(moving: Triplet) -> None:
    e0, e1 = warp_errors(moving)
    still0 = np.abs(moving.img0.astype(float) - moving.imgt).mean()
    assert e0 < 0.6 * still0 and e1 < 0.6 * np.abs(moving.img1.astype(float) - moving.imgt).mean()


@pytest.mark.parametrize(
    ("name", "change"),
    [
        ("hflip", {"p_hflip": 1}),
        ("vflip", {"p_vflip": 1}),
        ("channel_reverse", {"p_channel_reverse": 1}),
        ("rot90", {"p_rotate": 1}),
        ("hflip+vflip+rot", {"p_hflip": 1, "p_vflip": 1, "p_rotate": 1}),
    ],
)
def test_exact_transforms_keep_the_warp_error(moving: Triplet, name: str, change: dict) -> None:
    before = warp_errors(moving)
    for seed in range(3):  # rotations by 90, 180 and 270 degrees among the seeds
        after = augment(moving, AugmentConfig(**{**OFF, **change}), np.random.default_rng(seed))
        assert after.flow.shape[:2] == after.imgt.shape[:2]
        assert warp_errors(after) == pytest.approx(before, abs=0.02), name


def test_temporal_reverse_swaps_the_flows(moving: Triplet) -> None:
    e0, e1 = warp_errors(moving)
    after = augment(moving, AugmentConfig(**{**OFF, "p_temporal_reverse": 1}), np.random.default_rng(0))
    assert after.t == pytest.approx(1 - moving.t)
    assert warp_errors(after) == pytest.approx((e1, e0), abs=1e-6)


def test_crop_takes_the_flow_of_the_same_window(moving: Triplet) -> None:
    h, w = moving.imgt.shape[:2]
    coords = np.stack(np.meshgrid(np.arange(w), np.arange(h)), -1)  # (x, y) of every pixel
    frames, flow = random_crop([coords, moving.imgt], 64, np.random.default_rng(5), moving.flow)
    x0, y0 = frames[0][0, 0]
    np.testing.assert_array_equal(flow, moving.flow[y0 : y0 + 64, x0 : x0 + 64])


@pytest.mark.parametrize("scale", [0.5, 1.7])
def test_resize_scales_the_vectors(moving: Triplet, scale: float) -> None:
    before = warp_errors(moving)
    cfg = AugmentConfig(**{**OFF, "p_resize": 1, "resize_range": (scale, scale)})
    after = augment(moving, cfg, np.random.default_rng(0))
    # Resampling blurs or sharpens the frames a little; the teacher must still warp about as well, which
    # unscaled vectors (off by the factor, i.e. by pixels) would not.
    assert warp_errors(after) == pytest.approx(before, rel=0.25)
    wrong = replace(after, flow=after.flow / scale)
    assert min(warp_errors(wrong)) > 1.3 * max(warp_errors(after))


def test_cached_teacher_flow_is_the_computed_one(moving: Triplet, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("RIFE_NAS_CACHE", str(tmp_path))
    bare = replace(moving, flow=None)
    first = TeacherFlows([bare])[0].flow
    assert len(list((tmp_path / "teacher_flow").glob("*.npy"))) == 1
    again = TeacherFlows([bare])[0].flow  # read back from the half-resolution float16 cache
    np.testing.assert_array_equal(first, again)
    assert warp_errors(replace(moving, flow=again)) == pytest.approx(warp_errors(moving), rel=0.1)
