"""MLflow tracking: one parent run per study, one nested run per trained trial, the front on the parent.

A small in-house callback (optuna-integration's MLflowCallback is deprecated and nests runs wrongly).
It uses ``MlflowClient`` with explicit run ids, so it is safe with several threads or processes.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import optuna
import torch

from reports.page import PLOTLY_JS
from results.record import TrialRecord
from results.study_table import GRACE_S, counted
from rife_core.cli.args import quiet_third_party_loggers
from search.spec import SearchSpec

log = logging.getLogger(__name__)

EXPERIMENT = "rife-nas"
# Marks the experiment as model development for MLflow 3's UI. Seen in headless Chromium (MLflow 3.17.2):
# the tag alone does not stop the UI from opening an experiment on its GenAI overview (empty here); the
# address ``#/experiments/ID/runs`` (``ui_hint``) lands on the runs table with parents and nested runs.
ML_EXPERIMENT = {"mlflow.experimentKind": "custom_model_development"}
UI_PORT = 5000  # ``mlflow ui``'s default


def ui_hint(tracking_uri: str, experiment_id: str) -> str:
    """The command that serves ``tracking_uri`` and the address of the experiment's runs table."""
    return (
        f"mlflow ui --backend-store-uri {tracking_uri}\n"
        f"            then open http://127.0.0.1:{UI_PORT}/#/experiments/{experiment_id}/runs"
    )


# MLflow retries an unreachable server for about four minutes per call by default; a search would stall
# that long after every trial. Commands set these unless the user did.
HTTP_RETRY_DEFAULTS = {
    "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "3",
    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
    "MLFLOW_HTTP_REQUEST_TIMEOUT": "30",
}
SYNC_HINT = "python -m search.sync --out {out}"
T = TypeVar("T")


def limit_http_retries() -> None:
    """Short MLflow HTTP retries (seconds, not minutes, to give up on a dead server) unless the environment sets
    them."""
    for k, v in HTTP_RETRY_DEFAULTS.items():
        os.environ.setdefault(k, v)


def best_effort(what: str, spec: SearchSpec, fn: Callable[..., T], *args) -> T | None:
    """``fn(*args)``, an MLflow call; when the tracking store fails, warn and return None: the search goes on,
    its results are in the Optuna storage, and ``search.sync`` logs them later."""
    try:
        return fn(*args)
    except Exception as e:  # any failure of the tracking store (HTTP, SQLite locked, server error)
        text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        first = text if len(text) <= 200 else text[:200] + "..."
        log.warning(
            "MLflow: %s was not logged (%s). The search goes on and keeps every result in the Optuna storage; "
            "once the tracking store is back, `%s` logs what is missing.",
            what,
            first,
            SYNC_HINT.format(out=spec.out),
        )
        return None


@contextmanager
def _creation_lock(tracking_uri: str) -> Iterator[None]:
    """For a local SQLite store, hold an exclusive file lock beside it: workers started together on a new
    store would otherwise run MLflow's schema migrations at once and break them. Other stores: no lock."""
    if not tracking_uri.startswith("sqlite:///"):
        yield
        return
    import fcntl

    lock = Path(tracking_uri[len("sqlite:///") :] + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}
FLOP_COUNTER = "fvcore FlopCountAnalysis (1 multiply-add = 1 MAC; grid_sample 4 MACs per output value)"


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).parent,
            timeout=5,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


