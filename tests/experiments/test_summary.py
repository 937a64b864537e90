"""The summary's plateau-exit column: first validation clearly above the blend of the same triplets."""

from __future__ import annotations

import pandas as pd

from experiments.summary import plateau_exit
from results.schema import ABOVE_BLEND_DB


def _runs(histories: list[list[list[float]]], blend: float | None) -> pd.DataFrame:
    return pd.DataFrame({"history": histories, "history_blend": [blend] * len(histories)})


def test_plateau_exit_is_the_median_first_step_above_the_blend() -> None:
    b = 30.0
    up = b + ABOVE_BLEND_DB + 0.01
    at = b + ABOVE_BLEND_DB  # not above: the margin is strict
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


def test_the_summary_states_the_training_time_of_the_runs_trained_here() -> None:
    from experiments.spec import AblationSpec
    from experiments.summary import summarize

    spec = AblationSpec.from_dict(
        {
            "name": "t",
            "base": "lite_s",
            "control": "a",
            "train": {"steps": 1},
            "variants": {"a": {}, "b": {"arch": {"upsample": "bilinear"}}},
            "eval": ["default"],
        }
    )
    rows = [
        {"variant": "a", "seed": 0, "status": "completed", "psnr@default": 31.0, "train_seconds": 120.0},
        {"variant": "b", "seed": 0, "status": "completed", "psnr@default": 31.2, "train_seconds": 240.0},
        {
            "variant": "a",
            "seed": 1,
            "status": "completed",
            "psnr@default": 31.1,
            "train_seconds": 600.0,
            "reused_from": "other",
        },
    ]
    notes = summarize(spec, rows, {"default": 30.0}).notes
    assert "training time: 6.0 min over 2 run(s) trained here (3.0 min median per run" in " ".join(notes)


def test_an_exit_step_resting_on_some_runs_only_says_how_many() -> None:
    b = 30.0
    runs = pd.DataFrame({"history": [[[100, b + 1]], [[100, b]], [[100, b + 1]]], "history_blend": [b, None, None]})
    assert plateau_exit(runs) == "100 [1 of 3 runs]"
