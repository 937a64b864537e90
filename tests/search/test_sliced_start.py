"""The Sliced start: a child of a pretrained parent in the one candidate pipeline, scored reproducibly."""

from __future__ import annotations

import pytest
import torch

from rife_core.model.config import uniform_blocks
from rife_core.model.slicing import ChildRefused, taylor_importance
from rife_core.training.importance import importance_batches, parent_importance
from rife_core.training.start import Sliced
from search.candidate import run_candidate
from search.proxy import ProxySettings
from tests.small_parent import CHILD, PARENT_CFG, small_parent

TINY = ProxySettings(
    steps=4, crop=48, batch=2, val_every=2, val_items=2, val_crop=64, size=(64, 64), latency_size=(64, 64), workers=0
)


def test_a_sliced_candidate_is_a_function_of_config_seed_and_settings() -> None:
    parent = small_parent()
    first = run_candidate(CHILD, TINY.train_config(), start=Sliced(parent, importance="l1"))
    torch.manual_seed(99)
    torch.rand(100)  # whatever else the process did in between
    again = run_candidate(CHILD, TINY.train_config(), start=Sliced(parent, importance="l1"))
    assert first.metrics["psnr"] == pytest.approx(again.metrics["psnr"], abs=1e-6)
    assert first.inherited_share == 1.0
    fresh = run_candidate(CHILD, TINY.train_config(), start=Sliced(small_parent(), importance="l1"))
    assert fresh.metrics["psnr"] == pytest.approx(first.metrics["psnr"], abs=1e-6)  # a new Sliced, same parent


def test_the_taylor_importance_is_fixed_by_its_seed() -> None:
    parent = small_parent()
    a, b = parent_importance(parent), taylor_importance(parent, importance_batches(seed=0))  # b: not memoised
    assert a.keys() == dict(parent.named_parameters()).keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(v.sum() > 0 for v in a.values())
    x = importance_batches(seed=0)[0][0]
    assert x.shape == (8, 3, 128, 128) and not torch.equal(x, importance_batches(seed=1)[0][0])


def test_the_importance_is_memoised_on_the_parents_weights() -> None:
    parent = small_parent()
    first = parent_importance(parent)
    assert parent_importance(small_parent()) is first  # the same weights loaded again: not recomputed
    with torch.no_grad():
        next(parent.parameters()).mul_(2.0)  # other weights: other importance
    changed = parent_importance(parent)
    assert changed is not first and not all(torch.equal(changed[k], first[k]) for k in first)


def test_a_child_the_parent_cannot_serve_is_refused_before_training() -> None:
    wide = PARENT_CFG.replace(blocks=uniform_blocks([4, 2, 1], [32, 16, 16], 2))
    with pytest.raises(ChildRefused, match=r"blocks\[0\]\.width=32 is wider"):
        run_candidate(wide, TINY.train_config(), start=Sliced(small_parent()))
