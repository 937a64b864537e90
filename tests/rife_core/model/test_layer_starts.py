"""Children with layer kinds the parent lacks: each replaced layer starts from the parent's function."""

from __future__ import annotations

import pytest
import torch

from rife_core.model.config import FLOW_CH, ArchConfig
from rife_core.model.fitting import relative_error
from rife_core.model.ifnet import IFNet
from rife_core.model.layer_starts import FitBudget, _capture, _full, kind_refusals, twin_config
from rife_core.model.slicing import ChildRefused, slice_child
from tests.small_parent import CHILD, PARENT_CFG, small_parent


def _batches(n: int = 2) -> list[tuple[torch.Tensor, ...]]:
    g = torch.Generator().manual_seed(5)
    return [tuple(torch.rand(2, 3, 32, 32, generator=g) for _ in range(3)) for _ in range(n)]


def test_a_depthwise_separable_trunk_starts_factorised_then_fitted() -> None:
    cfg = CHILD.replace(conv_type="dsconv")
    _, report = slice_child(small_parent(), cfg, batches=_batches(), fit=FitBudget(trunk_steps=60))
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
    with pytest.raises(ChildRefused, match="conv_type='standard'"):
        slice_child(IFNet(ds_parent), CHILD, batches=_batches())


def test_the_twin_has_the_parents_kinds_and_the_childs_shape() -> None:
    child = CHILD.replace(conv_type="dsconv", downsample="conv", upsample="bilinear")
    twin = twin_config(PARENT_CFG, child)
    assert (twin.conv_type, twin.downsample, twin.upsample) == ("standard", "bilinear", "deconv2")
    assert twin.blocks == child.blocks and twin.both_orders == child.both_orders


def _whole_crop_errors(child: IFNet, cfg: ArchConfig, batches: list[tuple[torch.Tensor, ...]]) -> list[float]:
    """Per block, the relative error of the child's flow head against its twin's on whole crops, whatever
    the fit ran on."""
    twin, _ = slice_child(small_parent(), twin_config(PARENT_CFG, cfg))
    errors = []
    for cb, tb, xs in zip(child.blocks, twin.blocks, _capture(twin, batches), strict=True):
        ctrunk, ttrunk = torch.nn.Sequential(cb.conv0, cb.convblock), torch.nn.Sequential(tb.conv0, tb.convblock)
        with torch.no_grad():
            pairs = [(ctrunk(x), _full(tb.lastconv, ttrunk(x), FLOW_CH)) for x in xs]
        errors.append(relative_error(lambda f, h=cb.lastconv: _full(h, f, FLOW_CH), pairs))
    return errors


def test_head_fits_on_centre_windows_hold_on_whole_crops_and_trunks_fit_on_whole_crops() -> None:
    """The fast budget fits heads on windows of the crops; a head is local, so the fit carries over."""
    batches = _batches()
    cfg = CHILD.replace(upsample="pixelshuffle")
    whole, _ = slice_child(small_parent(), cfg, batches=batches)
    windowed, _ = slice_child(small_parent(), cfg, batches=batches, fit=FitBudget(window=16))
    on_whole, on_windows = _whole_crop_errors(whole, cfg, batches), _whole_crop_errors(windowed, cfg, batches)
    assert all(w < 1.0 for w in on_windows)  # a fit, not the zero map
    assert all(w <= u + 0.05 for w, u in zip(on_windows, on_whole, strict=True))  # the same least squares
    dsconv = CHILD.replace(conv_type="dsconv", upsample="pixelshuffle")
    trunks = [FitBudget(trunk_steps=20, window=w) for w in (None, 16)]
    a, b = (slice_child(small_parent(), dsconv, batches=batches, fit=f)[0] for f in trunks)
    for ba, bb in zip(a.blocks, b.blocks, strict=True):  # the window changes the heads' fit, not the trunk's
        assert all(torch.equal(p, q) for p, q in zip(ba.convblock.parameters(), bb.convblock.parameters(), strict=True))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"trunk_steps": -1}, "steps must be >= 0"), ({"window": 12}, "multiple of 8"), ({"window": 0}, "multiple of 8")],
)
def test_a_fit_budget_refuses_what_it_cannot_run(kw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        FitBudget(**kw)
