"""Exact rewrites: a layer of another kind that computes the parent's layer's function (float64)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from rife_core.model.layers import Downsample
from rife_core.model.rewrite import bilinear_taps, rewrite_bilinear_down, subpixel_from_deconv
from rife_core.model.slicing import slice_child
from tests.small_parent import PARENT_CFG, small_parent


@pytest.mark.parametrize(("c", "k", "bias"), [(5, 3, True), (2, 7, False)])
def test_a_stride_2_transposed_conv_is_a_sub_pixel_conv(c: int, k: int, bias: bool) -> None:
    torch.manual_seed(c)
    deconv = nn.ConvTranspose2d(c, k, 4, 2, 1, bias=bias).double()
    x = torch.randn(2, c, 7, 9, dtype=torch.float64)
    w, b = subpixel_from_deconv(deconv.weight, deconv.bias)
    assert w.shape == (4 * k, c, 3, 3)
    got = F.pixel_shuffle(F.conv2d(x, w, b, padding=1), 2)
    assert (got - deconv(x)).abs().max() < 1e-12


@pytest.mark.parametrize("scale", [2, 4, 8, 16])
@pytest.mark.parametrize("kind", ["conv", "dsconv"])
def test_a_learned_downsampler_rewritten_is_bilinear_downsampling(scale: int, kind: str) -> None:
    down = Downsample(5, scale, kind, act="prelu").double()
    rewrite_bilinear_down(down.convs, scale)
    x = torch.randn(2, 5, 4 * scale, 3 * scale, dtype=torch.float64)  # signed, as flows and mask logits are
    expected = F.interpolate(x, scale_factor=1 / scale, mode="bilinear", align_corners=False)
    assert (down(x) - expected).abs().max() < 1e-12
    assert len(bilinear_taps(scale)) == scale.bit_length() - 1


def test_bilinear_taps_refuse_a_scale_that_is_not_a_power_of_two() -> None:
    with pytest.raises(ValueError, match="powers of two"):
        bilinear_taps(3)


@pytest.mark.parametrize(
    "change", [{"upsample": "subpixel2"}, {"downsample": "conv"}, {"downsample": "dsconv"}], ids=str
)
def test_a_child_whose_only_change_is_rewritten_computes_the_parents_output(change: dict) -> None:
    parent = small_parent().double()
    child, report = slice_child(parent, PARENT_CFG.replace(**change))
    child = child.double().eval()
    assert {s.how for s in report.layers} == {"rewritten"} and report.fitted == 0 and not report.seeded
    assert report.copied + report.rewritten == report.total  # every parameter started from the parent
    g = torch.Generator().manual_seed(1)
    a, b = (torch.rand(1, 3, 64, 96, generator=g, dtype=torch.float64) for _ in range(2))
    with torch.no_grad():
        got, ref = child(a, b), parent(a, b)
    assert (got.frame - ref.frame).abs().max() < 1e-5
    assert all((x - y).abs().max() < 1e-5 for x, y in zip(got.flows, ref.flows, strict=True))
