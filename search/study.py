"""The study: storage, sampler, the trial loop with its callbacks, and the results table."""

from __future__ import annotations

import logging
import os
import socket
import time
from pathlib import Path

import optuna
import pandas as pd
import yaml
from optuna.trial import TrialState

from reports.dashboard import write_dashboard
from results.files import write_csv
from results.record import TrialRecord
from results.schema import QUALITY, objective_info
from results.study_table import StorageError, counted, is_infeasible, open_storage, redact_url, results_table
from rife_core.model.ifnet import IFNet
from search.objective import NATIVE_CONSTRAINTS, Objective, constraints
from search.pruner import OPTUNA, pruning_mode
from search.spec import SearchSpec, TrackingSettings, fingerprint, settings_diff
from search.tracking import best_effort
from space.space import SearchSpace

log = logging.getLogger(__name__)

MAX_INFEASIBLE_IN_A_ROW = 500  # the budget admits (almost) nothing in this space


class SearchError(RuntimeError):
    """The search cannot run as configured; the message names the fix."""


def make_storage(url: str) -> optuna.storages.BaseStorage:
    """Any Optuna storage URL (see ``results.study_table.open_storage``); an unusable one is a SearchError."""
    try:
        return open_storage(url)
    except StorageError as e:
        raise SearchError(str(e)) from e


def sampler_seed(spec: SearchSpec) -> int:
    """``--sampler-seed``, else ``--seed`` for the study's own SQLite file, else a seed of this worker's own.

    Workers started with the same command on a shared storage (``--storage``) would otherwise propose the
    same architectures in the same order and train each of them at once; the seed changes what is proposed,
    never how an architecture scores.
    """
    if spec.sampler_seed is not None:
        return spec.sampler_seed
    if not spec.shared_storage:
        return spec.proxy.seed
    seed = int.from_bytes(os.urandom(4), "little")
    log.info("shared storage: this worker's sampler seed is %d (--sampler-seed fixes it)", seed)
    return seed


def make_sampler(spec: SearchSpec) -> optuna.samplers.BaseSampler:
    kw: dict = {"seed": sampler_seed(spec)}
    con = {} if NATIVE_CONSTRAINTS else {"constraints_func": constraints}
    if spec.sampler == "tpe":
        # multivariate+group: the per-level widths/depths exist only for the sampled number of levels.
        return optuna.samplers.TPESampler(multivariate=True, group=True, n_startup_trials=8, **con, **kw)
    if spec.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=12, **con, **kw)
    if spec.sampler == "gp":
        return optuna.samplers.GPSampler(n_startup_trials=8, **con, **kw)
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(**kw)
    raise SearchError(f"unknown sampler {spec.sampler!r}; choose tpe, nsga2, gp or random")


def make_study(spec: SearchSpec) -> optuna.Study:
    storage = make_storage(spec.storage_url)
    pruner = optuna.pruners.NopPruner()
    if pruning_mode(spec.objectives, spec.pruning) == OPTUNA:
        pruner = optuna.pruners.HyperbandPruner(min_resource=spec.proxy.val_every, max_resource=spec.proxy.steps)
    try:
        study = optuna.create_study(
            storage=storage,
            sampler=make_sampler(spec),
            pruner=pruner,
            study_name=spec.tracking.study_name,
            directions=spec.directions,
            load_if_exists=True,
        )
    except ValueError as e:  # e.g. the stored study has other directions
        raise SearchError(
            f"study {spec.tracking.study_name!r} in {redact_url(spec.storage_url)} does not match: {e}; "
            "use another --out or --study-name"
        ) from e
    stored = study.user_attrs.get("objectives")
    if [d.name.lower() for d in study.directions] != spec.directions or stored not in (None, list(spec.objectives)):
        # Same directions are not enough: (psnr, macs) values read as (psnr, latency) would be a wrong front.
        was = ",".join(stored) if stored else f"{len(study.directions)} objectives"
        raise SearchError(
            f"study {spec.tracking.study_name!r} in {redact_url(spec.storage_url)} was created with other objectives "
            f"({was}; this run asks for {','.join(spec.objectives)}); use another --out or --study-name"
        )
    if stored is None:
        study.set_user_attr("objectives", list(spec.objectives))
    return study


