"""The tracking server goes away mid-search: the search finishes, warns, keeps every result in the Optuna
storage, and ``python -m search.sync`` back-fills MLflow once a server is back (real ``mlflow server``)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import optuna
import pytest
from mlflow.tracking import MlflowClient

from search.study import counted
from search.sync import main as sync_main
from search.tracking import EXPERIMENT
from tests.search.mlflow_server import mlflow_server
from tests.search.test_run import search_command

pytestmark = pytest.mark.slow  # processes killed, servers stopped: `python -m pytest -m slow`


def _trial_runs(uri: str) -> list:
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(EXPERIMENT)
    return [] if exp is None else client.search_runs([exp.experiment_id], filter_string="tags.kind = 'trial'")


def test_search_survives_a_dead_tracking_server_and_sync_backfills(tmp_path: Path, capsys) -> None:
    out, store = tmp_path / "search", tmp_path / "tracking"
    store.mkdir()
    env = {**os.environ, "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}  # give up on the dead server at once
    log = tmp_path / "search.log"
    with mlflow_server(store) as (uri, server), log.open("w") as fh:
        cmd = search_command(
            *"--budget 150k --trials 3 --no-lpips --out".split(),
            str(out),
            "--mlflow-uri",
            uri,
        )
        search = subprocess.Popen(cmd, stdout=fh, stderr=fh, env=env)
        deadline = time.monotonic() + 300
        while not [r for r in _trial_runs(uri) if r.info.status != "RUNNING"]:  # the first trial is logged
            assert search.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        server.terminate()
        server.wait(timeout=30)
        code = search.wait(timeout=600)
    printed = log.read_text()
    assert code == 0, printed[-3000:]
    assert "was not logged" in printed and f"python -m search.sync --out {out}" in printed

    study = optuna.load_study(study_name="rife-nas", storage=f"sqlite:///{out / 'optuna.db'}")
    stored = {t.number for t in study.get_trials(deepcopy=False) if counted(t)}
    assert len(stored) == 3  # every trial finished and is in the storage

    with mlflow_server(store) as (uri, _):  # the same tracking store, back on another port
        before = {int(r.data.tags["trial_number"]) for r in _trial_runs(uri) if r.info.status != "RUNNING"}
        assert before < stored  # some trials were not logged while the server was down
        assert sync_main(["--out", str(out), "--mlflow-uri", uri]) == 0
        runs = _trial_runs(uri)
        assert {int(r.data.tags["trial_number"]) for r in runs} == stored
        assert all(r.info.status != "RUNNING" for r in runs) and len(runs) == len(stored)
        assert f"logged {len(stored - before)} trial(s)" in capsys.readouterr().out
        assert sync_main(["--out", str(out), "--mlflow-uri", uri]) == 0  # again: nothing left to log
        assert "logged 0 trial(s)" in capsys.readouterr().out and len(_trial_runs(uri)) == len(stored)
