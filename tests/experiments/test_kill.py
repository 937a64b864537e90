"""Kill -9 of an ablation run at several moments, then the same command: every (variant, seed) ends in
``runs.jsonl`` once, MLflow holds exactly one finished run for each, and a line a kill cut short costs
nothing."""

from __future__ import annotations

import contextlib
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from mlflow.tracking import MlflowClient

from experiments.runner import EXPERIMENT
from tests.experiments.test_run import tiny_spec

pytestmark = pytest.mark.slow  # processes killed, servers stopped: `python -m pytest -m slow`


def _rows(path: Path) -> list[dict]:
    rows = []
    for line in path.read_text().splitlines() if path.is_file() else []:
        with contextlib.suppress(json.JSONDecodeError):  # a line cut short
            rows.append(json.loads(line))
    return rows


def test_killed_ablation_resumes_to_every_run_once_in_both_stores(tmp_path: Path) -> None:
    spec, out = tiny_spec(tmp_path), tmp_path / "out"
    jsonl = out / "tiny_upsample" / "runs.jsonl"
    cmd = [sys.executable, "-m", "experiments.run", str(spec), "--out", str(out), "--no-lpips"]

    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not _rows(jsonl):  # killed right after its first run is stored: before or while logging it
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    with jsonl.open("a") as f:
        f.write('{"ablation": "tiny_upsample", "vari')  # what a kill in the middle of a write leaves
    second = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        second.wait(timeout=random.Random(0).uniform(4, 10))
    except subprocess.TimeoutExpired:
        second.send_signal(signal.SIGKILL)
        second.wait()
    final = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert final.returncode == 0, final.stderr[-3000:]

    rows = _rows(jsonl)
    keys = [r["key"] for r in rows]
    assert len(keys) == len(set(keys)) == 4  # 2 variants x 2 seeds, none twice
    assert sorted((r["variant"], r["seed"]) for r in rows) == [
        ("bilinear", 0),
        ("bilinear", 1),
        ("deconv", 0),
        ("deconv", 1),
    ]
    client = MlflowClient(tracking_uri=f"sqlite:///{(out / 'mlflow.db').resolve()}")
    exp = client.get_experiment_by_name(EXPERIMENT)
    (parent,) = client.search_runs([exp.experiment_id], "tags.ablation = 'tiny_upsample' and tags.kind = 'ablation'")
    children = client.search_runs([exp.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'")
    assert sorted(r.data.tags["key"] for r in children) == sorted(keys)
    assert all(r.info.status == "FINISHED" for r in children)
