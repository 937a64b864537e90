"""Paired comparison of an ablation variant with its control: difference, 95% interval, verdict.

Runs are paired by seed: the same seed gives both runs the same data order, augmentations and (where the
architectures agree) the same initial weights, so the per-seed difference cancels much of the run-to-run
noise. The interval is Student's t on the paired differences (with 2-5 seeds a bootstrap interval is too
narrow to trust); a difference is only reported with its interval.

A pair is two runs on the same kernels (``kernels``): on a CPU a run reproduces to the hundredth where the
kernels agree, but on another machine's kernels a 600-step fine-tune ends elsewhere (the base child's three
seeds moved by +0.15, -0.27 and +0.01 dB on the large-motion validation). So a variant trained on one
machine is never paired with a control trained on another.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

CONFIDENCE = 0.95
UNRECORDED = "unrecorded"  # rows from before machines were recorded: one group (they reproduce each other)


def kernels(row: Mapping[str, Any]) -> str:
    """Which kernels ran a row, e.g. ``cpu AVX512, torch 2.14.1+cu130`` (from its ``machine`` record)."""
    m = row.get("machine")
    if not isinstance(m, Mapping):
        return UNRECORDED
    return f"{m.get('device')} {m.get('gpu') or m.get('capability')}, torch {m.get('torch')}"


def paired_runs(runs: pd.DataFrame, variant: str, control: str, col: str) -> tuple[list[float], list[float], list[int]]:
    """Per seed, ``col`` of a completed run of ``variant`` and of ``control`` on the same kernels (the
    first such pair in the rows' order): (variant values, control values, seeds). A seed with no such pair
    is left out."""
    if col not in runs:
        return [], [], []
    ok = [r for r in runs.to_dict("records") if r.get("status") == "completed" and pd.notna(r.get(col))]
    controls: dict[tuple[int, str], float] = {}
    for r in ok:
        if r["variant"] == control:
            controls.setdefault((int(r["seed"]), kernels(r)), float(r[col]))
    vs: dict[int, tuple[float, float]] = {}
    for r in ok:
        pair = (int(r["seed"]), kernels(r))
        if r["variant"] == variant and pair in controls:
            vs.setdefault(pair[0], (float(r[col]), controls[pair]))
    seeds = sorted(vs)
    return [vs[s][0] for s in seeds], [vs[s][1] for s in seeds], seeds


@dataclass(frozen=True)
class PairedDifference:
    """Mean of (variant - control) over seeds, its t interval and what it means for the metric."""

    metric: str
    mean: float
    low: float
    high: float
    n: int
    higher_is_better: bool

    @property
    def verdict(self) -> str:
        if self.n < 2 or not np.isfinite(self.low):
            return "too few seeds"
        if self.low > 0:
            return "better" if self.higher_is_better else "worse"
        if self.high < 0:
            return "worse" if self.higher_is_better else "better"
        return "no significant difference"

    def __str__(self) -> str:
        return f"{self.mean:+.3f} [{self.low:+.3f}, {self.high:+.3f}] {self.verdict}"


def paired_difference(
    variant: Sequence[float], control: Sequence[float], metric: str, higher_is_better: bool = True
) -> PairedDifference:
    """Paired (by position: seed) difference ``variant - control`` with a 95% Student-t interval."""
    v, c = np.asarray(variant, dtype=float), np.asarray(control, dtype=float)
    if v.shape != c.shape:
        raise ValueError(f"{metric}: {len(v)} variant runs vs {len(c)} control runs; pair them by seed")
    d = v - c
    d = d[np.isfinite(d)]
    n = len(d)
    mean = float(d.mean()) if n else float("nan")
    if n < 2:
        return PairedDifference(metric, mean, float("nan"), float("nan"), n, higher_is_better)
    sem = float(d.std(ddof=1)) / np.sqrt(n)
    if sem == 0.0:  # identical differences on every seed: the interval is the point
        return PairedDifference(metric, mean, mean, mean, n, higher_is_better)
    low, high = stats.t.interval(CONFIDENCE, n - 1, loc=mean, scale=sem)
    return PairedDifference(metric, mean, float(low), float(high), n, higher_is_better)
