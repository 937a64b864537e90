"""Cached parent frames: computed once per triplet, read back, and augmented with the frames they belong to."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from rife_core.data.augment import AugmentConfig
from rife_core.data.cache import CACHE_ENV
from rife_core.data.frames import DataError
from rife_core.data.parent_frames import ParentFrames, weights_key
from rife_core.data.torch_data import TorchTriplets
from rife_core.data.triplets import Triplet


class BlendParent(nn.Module):
    """A parent whose frame is a known function of the inputs (their average), so alignment can be checked."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))

    def forward(self, a: torch.Tensor, b: torch.Tensor, t: float = 0.5):
        class Out:
            frame = (a + b) / 2 * self.scale

        return Out


class Frames:
    name = "tiny"

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        # a horizontal ramp in img0 and a vertical one in img1: every flip, turn and swap changes the average
        ramp = np.linspace(0, 255, 40)
        self.items = []
        for k in range(3):
            img0 = np.broadcast_to(ramp[None, :, None], (30, 40, 3)).astype(np.uint8).copy()
            img0[..., k] = rng.integers(0, 256, (30, 40))
            img1 = np.broadcast_to(np.linspace(0, 255, 30)[:, None, None], (30, 40, 3)).astype(np.uint8).copy()
            self.items.append(Triplet(img0, img0, img1, 0.5, f"tiny#{k}"))

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> Triplet:
        return self.items[i]


def test_cached_frames_are_computed_once_and_follow_the_augmentation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    parent = BlendParent()
    frames = ParentFrames(Frames(), weights_key(parent))
    with pytest.raises(DataError, match="not cached"):
        frames[0]
    assert frames.fill(parent, torch.device("cpu")) == 3 and frames.fill(parent, torch.device("cpu")) == 0
    aug = AugmentConfig(crop=16, p_hflip=0.5, p_vflip=0.5, p_channel_reverse=0.5, p_temporal_reverse=0.5, p_rotate=0.5)
    data = TorchTriplets(frames, aug)
    for k in range(24):
        item = data[k % 3, k]
        expected = (item["img0"] + item["img1"]) / 2
        assert item["parent"].shape == item["img0"].shape
        assert (item["parent"] - expected).abs().max() <= 1 / 255 + 1e-6


def test_another_parent_does_not_read_these_frames() -> None:
    a, b = BlendParent(), BlendParent()
    assert weights_key(a) == weights_key(b)
    with torch.no_grad():
        b.scale.fill_(0.5)
    assert weights_key(a) != weights_key(b)
