from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from rife_core.data.spec import load

_spec = importlib.util.spec_from_file_location(
    "prior_headroom", Path(__file__).parents[2] / "benchmarks" / "prior_headroom.py"
)
headroom = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(headroom)


def test_pick_by_patch_takes_in_each_patch_the_candidate_equal_to_the_target() -> None:
    rng = np.random.default_rng(0)
    gt = rng.random((16, 24, 3), dtype=np.float32)
    a, b = gt.copy(), gt.copy()
    a[:8] += 0.5  # a is wrong in the top row of patches, b in the bottom one
    b[8:] -= 0.5
    picked = headroom.pick_by_patch([a, b], gt)
    assert np.array_equal(picked, gt)


def test_shift_moves_content_by_one_pixel_with_replicated_borders() -> None:
    img = np.arange(5 * 6 * 1, dtype=np.float32).reshape(5, 6, 1)
    out = headroom.shift(img, 1, -1)  # out(y, x) = img(y + 1, x - 1)
    assert out[2, 3, 0] == img[3, 2, 0]
    assert out[4, 0, 0] == img[4, 0, 0]  # both offsets fall outside: the corner is replicated


def test_oracle_bounds_are_never_below_dis_interpolation_on_real_frames() -> None:
    tri = load("default", "test")[0]
    b = headroom.bounds(tri.img0, tri.imgt, tri.img1, tri.t)
    # the blend is one of the mask candidates and the zero shift one of the shift candidates
    assert b["mask_patch"] >= b["dis"] and b["shift_patch"] >= b["dis"]
