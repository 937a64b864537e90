"""The cost volume: bilateral correlation against a per-pixel reference, its peak, and its counted cost."""

from __future__ import annotations

import numpy as np
import torch

from rife_core.cost.macs import count_macs
from rife_core.cost.params import count_params
from rife_core.model.config import ArchConfig, BlockConfig
from rife_core.model.correlation import bilateral_correlation, displacements
from rife_core.model.presets import create_model


def _reference(a: np.ndarray, b: np.ndarray, r: int) -> np.ndarray:
    """Per pixel and displacement: mean_c a[c, y-dy, x-dx] * b[c, y+dy, x+dx], 0 outside."""
    _, h, w = a.shape
    out = np.zeros(((2 * r + 1) ** 2, h, w))
    for k, (dy, dx) in enumerate(displacements(r)):
        for y in range(h):
            for x in range(w):
                ya, xa, yb, xb = y - dy, x - dx, y + dy, x + dx
                if 0 <= ya < h and 0 <= xa < w and 0 <= yb < h and 0 <= xb < w:
                    out[k, y, x] = (a[:, ya, xa] * b[:, yb, xb]).mean()
    return out


def test_bilateral_correlation_matches_a_per_pixel_reference() -> None:
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(1, 5, 7, 9, generator=g), torch.randn(1, 5, 7, 9, generator=g)
    got = bilateral_correlation(a, b, 2)[0].numpy()
    np.testing.assert_allclose(got, _reference(a[0].numpy(), b[0].numpy(), 2), atol=1e-6)


def test_the_volume_peaks_at_the_displacement_of_a_symmetric_motion() -> None:
    g = torch.Generator().manual_seed(1)
    f = torch.randn(1, 64, 24, 24, generator=g)
    dy, dx = 1, -2  # the middle frame's content sits at x - d in frame0 and at x + d in frame1
    a = torch.roll(f, shifts=(-dy, -dx), dims=(2, 3))  # a(y) = f(y + d), so a(x - d) = f(x)
    b = torch.roll(f, shifts=(dy, dx), dims=(2, 3))  # b(y) = f(y - d), so b(x + d) = f(x)
    corr = bilateral_correlation(a, b, 3)[0, :, 6:-6, 6:-6]
    best = corr.argmax(0)
    assert (best == displacements(3).index((dy, dx))).all()


def test_cost_volume_parameters_and_macs_are_counted_by_hand() -> None:
    base = ArchConfig(blocks=(BlockConfig(4, 16, 1), BlockConfig(1, 8, 1)), encoder_width=0, passed_feat_ch=0)
    r, c, width, s = 2, 8, 16, 4
    with_corr = base.replace(corr_radius=r, corr_ch=c)
    d = (2 * r + 1) ** 2
    features = (3 * 9 * c // 2 + c // 2) + (c // 2 * 9 * c + c)
    conv0_extra = d * 9 * (width // 2)  # conv0's first conv reads d more channels
    assert count_params(with_corr) - count_params(base) == features + conv0_extra
    assert create_model(with_corr, seed=0).num_params() == count_params(with_corr)

    h, w = 64, 96
    h1, w1 = h // s, w // s  # the first block's input resolution
    h2, w2 = h1 // 2, w1 // 2  # conv0's first (stride-2) conv
    per_frame = 4 * 3 * h1 * w1  # bilinear resize, 4 taps per output
    per_frame += (3 * 9) * (c // 2) * h1 * w1 + (c // 2) * h1 * w1  # conv + leaky_relu
    per_frame += (c // 2 * 9) * c * h1 * w1 + c * h1 * w1
    volume = d * c * h1 * w1 + d * h1 * w1 + d * h1 * w1  # products (sum = their accumulates), / c, leaky
    fuse = conv0_extra * h2 * w2  # bias excluded (fvcore's convention); the concatenation moves data only
    expected = 2 * per_frame + volume + fuse
    got = count_macs(create_model(with_corr, seed=0), (h, w))
    assert not got.unsupported
    assert got.total - count_macs(create_model(base, seed=0), (h, w)).total == expected


def test_configs_without_a_cost_volume_keep_their_description() -> None:
    cfg = ArchConfig(blocks=(BlockConfig(4, 16, 1),))
    assert "corr_radius" not in cfg.to_dict() and "corr_ch" not in cfg.to_dict()
    on = cfg.replace(corr_radius=1)
    assert on.to_dict()["corr_radius"] == 1
    assert ArchConfig.from_dict(on.to_dict()) == on and ArchConfig.from_dict(cfg.to_dict()) == cfg
