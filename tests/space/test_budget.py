from __future__ import annotations

import pytest

from rife_core.cost.params import count_params
from rife_core.model.presets import PRESETS
from space.budget import BudgetError, parse_count, within_budget


@pytest.mark.parametrize("text", ["0.5M", "500k", "500000", "5e5", " 0.5m ", "500K", ".5M"])
def test_every_spelling_of_half_a_million(text: str) -> None:
    assert parse_count(text) == 500_000


@pytest.mark.parametrize("text", ["", "M", "0.5MB", "half", "-5e5", "0", "1e400", "5e5k3"])
def test_bad_budgets_explain_the_format(text: str) -> None:
    with pytest.raises(BudgetError, match=r"0\.5M, 500k"):
        parse_count(text)


def test_within_budget_uses_the_analytic_count() -> None:
    cfg = PRESETS["lite_s"]
    n = count_params(cfg)
    assert within_budget(cfg, n + 1) and not within_budget(cfg, n)
