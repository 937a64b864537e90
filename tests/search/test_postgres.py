"""Several machines on one study: two ``search.run`` workers on a real PostgreSQL storage and an MLflow server.

Needs a PostgreSQL server: ``.ci/run`` installs Debian's package, starts it and exports
``RIFE_NAS_TEST_POSTGRES`` (a URL of an empty database the test may write to); skipped without it.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import optuna
import pytest
from mlflow.tracking import MlflowClient

from results.study_table import open_storage
from search.study import counted
from search.tracking import EXPERIMENT
from tests.search.mlflow_server import mlflow_server
from tests.search.test_run import search_command

URL = os.environ.get("RIFE_NAS_TEST_POSTGRES")
pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(URL is None, reason="no PostgreSQL server: set RIFE_NAS_TEST_POSTGRES (.ci/run starts one)"),
]


@pytest.mark.slow
def test_two_workers_on_postgresql_share_one_study(tmp_path: Path) -> None:
    study_name = f"pg-{uuid.uuid4().hex[:8]}"  # the database outlives the test: a fresh study each run
    with mlflow_server(tmp_path) as (mlflow_uri, _):
        # The same command on every "machine"; only the local output folder differs.
        cmd = search_command(
            *"--budget 150k --trials 4 --no-lpips --storage".split(),
            URL,
            "--study-name",
            study_name,
            "--mlflow-uri",
            mlflow_uri,
        )
        logs = [tmp_path / f"machine{k}.log" for k in range(2)]
        workers = []
        for k, log in enumerate(logs):
            with log.open("w") as fh:  # files, not pipes: a full pipe would stall a worker
                workers.append(subprocess.Popen([*cmd, "--out", str(tmp_path / f"machine{k}")], stdout=fh, stderr=fh))
        codes = [w.wait(timeout=900) for w in workers]
        outputs = [log.read_text(errors="replace") for log in logs]
        assert codes == [0, 0], "\n".join(o[-3000:] for o in outputs)

        study = optuna.load_study(study_name=study_name, storage=URL)
        everything = study.get_trials(deepcopy=False)
        trials = [t for t in everything if counted(t)]  # finished and feasible: completed, pruned or failed
        done = [t for t in trials if t.state.name == "COMPLETE"]
        # Each worker stops at the total; a trial already running in the other may finish it by one.
        assert 4 <= len(trials) <= 5 and done
        assert not [t for t in everything if t.state.name == "RUNNING"]
        numbers = [t.number for t in everything]
        assert len(numbers) == len(set(numbers))
        trained = [t.user_attrs["arch_id"] for t in trials if t.user_attrs.get("reused_from") is None]
        assert len(trained) == len(set(trained)), "an architecture was trained twice"

        client = MlflowClient(tracking_uri=mlflow_uri)
        exp = client.get_experiment_by_name(EXPERIMENT)
        runs = client.search_runs(
            [exp.experiment_id], filter_string=f"tags.study_name = '{study_name}' and tags.kind = 'trial'"
        )
        assert {int(r.data.tags["trial_number"]) for r in runs} >= {t.number for t in trials}
        assert all(r.info.status != "RUNNING" for r in runs)
        parents = client.search_runs(
            [exp.experiment_id], filter_string=f"tags.study_name = '{study_name}' and tags.kind = 'study'"
        )
        assert len(parents) == 1 and {r.data.tags["mlflow.parentRunId"] for r in runs} == {parents[0].info.run_id}
        password = urlsplit(URL).password
        assert not password or not any(password in o for o in outputs)  # URLs are printed masked


def _open(url: str) -> str:
    try:
        open_storage(url)
        return "opened"
    except Exception as e:
        return str(e)


def test_workers_opening_an_empty_database_at_once_all_get_the_storage() -> None:
    """Machines started together on a new database race to create Optuna's tables and types; each opens it."""
    import sqlalchemy as sa

    engine = sa.create_engine(URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        for _ in range(4):  # the race is lost often, not always: a few empty schemas
            schema = f"race_{uuid.uuid4().hex[:8]}"
            with engine.begin() as c:
                c.execute(sa.text(f"CREATE SCHEMA {schema}"))
            try:
                url = f"{URL}{'&' if '?' in URL else '?'}options=-csearch_path%3D{schema}"
                results = pool.map(_open, [url] * 4, chunksize=1)
                assert results == ["opened"] * 4, results
                with engine.begin() as c:
                    tables = c.execute(sa.text(f"SELECT count(*) FROM pg_tables WHERE schemaname = '{schema}'"))
                    assert tables.scalar() > 0  # the tables went into the fresh schema, not the shared one
            finally:
                with engine.begin() as c:
                    c.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
    engine.dispose()
