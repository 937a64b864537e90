from __future__ import annotations

import pytest
from hypothesis import given, settings

from rife_core.cost.params import count_params
from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.presets import PRESETS, create_model

from ..strategies import arch_configs

# Parameter counts of the released Practical-RIFE IFNet code.
RELEASED = {"rife_v4_25": 5_664_776, "rife_v4_15_lite": 2_616_476}


@pytest.mark.parametrize(("name", "expected"), sorted(RELEASED.items()))
def test_reference_presets_match_released_rife(name: str, expected: int) -> None:
    assert count_params(PRESETS[name]) == expected
    assert create_model(name).num_params() == expected


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_analytic_count_matches_built_model_for_presets(name: str) -> None:
    assert count_params(PRESETS[name]) == create_model(name).num_params()


def test_lightweight_presets_fit_half_a_million() -> None:
    lite = [n for n in PRESETS if n.startswith("lite")]
    assert lite and all(count_params(PRESETS[n]) < 500_000 for n in lite)


@given(arch_configs(max_width=96, max_depth=4))
@settings(max_examples=150, deadline=None)
def test_analytic_count_matches_built_model(cfg: ArchConfig) -> None:
    assert count_params(cfg) == sum(p.numel() for p in IFNet(cfg).parameters())
