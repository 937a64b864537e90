"""Children with layer kinds the parent lacks: each replaced layer starts from the parent's function."""

from __future__ import annotations

import pytest
import torch

from rife_core.model.layer_starts import kind_refusals, twin_config
from rife_core.model.slicing import ChildRefused, slice_child
from tests.small_parent import CHILD, PARENT_CFG, small_parent


def _batches(n: int = 2) -> list[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(5)
    return [tuple(torch.rand(2, 3, 32, 32, generator=g) for _ in range(3)) for _ in range(n)]


def test_a_depthwise_separable_trunk_starts_factorised_then_fitted() -> None:
    _, report = slice_child(small_parent(), CHILD.replace(conv_type="dsconv"), batches=_batches(), trunk_steps=60)
    trunks = [s for s in report.layers if s.name.endswith("conv0+convblock")]
    assert [s.name for s in trunks] == [f"blocks.{i}.conv0+convblock" for i in range(3)]
    assert all(s.how == "fitted" and s.error < s.error_before for s in trunks)  # the fit improves on rank 1
    assert report.fitted == sum(s.params for s in trunks) and report.rewritten == 0
    assert report.copied + report.fitted == report.total  # heads copied, trunks fitted, nothing seeded
    assert abs(sum(report.shares().values()) - report.share) < 1e-12


@pytest.mark.parametrize("upsample", ["pixelshuffle", "dsdeconv"])
def test_another_upsampler_is_fitted_to_the_parents_heads(upsample: str) -> None:
    child, report = slice_child(small_parent(), CHILD.replace(upsample=upsample), batches=_batches())
    heads = [s for s in report.layers if "conv" in s.name.rpartition(".")[2]]
    assert len(heads) == 6  # split heads: lastconv and maskconv per block
    assert all(s.how == "fitted" and s.error is not None and s.error < 1.0 for s in heads)  # beats the zero map
    again, _ = slice_child(small_parent(), CHILD.replace(upsample=upsample), batches=_batches())
    assert all(torch.equal(p, q) for p, q in zip(child.parameters(), again.parameters(), strict=True))


def test_a_fitted_start_needs_crops_and_an_unserved_kind_is_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="pass batches"):
        slice_child(small_parent(), CHILD.replace(conv_type="dsconv"))
    ds_parent = PARENT_CFG.replace(conv_type="dsconv", upsample="bilinear")
    reasons = kind_refusals(ds_parent, CHILD.replace(upsample="pixelshuffle"))
    assert any("conv_type='standard'" in r for r in reasons) and any("served: deconv2" in r for r in reasons)
    from rife_core.model.ifnet import IFNet

    with pytest.raises(ChildRefused, match="conv_type='standard'"):
        slice_child(IFNet(ds_parent), CHILD, batches=_batches())


def test_the_twin_has_the_parents_kinds_and_the_childs_shape() -> None:
    child = CHILD.replace(conv_type="dsconv", downsample="conv", upsample="bilinear")
    twin = twin_config(PARENT_CFG, child)
    assert (twin.conv_type, twin.downsample, twin.upsample) == ("standard", "bilinear", "deconv2")
    assert twin.blocks == child.blocks and twin.both_orders == child.both_orders
