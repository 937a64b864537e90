from __future__ import annotations

import pytest
import torch

from rife_core.model.presets import create_model
from rife_core.training.losses import CompositeLoss, LaplacianLoss, VGGLoss, charbonnier

from ..conftest import shared_or_skip


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


def test_vgg_loss_is_zero_for_equal_images_and_frozen() -> None:
    loss = VGGLoss()
    x = torch.rand(1, 3, 64, 64)
    assert loss(x, x).item() == 0.0
    assert loss(x, x.flip(-1)).item() > 0
    assert not any(p.requires_grad for p in loss.parameters())


@pytest.mark.parametrize(("other", "published"), [("ex_p0", 0.5686), ("ex_p1", 0.4217)])
def test_vgg_features_are_the_genuine_imagenet_vgg16(other: str, published: float) -> None:
    """The loss's five feature maps, put through LPIPS's learned linear heads, give the published LPIPS-VGG
    distances; features from random or wrongly tapped/normalised weights would not come near them."""
    import numpy as np
    from PIL import Image

    from rife_core.evaluation.perceptual import VGGFeatures, build_lpips

    root = shared_or_skip("lpips_ref") / "imgs"

    def img(name: str) -> torch.Tensor:
        return torch.from_numpy(np.array(Image.open(root / f"{name}.png").convert("RGB"))).permute(2, 0, 1)[None] / 255

    lins = [lin.model[-1] for lin in build_lpips("vgg").lins]  # 1x1 convs, one per feature map
    vgg = VGGFeatures()
    with torch.no_grad():
        fa, fb = vgg(img("ex_ref")), vgg(img(other))
        unit = [
            (a / (a.pow(2).sum(1, keepdim=True).sqrt() + 1e-10), b / (b.pow(2).sum(1, keepdim=True).sqrt() + 1e-10))
            for a, b in zip(fa, fb, strict=True)
        ]
        d = sum(lin((a - b) ** 2).mean().item() for lin, (a, b) in zip(lins, unit, strict=True))
    assert d == pytest.approx(published, abs=1e-3)


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


def test_distill_is_zero_at_the_teacher_and_trusts_good_teacher_pixels() -> None:
    from rife_core.training.losses import distill_loss

    model = create_model("lite_s")
    img = torch.rand(1, 3, 32, 32)
    teacher = torch.zeros(1, 4, 32, 32)  # the target equals both inputs: zero flow warps perfectly
    exact = [teacher.clone().requires_grad_(True) for _ in range(2)]
    assert distill_loss(exact, teacher, model, img, img, img).item() == pytest.approx(1e-3, rel=1e-3)
    off = [teacher + 2.0]
    good = distill_loss(off, teacher, model, img, img, img).item()
    bad = distill_loss(off, teacher, model, img, img, torch.rand(1, 3, 32, 32)).item()  # teacher warps badly
    assert good == pytest.approx(2.0, rel=1e-3) and bad < 0.05 * good


def test_distill_needs_teacher_flows() -> None:
    model = create_model("lite_s")
    a = torch.rand(1, 3, 32, 32)
    loss = CompositeLoss({"l1": 1.0, "distill": 0.01})
    assert loss.needs_teacher
    with pytest.raises(ValueError, match="teacher flows"):
        loss(model(a, a, 0.5), a, model, a, a)
    total, terms = loss(model(a, a, 0.5), a, model, a, a, torch.zeros(1, 4, 32, 32))
    assert set(terms) == {"l1", "distill"} and torch.isfinite(total)
