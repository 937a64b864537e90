"""The MLflow address the commands print lands on the runs table, in a real browser and a real ``mlflow ui``.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped with the reason where it is missing.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from search.tracking import ML_EXPERIMENT, ui_hint
from tests.reports.test_browser import CHROMIUM, FLAGS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_printed_address_opens_the_runs_table(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment("ui-check", artifact_location=(tmp_path / "a").as_uri(), tags=ML_EXPERIMENT)
    parent = client.create_run(exp, run_name="study-parent-xyz").info.run_id
    client.create_run(exp, run_name="trial-child-xyz", tags={"mlflow.parentRunId": parent})
    address = ui_hint(uri, exp).split("then open ")[1].strip()
    port = _free_port()
    address = address.replace(":5000/", f":{port}/")
    cmd = [sys.executable, "-m", "mlflow", "ui", "--backend-store-uri", uri, "--host", "127.0.0.1", "--port", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        dom = subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", address],
            capture_output=True, text=True, timeout=120, check=False,
        ).stdout  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "Training runs" in dom and "study-parent-xyz" in dom, dom[-2000:]
