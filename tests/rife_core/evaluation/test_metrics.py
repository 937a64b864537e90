from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from skimage.metrics import structural_similarity

from rife_core.data.spec import load
from rife_core.evaluation.metrics import interpolation_error, psnr, quantize, ssim
from rife_core.evaluation.perceptual import build_lpips

from ..conftest import shared_or_skip


def test_psnr_hand_computed_and_rounded() -> None:
    target = torch.zeros(1, 3, 4, 4)
    pred = torch.full((1, 3, 4, 4), 10 / 255)
    assert psnr(pred, target).item() == pytest.approx(20 * np.log10(255 / 10), abs=1e-5)
    # 10.4/255 rounds to 10/255: the same PSNR once rounded, a different one without rounding.
    nudged = torch.full((1, 3, 4, 4), 10.4 / 255)
    assert psnr(nudged, target).item() == pytest.approx(psnr(pred, target).item(), abs=1e-5)
    assert psnr(nudged, target, round_pred=False).item() < psnr(pred, target).item()
    assert psnr(target, target).item() == 100.0


def test_interpolation_error_is_mean_abs_8bit() -> None:
    a = torch.zeros(1, 3, 2, 2)
    b = a.clone()
    b[0, 0, 0, 0] = 12 / 255
    assert interpolation_error(a, b).item() == pytest.approx(12 / 12)


def real_pairs() -> list[tuple[np.ndarray, np.ndarray]]:
    ds = load("default", "test")
    pairs = []
    for i in (0, len(ds) // 2, len(ds) - 1):
        tri = ds[i]
        pairs.append((tri.img0, tri.imgt))
    syn = load("synthetic:2", "test")[0]
    pairs.append((syn.img0, syn.img1))
    return pairs


def to_t(x: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(x).permute(2, 0, 1)[None].float() / 255


@pytest.mark.parametrize("k", range(4))
def test_ssim_matches_skimage_on_real_images(k: int) -> None:
    a, b = real_pairs()[k]
    ref = structural_similarity(
        a.astype(np.float64) / 255,
        b.astype(np.float64) / 255,
        channel_axis=-1,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=1,
    )
    ours = ssim(to_t(a), to_t(b)).item()
    assert ours == pytest.approx(ref, abs=1e-5)
    assert quantize(to_t(a)).equal(to_t(a))


LPIPS_REFERENCE = {
    ("vgg", "ex_p0"): 0.5686,
    ("vgg", "ex_p1"): 0.4217,
    ("alex", "ex_p0"): 0.7219,
    ("alex", "ex_p1"): 0.1376,
}


@pytest.mark.parametrize(("net", "other"), sorted(LPIPS_REFERENCE))
def test_lpips_reproduces_published_distances(net: str, other: str) -> None:
    """Genuine backbones give the published values; random ones would not come near them."""
    root = shared_or_skip("lpips_ref") / "imgs"

    def img(name: str) -> torch.Tensor:
        return to_t(np.array(Image.open(root / f"{name}.png").convert("RGB")))

    model = build_lpips(net)
    with torch.no_grad():
        d = model(img("ex_ref"), img(other), normalize=True).item()
    assert d == pytest.approx(LPIPS_REFERENCE[(net, other)], abs=1e-4)