def check_fingerprint(study: optuna.Study, spec: SearchSpec, settings: dict) -> str:
    """Store the settings' fingerprint in a new study; refuse to resume one that was run with others."""
    fp = fingerprint(settings)
    stored = study.user_attrs.get("fingerprint")
    if stored is None:
        if study.get_trials(deepcopy=False):
            raise SearchError(
                f"study {spec.tracking.study_name!r} in {redact_url(spec.storage_url)} has trials but no settings "
                "fingerprint (an older version of rife-nas made it): use a new --out or --study-name"
            )
        study.set_user_attr("fingerprint", fp)
        study.set_user_attr("fingerprint_settings", settings)
        return fp
    if stored != fp:
        recorded = study.user_attrs.get("fingerprint_settings", {})
        diff = settings_diff(recorded, settings)
        hint = ""
        if recorded.get("space") is not None and recorded.get("space") != settings.get("space"):
            # The default space changes between versions; its recorded form is what resumes the study.
            path = Path(spec.out) / "recorded_space.yaml"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(yaml.safe_dump(recorded["space"], sort_keys=False))
            hint = f" The study's space is written to {path}: pass --space {path} to search it again."
        raise SearchError(
            f"study {spec.tracking.study_name!r} in {redact_url(spec.storage_url)} was run with other settings, so its "
            f"results would not be comparable: {'; '.join(diff)}. Either start a new study (another --out, or "
            "--study-name) for the new settings, or re-run with the study's settings (its search_spec.json) to "
            f"resume it.{hint}"
        )
    return fp


class Progress:
    """Callback: a line per finished trial (k/N, params, MACs, PSNR, state, elapsed, ETA)."""

    def __init__(self, spec: SearchSpec, already: int) -> None:
        self.spec = spec
        self.start = time.perf_counter()
        self.already = already
        self.done_here = 0
        self.infeasible_run = 0

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if is_infeasible(trial):
            self.infeasible_run += 1
            log.debug("trial %d infeasible: %s", trial.number, trial.user_attrs.get("infeasible_reason"))
            return
        self.infeasible_run = 0
        self.done_here += 1
        k = self.already + self.done_here
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done_here * max(0, self.spec.trials - k)
        r = TrialRecord.of(trial.user_attrs)
        psnr = f"{r.psnr:.2f} dB" if r.psnr is not None else "-"
        macs = f"{r.macs / 1e9:.3f} G" if r.macs is not None else "-"
        note = trial.state.name.lower() + (" (reused)" if r.reused_from is not None else "")
        log.info(
            "trial %d/%d  #%d  %s params  %s MACs  PSNR %s  %s  elapsed %.0fs  ETA %.0fs",
            k,
            self.spec.trials,
            trial.number,
            f"{r.params or 0:,}",
            macs,
            psnr,
            note,
            elapsed,
            eta,
        )


class StopWhenDone:
    """Callback: stop this worker once the study holds ``spec.trials`` counted trials (all workers)."""

    def __init__(self, spec: SearchSpec, progress: Progress) -> None:
        self.spec = spec
        self.progress = progress

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        n = sum(counted(t) for t in study.get_trials(deepcopy=False))
        if n >= self.spec.trials:
            study.stop()
        if self.progress.infeasible_run >= MAX_INFEASIBLE_IN_A_ROW:
            study.stop()
            raise SearchError(
                f"{MAX_INFEASIBLE_IN_A_ROW} samples in a row were over the limits: raise --budget "
                "or narrow the space (--fix / --space) to smaller architectures"
            )


class TrackFront:
    """Callback: log the trial to MLflow, then refresh the front CSV, dashboard and parent run."""

    def __init__(
        self,
        spec: SearchSpec,
        tracker,
        baselines: dict[str, float] | None = None,
        baseline_latency: dict[str, dict[str, float]] | None = None,
    ) -> None:
        self.spec = spec
        self.tracker = tracker
        self.baselines = baselines or {}
        self.baseline_latency = baseline_latency or {}

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        if is_infeasible(trial):
            return
        df = results_table(study)
        pareto = set(df.loc[df["pareto"], "trial"])
        csv, html = self.write_outputs(df)
        if self.tracker is not None:
            what = f"trial {trial.number}"
            if best_effort(what, self.spec, self.tracker.log_trial, trial, trial.number in pareto) is not None:
                best_effort("the front", self.spec, self.tracker.update_front, pareto, csv, html, feasible_rate(study))

    def write_outputs(self, df: pd.DataFrame) -> tuple[Path, Path]:
        out = self.spec.out
        out.mkdir(parents=True, exist_ok=True)
        write_csv(df, out / "trials.csv")
        front = df[df["pareto"]].sort_values(x_axis(self.spec))
        write_csv(front, out / "pareto_front.csv")
        html = write_dashboard(
            df,
            out / "dashboard.html",
            x=x_axis(self.spec),
            y=y_axis(self.spec),
            baselines=self.baselines,
            baseline_latency=self.baseline_latency,
            title=dashboard_title(self.spec.tracking.study_name),
        )
        return out / "pareto_front.csv", html


