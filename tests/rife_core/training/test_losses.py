from __future__ import annotations

import pytest
import torch

from rife_core.model.presets import create_model
from rife_core.training.losses import CompositeLoss, LaplacianLoss, VGGLoss, charbonnier


def test_laplacian_loss_zero_on_identical_and_exact_for_constant_offset() -> None:
    lap = LaplacianLoss()
    x = torch.rand(2, 3, 64, 64)
    assert lap(x, x).item() == 0.0
    flat = torch.full((1, 3, 64, 64), 0.3)
    # A constant image has empty band-pass levels; only the coarsest (low-pass) level carries the offset.
    assert lap(flat + 0.1, flat).item() == pytest.approx(0.1, abs=1e-6)
    assert lap(x, torch.rand(2, 3, 64, 64)).item() > 0


def test_charbonnier_close_to_l1_for_large_errors() -> None:
    a, b = torch.zeros(10), torch.ones(10)
    assert charbonnier(a, b).item() == pytest.approx(1.0, abs=1e-6)
    assert charbonnier(a, a).item() == pytest.approx(1e-3)


def test_vgg_loss_uses_pretrained_features() -> None:
    loss = VGGLoss()
    x = torch.rand(1, 3, 64, 64)
    assert loss(x, x).item() == 0.0
    assert loss(x, x.flip(-1)).item() > 0
    assert not any(p.requires_grad for p in loss.parameters())


def test_composite_is_the_weighted_sum_and_supervises_blocks() -> None:
    model = create_model("lite_s")
    a, b, t = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    out = model(a, b, 0.5)
    loss = CompositeLoss({"l1": 0.2, "lap": 0.5, "deep_supervision": 0.3})
    total, terms = loss(out, t, model, a, b)
    assert set(terms) == {"l1", "lap", "deep_supervision"}
    assert total.item() == pytest.approx(
        0.2 * terms["l1"] + 0.5 * terms["lap"] + 0.3 * terms["deep_supervision"], rel=1e-5
    )
    total.backward()
    assert model.blocks[0].lastconv.learned[0].weight.grad is not None


def test_unknown_loss_term() -> None:
    with pytest.raises(ValueError, match="choose from"):
        CompositeLoss({"ssim": 1.0})
