"""Rank agreement between two scorings of the same architectures, with bootstrap confidence intervals."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

BOOTSTRAP_RESAMPLES = 2000  # percentile intervals; enough for two-decimal bounds
CONFIDENCE = 0.95


@dataclass(frozen=True)
class Agreement:
    """A rank correlation and its percentile-bootstrap interval (pairs resampled with replacement)."""

    name: str
    value: float
    low: float
    high: float
    n: int

    def __str__(self) -> str:
        return f"{self.name} {self.value:+.2f} [{self.low:+.2f}, {self.high:+.2f}] (95% bootstrap, n={self.n})"


def _kendall(x: np.ndarray, y: np.ndarray) -> float:
    return float(stats.kendalltau(x, y).statistic)


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    return float(stats.spearmanr(x, y).statistic)


STATISTICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {"kendall_tau": _kendall, "spearman_rho": _spearman}


def _resampled_interval(n: int, statistic: Callable[[np.ndarray], float], seed: int) -> tuple[float, float]:
    """Percentile interval of ``statistic(idx)`` over ``idx`` resampled from ``range(n)`` with replacement;
    resamples where it is undefined (all ranks tied) are skipped."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(BOOTSTRAP_RESAMPLES):
        idx = rng.integers(0, n, n)
        with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", stats.ConstantInputWarning)  # an all-tied resample: skipped below
            v = statistic(idx)
        if np.isfinite(v):
            values.append(v)
    if not values:
        return float("nan"), float("nan")
    tail = 100 * (1 - CONFIDENCE) / 2
    return float(np.percentile(values, tail)), float(np.percentile(values, 100 - tail))


def bootstrap_interval(
    x: Sequence[float], y: Sequence[float], statistic: Callable[[np.ndarray, np.ndarray], float], seed: int = 0
) -> tuple[float, float]:
    """Percentile interval of ``statistic`` over resampled pairs (all-tied resamples skipped)."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    return _resampled_interval(len(x), lambda idx: statistic(x[idx], y[idx]), seed)


def rank_agreement(x: Sequence[float], y: Sequence[float], seed: int = 0) -> list[Agreement]:
    """Kendall's tau and Spearman's rho between ``x`` and ``y``, each with its 95% bootstrap interval."""
    if len(x) != len(y) or len(x) < 3:
        raise ValueError(f"need two equally long score lists of at least 3 items, got {len(x)} and {len(y)}")
    xa, ya = np.asarray(x, float), np.asarray(y, float)
    out = []
    for name, fn in STATISTICS.items():
        low, high = bootstrap_interval(xa, ya, fn, seed)
        out.append(Agreement(name, fn(xa, ya), low, high, len(xa)))
    return out


def _mean_pairwise_kendall(scores: np.ndarray) -> float:
    """Mean Kendall's tau over every pair of columns (seeds) of an (architectures, seeds) array."""
    k = scores.shape[1]
    taus = [_kendall(scores[:, i], scores[:, j]) for i in range(k) for j in range(i + 1, k)]
    return float(np.mean(taus))


def seed_agreement(scores: np.ndarray, seed: int = 0) -> Agreement:
    """How well a scoring agrees with itself: the mean Kendall's tau between its seeds (columns) over the
    architectures (rows), with a bootstrap interval over architectures. A ceiling in the loose sense: a
    proxy is ranked against the mean over the seeds, which is less noisy than any one seed, so it can
    exceed this by chance or by ranking the mean well."""
    scores = np.asarray(scores, float)
    if scores.ndim != 2 or scores.shape[1] < 2 or scores.shape[0] < 3:
        raise ValueError(f"need at least 3 architectures x 2 seeds, got shape {scores.shape}")
    low, high = _resampled_interval(len(scores), lambda idx: _mean_pairwise_kendall(scores[idx]), seed)
    return Agreement("seed_kendall_tau", _mean_pairwise_kendall(scores), low, high, len(scores))


def paired_tau_difference(
    first: Sequence[float], second: Sequence[float], reference: Sequence[float], seed: int = 0
) -> Agreement:
    """Kendall's tau of ``second`` against ``reference`` less that of ``first``, over the same
    architectures, with a bootstrap interval that resamples architectures once for both (paired)."""
    a, b, r = (np.asarray(v, float) for v in (first, second, reference))
    if not len(a) == len(b) == len(r) or len(a) < 3:
        raise ValueError(f"need three equally long score lists of at least 3 items, got {len(a)}, {len(b)}, {len(r)}")
    low, high = _resampled_interval(len(a), lambda i: _kendall(b[i], r[i]) - _kendall(a[i], r[i]), seed)
    return Agreement("kendall_tau_difference", _kendall(b, r) - _kendall(a, r), low, high, len(a))