class MlflowWriter:
    """One MLflow experiment, one parent run found again by its tags, nested runs under it.

    The one writer of studies, ablations and fidelity runs, with one resume rule (``sync``): a stored
    result without a finished nested run is logged again, and a nested run a kill left RUNNING is replaced,
    unless it may be another live worker's (younger than ``grace_s``). Safe with several threads or
    processes: explicit run ids, creation races resolved by keeping the first-created run.
    """

    def __init__(
        self,
        tracking_uri: str,
        experiment: str,
        parent_run_tags: dict[str, str],
        parent_run_name: str,
        *,
        artifacts: Path | None = None,
        on_new_parent_run: Callable[[Any, str], None] | None = None,
    ) -> None:
        """``artifacts``: where a local store keeps artifacts (a server decides its own); ``on_new_parent_run``:
        called as ``fn(client, run_id)`` once, when this writer created the parent run."""
        from mlflow.tracking import MlflowClient

        quiet_third_party_loggers()  # MLflow sets its logger to INFO when imported
        self.uri, self.parent_run_tags = tracking_uri, parent_run_tags
        with _creation_lock(tracking_uri):  # the first use of a new store creates its tables
            self.client = MlflowClient(tracking_uri=tracking_uri)
            self.experiment_id = self._experiment(experiment, artifacts)
            self.parent_run_id = self._parent_run(parent_run_name, on_new_parent_run)

    def _experiment(self, name: str, artifacts: Path | None) -> str:
        """The experiment, created on first use; several workers may race to create it."""
        from mlflow.exceptions import MlflowException

        exp = self.client.get_experiment_by_name(name)
        if exp is not None:
            return exp.experiment_id
        remote = self.uri.startswith(("http://", "https://"))
        location = None if remote or artifacts is None else artifacts.resolve().as_uri()
        try:
            return self.client.create_experiment(name, artifact_location=location, tags=ML_EXPERIMENT)
        except MlflowException as e:  # another worker created it first
            exp = self.client.get_experiment_by_name(name)
            if exp is None:
                raise
            log.info("experiment %s was created by another worker (%s)", name, e.error_code)
            return exp.experiment_id

    def _parent_runs(self) -> list:
        """Runs with the parent's tags, the first created first."""
        where = " and ".join(f"tags.{k} = '{v}'" for k, v in self.parent_run_tags.items())
        return self.client.search_runs(
            [self.experiment_id], filter_string=where, order_by=["attributes.start_time ASC"]
        )

    def _parent_run(self, name: str, on_new: Callable[[Any, str], None] | None) -> str:
        found = self._parent_runs()
        if found:
            return found[0].info.run_id
        run = self.client.create_run(self.experiment_id, tags=dict(self.parent_run_tags), run_name=name)
        first = self._parent_runs()[0]
        if first.info.run_id != run.info.run_id:  # another worker created it at the same time
            self.client.delete_run(run.info.run_id)
            return first.info.run_id
        if on_new is not None:
            on_new(self.client, run.info.run_id)
        return run.info.run_id

    def nested_runs(self) -> list:
        return self.client.search_runs(
            [self.experiment_id], filter_string=f"tags.mlflow.parentRunId = '{self.parent_run_id}'", max_results=5000
        )

    def start_nested(self, name: str, tags: dict[str, str]) -> str:
        run = self.client.create_run(
            self.experiment_id, tags={"mlflow.parentRunId": self.parent_run_id, **tags}, run_name=name
        )
        return run.info.run_id

    def sync(self, stored: dict[str, Callable[[], Any]], key_tag: str, grace_s: float | None = None) -> int:
        """Log (``stored[key]()``) every stored result whose key has no finished nested run; RUNNING runs
        older than ``grace_s`` (None: all) are deleted first. Returns how many were logged."""
        have: set[str] = set()
        now_ms = time.time() * 1000
        for r in self.nested_runs():
            live = grace_s is not None and now_ms - r.info.start_time < grace_s * 1000
            if r.info.status == "RUNNING" and not live:  # cut short mid-logging: replaced below
                self.client.delete_run(r.info.run_id)
            else:
                have.add(r.data.tags.get(key_tag, ""))
        missing = [k for k in stored if k not in have]
        for key in missing:
            stored[key]()
        if missing:
            log.info("MLflow: logged %d stored result(s) a stopped run had not logged", len(missing))
        return len(missing)

    def finish(self, status: str = "FINISHED") -> None:
        self.client.set_terminated(self.parent_run_id, status)


