"""The results table and the dashboard show the study's own front, also for three objectives."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

from reports.dashboard import write_dashboard
from reports.pareto import front_figure, front_info
from search.proxy import ProxySettings
from search.pruner import NONE, OPTUNA, PARETO, pruning_mode
from search.spec import SearchSpec, TrackingSettings
from search.study import dashboard_title, make_study, results_table

# (psnr, macs, params): trial 2 is on the 3-D front only through its small parameter count; in the
# (macs, psnr) plane trial 0 dominates it.
VALUES = [(30.0, 1.0e8, 90_000), (29.0, 0.5e8, 80_000), (29.5, 1.5e8, 20_000), (28.0, 2.0e8, 95_000)]


def three_objective_study() -> optuna.Study:
    study = optuna.create_study(directions=["maximize", "minimize", "minimize"])
    for i, (psnr, macs, params) in enumerate(VALUES):
        attrs = {"arch_id": f"a{i}", "config_json": "{}", "psnr": psnr, "macs": macs, "params": params}
        study.add_trial(optuna.trial.create_trial(values=[psnr, macs, params], user_attrs=attrs))
    return study


def test_each_view_draws_its_own_front_and_rings_the_study_front(tmp_path: Path) -> None:
    study = three_objective_study()
    df = results_table(study)
    best = {t.number for t in study.best_trials}
    assert best == {0, 1, 2}
    assert set(df.loc[df["pareto"], "trial"]) == best
    macs = front_info(df, "macs", "psnr")
    assert set(macs.front["trial"]) == {0, 1}  # in the (macs, psnr) plane trial 0 dominates trial 2
    assert set(macs.study_front["trial"]) == best  # ... which the ring still shows on the study's front
    assert set(front_info(df, "params", "psnr").front["trial"]) == {0, 2}  # trial 2 dominates trial 1 here
    traces = {
        t.name: {int(h.split("<br>")[0].split()[1]) for h in t.text} for t in front_figure(df, "macs", "psnr").data
    }
    assert traces == {
        "dominated in (validation PSNR (dB), MACs)": {2, 3},
        "Pareto front of (validation PSNR (dB), MACs)": {0, 1},
        "on the study's front (all its objectives)": best,
    }
    assert "Pareto front" in write_dashboard(df, tmp_path / "d.html").read_text()


def test_without_a_pareto_column_nothing_is_ringed() -> None:
    df = results_table(three_objective_study()).drop(columns=["pareto"])
    info = front_info(df, "macs", "psnr")
    assert set(info.front["trial"]) == {0, 1} and info.study_front.empty


@pytest.mark.parametrize(
    ("objectives", "mode", "pruner"),
    [
        (("psnr",), OPTUNA, optuna.pruners.HyperbandPruner),
        (("ssim",), OPTUNA, optuna.pruners.HyperbandPruner),
        (("lpips",), NONE, optuna.pruners.NopPruner),  # measured only at the end: nothing to report
        (("psnr", "macs"), PARETO, optuna.pruners.NopPruner),  # Optuna's pruners are single-objective
    ],
)
def test_one_place_decides_the_pruner(objectives, mode, pruner, tmp_path: Path) -> None:
    spec = SearchSpec(budget=1, out=tmp_path, objectives=objectives)
    assert pruning_mode(objectives, True) == mode
    assert pruning_mode(objectives, False) == NONE
    assert type(make_study(spec).pruner) is pruner


def test_only_failures_of_the_objective_count_toward_the_total() -> None:
    from optuna.trial import TrialState

    from search.study import counted

    study = optuna.create_study()
    study.add_trial(optuna.trial.create_trial(state=TrialState.FAIL, user_attrs={"fail_reason": "diverged"}))
    study.add_trial(optuna.trial.create_trial(state=TrialState.FAIL))  # process killed; Optuna failed it later
    study.add_trial(optuna.trial.create_trial(state=TrialState.PRUNED, user_attrs={"infeasible": True}))
    study.add_trial(optuna.trial.create_trial(state=TrialState.COMPLETE, value=1.0))
    assert [counted(t) for t in study.get_trials()] == [True, False, False, True]


def test_the_sampler_seed_seeds_the_sampler_alone(tmp_path: Path) -> None:
    from search.study import make_sampler

    def proposals(seed: int = 0, **kw) -> list[float]:
        spec = SearchSpec(budget=500_000, out=tmp_path, sampler="random", proxy=ProxySettings(seed=seed), **kw)
        sampler = make_sampler(spec)
        study = optuna.create_study(sampler=sampler)
        return [study.ask().suggest_float("x", 0, 1) for _ in range(3)]

    assert proposals(seed=0, sampler_seed=7) == proposals(seed=3, sampler_seed=7)
    assert proposals(seed=0, sampler_seed=7) != proposals(seed=0)
    assert proposals(seed=0) == proposals(seed=0, sampler_seed=0)


def test_dashboard_title_names_the_study_once() -> None:
    assert dashboard_title(TrackingSettings().study_name) == "rife-nas search"
    assert dashboard_title("budget-0.3M") == "rife-nas search: study budget-0.3M"
