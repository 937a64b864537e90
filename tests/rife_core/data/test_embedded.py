"""The embedded default clips, checked against figures measured with independent code (OpenCV)."""

from __future__ import annotations

import numpy as np
import pytest

from rife_core.data.cache import cached_frames
from rife_core.data.embedded import default_dataset, embedded_clip_paths
from rife_core.data.scenecut import detect_cuts
from rife_core.data.triplets import SPLITS, sequence_windows

# Blend of the outer frames vs the middle frame, PSNR on 0-255 RGB averaged over stride-2 triplets,
# measured with plain OpenCV and given in the data issue. Our decode matches OpenCV's frame for frame
# (34.732 / 28.605 / 33.423 dB over all overlapping triplets with both); how the reference picked its
# triplets moves the figure by up to 0.15 dB (e.g. carphone 33.30 over even starts), hence 0.2 dB.
REFERENCE_BLEND_PSNR = {"bigbuckbunny": 34.75, "bikes": 28.60, "carphone_pristine": 33.28}
EXPECTED_FRAMES = {"bigbuckbunny": (132, 720, 1280), "bikes": (250, 272, 640), "carphone_pristine": (120, 144, 176)}


@pytest.fixture(scope="module")
def clips() -> dict[str, np.ndarray]:
    return {p.stem: cached_frames(p) for p in embedded_clip_paths()}


def test_clips_decode_to_their_known_shapes(clips: dict[str, np.ndarray]) -> None:
    assert {k: v.shape[:3] for k, v in clips.items()} == EXPECTED_FRAMES


def test_blend_psnr_matches_reference(clips: dict[str, np.ndarray]) -> None:
    for name, frames in clips.items():
        f = frames.astype(np.float64)
        mse = (((f[:-2] + f[2:]) / 2 - f[1:-1]) ** 2).mean(axis=(1, 2, 3))
        psnr = float(np.mean(10 * np.log10(255.0**2 / mse)))
        assert abs(psnr - REFERENCE_BLEND_PSNR[name]) < 0.2, (name, psnr)


def test_scene_cuts(clips: dict[str, np.ndarray]) -> None:
    assert detect_cuts(clips["bikes"]) == [29, 75, 136, 186, 241]
    assert detect_cuts(clips["bigbuckbunny"]) == [] and detect_cuts(clips["carphone_pristine"]) == []


def test_default_splits_are_leak_free_and_cut_free(clips: dict[str, np.ndarray]) -> None:
    sets = {s: default_dataset(s) for s in SPLITS}
    assert all(len(d) > 0 for d in sets.values())
    for name, frames in clips.items():
        cuts = detect_cuts(frames)
        used = {}
        for s, d in sets.items():
            part = next(p for p in d.parts if p.name == name)
            assert part.windows == sequence_windows(len(frames), s, cuts)
            assert not any(i <= c < j for i, _, j in part.windows for c in cuts)
            used[s] = {f for i, _, j in part.windows for f in range(i, j + 1)}
        assert not (used["train"] & used["val"] or used["train"] & used["test"] or used["val"] & used["test"])
    tri = sets["test"][0]
    assert tri.img0.shape == tri.imgt.shape == tri.img1.shape and tri.t == 0.5


def test_domain_subsets_partition_the_default_data() -> None:
    from rife_core.data.frames import DataError
    from rife_core.data.spec import load, parse_spec

    for split in ("train", "val"):
        n = {s: len(load(s, split)) for s in ("default", "default:real", "default:animation")}
        assert n["default:real"] > 0 and n["default:animation"] > 0
        assert n["default:real"] + n["default:animation"] == n["default"]
    assert str(parse_spec("default:Animation")) == "default:animation"
    with pytest.raises(DataError, match="default:DOMAIN"):
        parse_spec("default:cartoons")
