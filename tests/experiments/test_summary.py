"""The summary's plateau-exit column: first validation clearly above the blend of the same triplets."""

from __future__ import annotations

import pandas as pd

from experiments.summary import PLATEAU_DB, plateau_exit


def _runs(histories: list[list[list[float]]], blend: float | None) -> pd.DataFrame:
    return pd.DataFrame({"history": histories, "history_blend": [blend] * len(histories)})


def test_plateau_exit_is_the_median_first_step_above_the_blend() -> None:
    b = 30.0
    up = b + PLATEAU_DB + 0.01
    at = b + PLATEAU_DB  # not above: the margin is strict
    runs = _runs([[[100, b], [200, up]], [[100, at], [200, at], [300, up]], [[100, up], [200, up]]], b)
    assert plateau_exit(runs) == "200"  # first exits 200, 300, 100


def test_runs_that_never_leave_are_counted_and_can_make_the_median_never() -> None:
    b = 30.0
    up = b + 1.0
    some = _runs([[[100, up]], [[100, b]], [[100, up]]], b)
    assert plateau_exit(some) == "100 (1 of 3 never)"
    most = _runs([[[100, up]], [[100, b]], [[100, b]]], b)
    assert plateau_exit(most) == "never"


def test_rows_without_a_recorded_blend_give_no_column() -> None:
    assert plateau_exit(_runs([[[100, 31.0]]], None)) is None
    assert plateau_exit(pd.DataFrame({"history": [[[100, 31.0]]]})) is None
