from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from rife_core.data.frames import DataError
from rife_core.data.motion import LARGE_MOTION_PX, LargeMotion, motion_px
from rife_core.data.spec import load, parse_spec
from rife_core.data.triplets import Triplet


def shifted(dx: int) -> Triplet:
    """A real photo and the same photo moved right by ``dx`` pixels (exact integer translation)."""
    img = np.repeat(data.camera()[100:356, 100:420, None], 3, axis=2)
    moved = np.roll(img, dx, axis=1)
    return Triplet(img, np.roll(img, dx // 2, axis=1), moved, t=0.5, name=f"shift{dx}")


@pytest.mark.parametrize("dx", [3, 12])
def test_motion_is_the_translation(dx: int) -> None:
    assert motion_px(shifted(dx)) == pytest.approx(dx, abs=0.5)


def test_subset_keeps_only_large_motion() -> None:
    items = [shifted(2), shifted(12), shifted(1), shifted(16)]
    sub = LargeMotion(items)
    assert len(sub) == 2 and [sub[i].name for i in range(2)] == ["shift12", "shift16"]
    assert all(m >= LARGE_MOTION_PX for m in np.array(sub.motion)[sub.indices])


def test_spec_prefix() -> None:
    spec = parse_spec("large_motion:synthetic:20")
    assert spec.large_motion and spec.name == "synthetic" and str(spec) == "large_motion:synthetic:20"
    ds = load(spec, "val")
    assert 0 < len(ds) <= 20  # synthetic triplets move up to max_shift, most of them a lot
    with pytest.raises(DataError, match="large_motion:SPEC"):
        parse_spec("large_motion:")
