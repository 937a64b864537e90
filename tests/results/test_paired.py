"""Paired differences against hand-computed Student-t intervals."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from results.paired import UNRECORDED, kernels, paired_difference, paired_runs


def test_interval_matches_a_hand_computed_case() -> None:
    # differences 1, 2, 3: mean 2, sd 1, sem 1/sqrt(3); t(0.975, df=2) = 4.302653
    d = paired_difference([11.0, 12.0, 13.0], [10.0, 10.0, 10.0], "psnr")
    half = 4.302653 / math.sqrt(3)
    assert d.mean == pytest.approx(2.0)
    assert d.low == pytest.approx(2.0 - half, abs=1e-5) and d.high == pytest.approx(2.0 + half, abs=1e-5)
    assert d.n == 3 and d.verdict == "no significant difference"  # the interval holds 0


def test_consistent_gain_is_better_and_direction_follows_the_metric() -> None:
    control = [30.0, 31.0, 29.5, 30.2]
    variant = [c + x for c, x in zip(control, [0.5, 0.6, 0.4, 0.5], strict=True)]
    assert paired_difference(variant, control, "psnr").verdict == "better"
    assert paired_difference(variant, control, "lpips", higher_is_better=False).verdict == "worse"
    assert paired_difference(control, variant, "lpips", higher_is_better=False).verdict == "better"


def test_pairing_is_by_seed_not_by_pooled_spread() -> None:
    # Seeds differ by 2 dB, the variant is 0.1 dB better on each: unpaired, that would be noise.
    control = [28.0, 30.0, 32.0]
    d = paired_difference([c + 0.1 for c in control], control, "psnr")
    assert d.verdict == "better" and d.low == pytest.approx(0.1) and d.high == pytest.approx(0.1)


def test_one_seed_gives_no_interval_and_unpaired_lengths_are_refused() -> None:
    assert paired_difference([1.0], [0.5], "psnr").verdict == "too few seeds"
    with pytest.raises(ValueError, match="pair them by seed"):
        paired_difference([1.0, 2.0], [1.0], "psnr")


def test_runs_pair_by_seed_on_the_same_kernels_only() -> None:
    a = {"device": "cpu", "capability": "AVX2", "torch": "2.14.1"}
    b = {"device": "cpu", "capability": "AVX512", "torch": "2.14.1"}
    rows = [
        {"variant": "base", "seed": 0, "status": "completed", "psnr": 33.02},  # before machines were recorded
        {"variant": "base", "seed": 0, "status": "completed", "psnr": 33.16, "machine": b},
        {"variant": "dsconv", "seed": 0, "status": "completed", "psnr": 32.30, "machine": b},
        {"variant": "base", "seed": 1, "status": "completed", "psnr": 33.10, "machine": a},
        {"variant": "dsconv", "seed": 1, "status": "completed", "psnr": 32.00, "machine": a},
        {"variant": "dsconv", "seed": 2, "status": "completed", "psnr": 31.90, "machine": b},  # its control: on a
        {"variant": "base", "seed": 2, "status": "completed", "psnr": 33.00, "machine": a},
        {"variant": "dsconv", "seed": 3, "status": "collapsed", "psnr": 30.10, "machine": a},
        {"variant": "base", "seed": 3, "status": "completed", "psnr": 33.00, "machine": a},
    ]
    v, c, seeds = paired_runs(pd.DataFrame(rows), "dsconv", "base", "psnr")
    assert seeds == [0, 1] and v == [32.30, 32.00] and c == [33.16, 33.10]  # seed 0 pairs on b, not with 33.02
    assert kernels(rows[0]) == UNRECORDED and kernels(rows[1]) == "cpu AVX512, torch 2.14.1"
    assert paired_runs(pd.DataFrame(rows), "dsconv", "base", "lpips") == ([], [], [])