class MlflowTracker:
    def __init__(self, spec: SearchSpec) -> None:
        import mlflow  # noqa: F401 - fail early with a clear import error

        self.spec = spec
        s = spec
        # Tags every run of this study carries; the git commit is looked up once, not per trial.
        self.common_tags = {
            "study_name": s.tracking.study_name,
            "budget": str(s.budget),
            "objectives": ",".join(s.objectives),
            "flop_counter": FLOP_COUNTER,
            "mac_unit": "MACs",
            "mac_resolution": f"{s.proxy.size[0]}x{s.proxy.size[1]}",
            "torch_version": torch.__version__,
            "optuna_version": optuna.__version__,
            "git_commit": _git_commit() or "none",
        }
        self.writer = MlflowWriter(
            spec.tracking_uri,
            EXPERIMENT,
            {"study_name": s.tracking.study_name, "kind": "study"},
            f"study {s.tracking.study_name}",
            artifacts=spec.out / "mlartifacts",
            on_new_parent_run=self._describe_study,
        )
        self.client, self.experiment_id, self.parent_run_id = (
            self.writer.client,
            self.writer.experiment_id,
            self.writer.parent_run_id,
        )
        self._js_logged = False

    def _describe_study(self, client: Any, run_id: str) -> None:
        from mlflow.entities import Param, RunTag

        params = [Param(k, (v if isinstance(v, str) else json.dumps(v))[:6000]) for k, v in self.spec.to_dict().items()]
        client.log_batch(run_id, params=params, tags=[RunTag(k, v) for k, v in self.common_tags.items()])

    def trial_runs(self) -> list:
        """The runs nested under the study's parent run: one per logged trial."""
        return self.writer.nested_runs()

    def log_trial(self, trial: optuna.trial.FrozenTrial, pareto: bool) -> str | None:
        """Nested run for a trained (or pruned/failed) trial; infeasible samples are not runs."""
        from mlflow.entities import Metric, Param, RunTag

        rec = TrialRecord.of(trial.user_attrs)
        if rec.infeasible:
            return None
        s = self.spec
        state = trial.state.name
        tags = {
            "kind": "trial",
            "trial_number": str(trial.number),
            "state": state,
            "arch_id": rec.arch_id or "",
            "fingerprint": rec.fingerprint or "",
            "pareto": "true" if pareto else "false",
            **self.common_tags,
        }
        if rec.pruned_by is not None:
            tags["pruned_by"] = json.dumps(rec.pruned_by)[:5000]
        if rec.fail_reason is not None:
            tags["fail_reason"] = rec.fail_reason[:5000]
        if rec.reused_from is not None:
            tags["reused_from"] = str(rec.reused_from)
        rid = self.writer.start_nested(f"trial {trial.number:04d}", tags)
        now = int(time.time() * 1000)
        params = [Param(k, str(v)) for k, v in trial.params.items()]
        if rec.config_json is not None:
            cfg = json.loads(rec.config_json)
            params += [Param(f"arch.{k}", str(v)) for k, v in cfg.items() if k != "blocks"]
            params.append(Param("arch.levels", str(len(cfg["blocks"]))))
        if rec.weight_seed is not None:
            params.append(Param("weight_seed", str(rec.weight_seed)))
        timings = {k: getattr(rec, k) for k in ("overhead_s", "train_s") if getattr(rec, k) is not None}
        metrics = [Metric(k, v, now, 0) for k, v in {**rec.metrics(), **timings}.items()]
        metrics += [Metric("val_psnr", float(v), now, int(step)) for step, v in (rec.curve or {}).items()]
        self.client.log_batch(rid, metrics=metrics, params=params, tags=[RunTag("arch_hash", rec.arch_id or "")])
        trial_dir = s.out / "trials" / f"{trial.number:04d}"
        if rec.config_json is not None:
            with tempfile.TemporaryDirectory() as tmp:
                arch = Path(tmp) / "arch.json"
                arch.write_text(json.dumps(json.loads(rec.config_json), indent=1))
                self.client.log_artifact(rid, str(arch))
        for name in ("strip.png", "last.pt"):
            if (trial_dir / name).is_file():
                self.client.log_artifact(rid, str(trial_dir / name))
        self.client.set_terminated(rid, STATUS.get(state, "FAILED"))
        return rid

    def sync(self, study: optuna.Study) -> int:
        """Log every counted trial of ``study`` that has no finished MLflow run (a run killed between storing
        a trial and logging it, or while logging it); runs a kill left RUNNING are replaced. Returns how many
        trials were logged.

        On a shared storage a RUNNING run may be another worker logging its trial right now: it is left
        alone until it is as old as a stale Optuna trial (``GRACE_S``).
        """

        counted_trials = {str(t.number): t for t in study.get_trials(deepcopy=False) if counted(t)}
        # the front's flags are set again after the next trial
        stored = {k: (lambda t=t: self.log_trial(t, pareto=False)) for k, t in counted_trials.items()}
        return self.writer.sync(stored, "trial_number", GRACE_S if self.spec.shared_storage else None)

    def log_report(self, folder: Path) -> None:
        """Attach the full report folder (``reports.build``) to the parent run."""
        self.client.log_artifacts(self.parent_run_id, str(folder), "report")

    def update_front(self, pareto_numbers: set[int], front_csv: Path, dashboard: Path, summary: dict) -> None:
        """Re-tag trial runs' pareto flags and attach the current front to the parent run."""
        runs = self.trial_runs()
        for r in runs:
            number = int(r.data.tags.get("trial_number", -1))
            flag = "true" if number in pareto_numbers else "false"
            if r.data.tags.get("pareto") != flag:
                self.client.set_tag(r.info.run_id, "pareto", flag)
        for path in (front_csv, dashboard):
            if path.is_file():
                self.client.log_artifact(self.parent_run_id, str(path))
        js = dashboard.parent / PLOTLY_JS
        if not self._js_logged and js.is_file():
            self.client.log_artifact(self.parent_run_id, str(js))  # once: the dashboard loads it from beside itself
            self._js_logged = True
        now = int(time.time() * 1000)
        from mlflow.entities import Metric

        self.client.log_batch(self.parent_run_id, metrics=[Metric(k, float(v), now, 0) for k, v in summary.items()])
