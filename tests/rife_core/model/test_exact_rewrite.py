"""The model's forward computes what the reference forward (concatenate at full resolution) computes."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rife_core.model.config import ArchConfig, BlockConfig
from rife_core.model.presets import PRESETS, create_model

from .reference_forward import reference_forward


def _compare(cfg: ArchConfig, size: tuple[int, int], dtype=torch.float64) -> None:
    model = create_model(cfg, seed=1).to(dtype).eval()
    h, w = cfg.padded_size(*size)
    g = torch.Generator().manual_seed(2)
    a, b = torch.rand(1, 3, h, w, generator=g, dtype=dtype), torch.rand(1, 3, h, w, generator=g, dtype=dtype)
    with torch.no_grad():
        got, ref = model(a, b, 0.3), reference_forward(model, a, b, 0.3)
    assert (got.frame - ref.frame).abs().max() < 1e-5
    for x, y in zip(got.flows + got.masks, ref.flows + ref.masks, strict=True):
        assert (x - y).abs().max() < 1e-5


def _v4_style(c: ArchConfig) -> bool:
    # v3's choices have an independent reference of their own (tests/rife_core/model/test_parent_parity.py)
    return not c.both_orders and not c.split_heads and c.mask_update == "replace" and c.timestep_input


@pytest.mark.parametrize("name", sorted(n for n, c in PRESETS.items() if c.flow_resolution == "full" and _v4_style(c)))
def test_every_preset_matches_the_reference_forward(name: str) -> None:
    # flow_resolution="block" changes the function on purpose (tests/rife_core/model/test_flow_resolution.py)
    _compare(PRESETS[name], (96, 160))


@given(
    scales=st.sampled_from([(4, 1), (8, 4, 2, 1), (16, 4, 1), (2,)]),
    downsample=st.sampled_from(["bilinear", "conv", "dsconv"]),
    upsample=st.sampled_from(["deconv", "bilinear", "pixelshuffle"]),
    warp_every=st.sampled_from([0, 1, 2]),
    warp_resolution=st.sampled_from(["full", "block"]),
    encoder_width=st.sampled_from([0, 8]),
    passed=st.sampled_from([0, 4]),
    corr=st.sampled_from([0, 1]),
)
@settings(max_examples=25, deadline=None)
def test_sampled_configs_match_the_reference_forward(
    scales, downsample, upsample, warp_every, warp_resolution, encoder_width, passed, corr
) -> None:
    cfg = ArchConfig(
        blocks=tuple(BlockConfig(s, 8, 1) for s in scales),
        downsample="bilinear" if warp_resolution == "block" else downsample,
        upsample=upsample,
        warp_every=warp_every,
        warp_resolution=warp_resolution,
        encoder_width=encoder_width,
        passed_feat_ch=passed,
        corr_radius=corr,
    )
    _compare(cfg, (64, 64))
