"""Several worker processes on one machine, one study: a journal file or an SQLite file with a busy timeout
as the Optuna storage and one MLflow SQLite store, all started at once; and the journal's stale-trial sweep
after a kill -9 (RDB storages have Optuna's heartbeat, tested in test_run)."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient

from results.record import TrialRecord
from results.study_table import counted, open_storage
from search.tracking import EXPERIMENT
from tests.search.test_run import search_command

pytestmark = pytest.mark.slow  # processes killed, servers stopped: `python -m pytest -m slow`


STORAGES = {"journal": "journal://{tmp}/study.log", "sqlite": "sqlite:///{tmp}/study.db?timeout=60"}


def _url(tmp_path: Path, kind: str) -> str:
    return STORAGES[kind].format(tmp=tmp_path)


def _command(tmp_path: Path, out: str, trials: int, kind: str = "journal") -> list[str]:
    return search_command(
        "--budget",
        "150k",
        "--trials",
        str(trials),
        "--no-lpips",
        "--storage",
        _url(tmp_path, kind),
        "--study-name",
        "local",
        "--mlflow-uri",
        f"sqlite:///{tmp_path / 'mlflow.db'}",
        "--out",
        str(tmp_path / out),
    )


def _study(tmp_path: Path, kind: str = "journal") -> optuna.Study:
    return optuna.load_study(study_name="local", storage=open_storage(_url(tmp_path, kind)))


@pytest.mark.parametrize("kind", sorted(STORAGES))
def test_three_local_workers_share_one_study_and_one_mlflow_store(kind: str, tmp_path: Path) -> None:
    logs = [tmp_path / f"worker{k}.log" for k in range(3)]
    workers = []
    for k, log in enumerate(logs):
        with log.open("w") as fh:
            workers.append(subprocess.Popen(_command(tmp_path, f"w{k}", 5, kind), stdout=fh, stderr=fh))
    codes = [w.wait(timeout=900) for w in workers]
    assert codes == [0, 0, 0], "\n".join(log.read_text()[-2000:] for log in logs)

    everything = _study(tmp_path, kind).get_trials(deepcopy=False)
    trials = [t for t in everything if counted(t)]
    assert 5 <= len(trials) <= 7  # each worker stops at the total; the others' running trials finish
    numbers = [t.number for t in everything]
    assert sorted(numbers) == list(range(len(numbers)))  # one numbering, no gaps, no repeats
    assert not [t for t in everything if t.state.name == "RUNNING"]
    trained = [TrialRecord.of(t.user_attrs).arch_id for t in trials if t.user_attrs.get("reused_from") is None]
    assert len(trained) == len(set(trained)), "an architecture was trained twice"

    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    exp = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([exp.experiment_id], filter_string="tags.study_name = 'local' and tags.kind = 'trial'")
    assert sorted(int(r.data.tags["trial_number"]) for r in runs) == sorted(t.number for t in trials)
    assert all(r.info.status != "RUNNING" for r in runs)
    assert not any("was not logged" in log.read_text() for log in logs)  # the shared SQLite store kept up
    parents = {r.data.tags["mlflow.parentRunId"] for r in runs}
    assert len(parents) == 1


def test_a_killed_workers_running_trial_is_failed_and_redone_on_the_journal(tmp_path: Path) -> None:
    cmd = _command(tmp_path, "w", 2)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while True:  # killed while a trial runs
        assert proc.poll() is None and time.monotonic() < deadline
        if (tmp_path / "study.log").exists():
            running = [t for t in _study(tmp_path).trials if t.state.name == "RUNNING" and "worker" in t.user_attrs]
            if running:
                break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    killed = running[0].number
    assert subprocess.run(cmd, capture_output=True, check=False).returncode == 0
    trials = _study(tmp_path).trials
    assert trials[killed].state.name == "FAIL" and not counted(trials[killed])
    assert not [t for t in trials if t.state.name == "RUNNING"]
    assert sum(counted(t) for t in trials) == 2
