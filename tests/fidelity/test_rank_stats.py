from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from fidelity.rank_stats import bootstrap_interval, rank_agreement


def test_point_estimates_equal_scipys_and_a_hand_count() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=12)
    y = x + rng.normal(scale=0.8, size=12)
    tau, rho = rank_agreement(x, y)
    assert tau.value == pytest.approx(stats.kendalltau(x, y).statistic, abs=1e-12)
    assert rho.value == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)
    # 1,3,2,4: five concordant pairs, one discordant -> (5 - 1) / 6
    assert rank_agreement([1, 2, 3, 4], [1, 3, 2, 4])[0].value == pytest.approx(4 / 6)


def test_bootstrap_interval_brackets_the_estimate_and_is_seeded() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=15)
    y = x + rng.normal(scale=1.0, size=15)
    tau = rank_agreement(x, y, seed=3)[0]
    assert tau.low <= tau.value <= tau.high and tau.high - tau.low > 0.1
    assert rank_agreement(x, y, seed=3)[0] == tau
    perfect = rank_agreement(x, 2 * x + 1)[0]
    assert (perfect.value, perfect.low, perfect.high) == pytest.approx((1.0, 1.0, 1.0))


def test_resamples_with_all_ties_are_skipped() -> None:
    low, high = bootstrap_interval([1, 2, 3], [3, 2, 1], lambda a, b: stats.kendalltau(a, b).statistic)
    assert (low, high) == pytest.approx((-1.0, -1.0))


def test_too_few_points_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least 3"):
        rank_agreement([1, 2], [2, 1])
