"""The MLflow address the commands print lands on the runs table, in a real browser and a real ``mlflow ui``.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped with the reason where it is missing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from search.tracking import ML_EXPERIMENT, ui_hint
from tests.reports.test_browser import CHROMIUM, FLAGS
from tests.search.mlflow_server import mlflow_server


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_printed_address_opens_the_runs_table(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("ui-check", artifact_location=(tmp_path / "a").as_uri(), tags=ML_EXPERIMENT)
    parent = client.create_run(exp, run_name="study-parent-xyz").info.run_id
    client.create_run(exp, run_name="trial-child-xyz", tags={"mlflow.parentRunId": parent})
    address = ui_hint(uri, exp).split("then open ")[1].strip()
    with mlflow_server(tmp_path, command="ui") as (server_uri, _):
        address = address.replace("http://127.0.0.1:5000", server_uri)
        dom = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", address],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        ).stdout
    assert "Training runs" in dom and "study-parent-xyz" in dom, dom[-2000:]
