from __future__ import annotations

import pytest

from space.budget import BudgetError, parse_count


@pytest.mark.parametrize("text", ["0.5M", "500k", "500000", "5e5", " 0.5m ", "500K", ".5M"])
def test_every_spelling_of_half_a_million(text: str) -> None:
    assert parse_count(text) == 500_000


@pytest.mark.parametrize("text", ["", "M", "0.5MB", "half", "-5e5", "0", "1e400", "5e5k3"])
def test_bad_budgets_explain_the_format(text: str) -> None:
    with pytest.raises(BudgetError, match=r"0\.5M, 500k"):
        parse_count(text)