def dashboard_title(study_name: str) -> str:
    """The dashboard's heading: the study's name where it is not the default's (which would repeat it)."""
    default = TrackingSettings().study_name
    return "rife-nas search" if study_name == default else f"rife-nas search: study {study_name}"


def x_axis(spec: SearchSpec) -> str:
    """Results-table column of the dashboard's x axis: the first cost objective (else params)."""
    return objective_info(spec.cost_objective).column


def y_axis(spec: SearchSpec) -> str:
    """Results-table column of the y axis: the first quality objective (else PSNR)."""
    return objective_info(next((o for o in spec.objectives if o in QUALITY), "psnr")).column


def feasible_rate(study: optuna.Study) -> dict[str, float]:
    sampled = [t for t in study.get_trials(deepcopy=False) if t.state != TrialState.RUNNING]
    infeasible = sum(is_infeasible(t) for t in sampled)
    return {
        "samples": len(sampled),
        "infeasible_samples": infeasible,
        "feasible_rate": (len(sampled) - infeasible) / len(sampled) if sampled else 0.0,
    }


def fail_dead_workers_trials(study: optuna.Study, storage: optuna.storages.BaseStorage) -> list[int]:
    """Fail the RUNNING trials whose process on this machine is gone; returns their numbers.

    RDB storages do this with Optuna's heartbeat; the journal storage (several processes on one machine)
    has none, so a killed worker's trial would stay RUNNING forever. Trials of other machines are left.
    """
    host = socket.gethostname()
    study_id = storage.get_study_id_from_name(study.study_name)
    failed = []
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        worker = TrialRecord.of(t.user_attrs).worker
        if worker is None or worker.rpartition(":")[0] != host or _alive(int(worker.rpartition(":")[2])):
            continue
        trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, t.number)
        storage.set_trial_state_values(trial_id, TrialState.FAIL)
        failed.append(t.number)
    if failed:
        log.info("trials %s were RUNNING in processes that no longer exist: marked failed, redone", failed)
    return failed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def run_search(
    spec: SearchSpec,
    space: SearchSpace,
    tracker=None,
    baselines: dict[str, float] | None = None,
    study: optuna.Study | None = None,
    parent: IFNet | None = None,
    baseline_latency: dict[str, dict[str, float]] | None = None,
) -> optuna.Study:
    """Run (or resume) the study until it holds ``spec.trials`` counted trials.

    ``parent``: the space's parent, loaded once by the command (required where the space names one).
    ``baselines`` (PSNR) and ``baseline_latency`` (``search.baselines``) are stored with the study and drawn.

    ``study`` is one from ``make_study`` (opened and checked by the caller), or None to open it here.
    """
    if study is None:
        study = make_study(spec)
    fp = check_fingerprint(study, spec, spec.fingerprint_settings(space.to_dict()))
    already = sum(counted(t) for t in study.get_trials(deepcopy=False))
    if already:
        log.info("resuming study %r: %d of %d trials already done", spec.tracking.study_name, already, spec.trials)
    if baselines:
        study.set_user_attr("baselines", baselines)  # a report built from the storage by name draws them
    if baseline_latency:
        study.set_user_attr("baseline_latency", baseline_latency)
    if spec.storage_url.startswith("journal://"):  # a second handle on the log: Optuna keeps the study's private
        fail_dead_workers_trials(study, make_storage(spec.storage_url))
    if tracker is not None and already:
        best_effort("the resume-time sync", spec, tracker.sync, study)  # trials a killed run stored, not logged
    progress = Progress(spec, already)
    callbacks = [progress, TrackFront(spec, tracker, baselines, baseline_latency), StopWhenDone(spec, progress)]
    if already < spec.trials:
        study.optimize(
            Objective(spec, space, fp, parent),
            n_jobs=spec.n_jobs,
            callbacks=callbacks,
            catch=(RuntimeError, ValueError),  # TrialFailed, NaN and out-of-memory are RuntimeErrors
            gc_after_trial=True,
        )
    return study
