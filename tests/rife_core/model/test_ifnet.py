from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings

from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.presets import PRESETS, create_model

from ..strategies import arch_configs


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_preset_output_matches_odd_input_size(name: str) -> None:
    torch.manual_seed(0)
    model = create_model(name).eval()
    img0, img1 = torch.rand(2, 3, 67, 131), torch.rand(2, 3, 67, 131)
    with torch.inference_mode():
        t = torch.tensor([0.25, 0.75]) if PRESETS[name].timestep_input else 0.5  # v3: the middle frame only
        out = model(img0, img1, t)
    n = len(PRESETS[name].blocks)
    assert out.frame.shape == img0.shape
    assert len(out.flows) == n and len(out.masks) == n
    assert all(f.shape == (2, 4, 67, 131) for f in out.flows)
    assert all(m.shape == (2, 1, 67, 131) and m.min() >= 0 and m.max() <= 1 for m in out.masks)
    # A convex blend of two warped frames in [0, 1] stays in [0, 1].
    assert out.frame.min() >= 0 and out.frame.max() <= 1


@given(arch_configs(max_width=16, max_depth=1))
@settings(max_examples=25, deadline=None)
def test_every_config_builds_and_runs(cfg: ArchConfig) -> None:
    model = IFNet(cfg).eval()
    x = torch.rand(1, 3, 19, 37)
    with torch.inference_mode():
        out = model(x, x.flip(-1), 0.5)
    assert out.frame.shape == x.shape and torch.isfinite(out.frame).all()


def test_zero_flow_network_returns_mask_blend() -> None:
    """With its output layers zeroed, the net predicts no motion and a 0.5 mask: the plain average."""
    model = create_model("lite_s")
    with torch.no_grad():
        for block in model.blocks:
            for p in block.lastconv.parameters():
                p.zero_()
    a, b = torch.rand(1, 3, 40, 48), torch.rand(1, 3, 40, 48)
    out = model(a, b, 0.5)
    # float32 grid coordinates put identity sampling within ~1e-5 of the pixels.
    torch.testing.assert_close(out.frame, (a + b) / 2, atol=2e-5, rtol=0)


def test_gradients_reach_every_parameter() -> None:
    model = create_model("lite_lowres_warp")
    a, b = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    out = model(a, b, 0.5)
    (out.frame.mean() + sum(f.abs().mean() for f in out.flows)).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert missing == []


def test_bad_inputs_raise_clear_errors() -> None:
    model = create_model("lite_s")
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        model(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 30))
    with pytest.raises(ValueError, match="timestep has 3 values"):
        model(torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32), torch.tensor([0.1, 0.2, 0.3]))
