"""A study as a results table: open any Optuna storage, count its trials, build ``TABLE_COLUMNS`` rows.

The search writes its table with these functions and ``python -m reports.build --storage URL --study NAME``
reads a study by name with the same ones (no torch; Optuna is imported when a study is read, so that the
rest of ``reports`` stays usable where only pandas and plotly are installed).
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import pandas as pd

from results.record import TrialRecord, redone
from results.schema import METRIC_COLUMNS, TABLE_COLUMNS

HEARTBEAT_S = 60  # RDB heartbeat: a trial whose process died is failed after GRACE_S without a beat
GRACE_S = 180
SCHEMA_RACE_TRIES = 6  # workers started together on an empty database race to create Optuna's tables

if TYPE_CHECKING:
    import optuna


class StorageError(RuntimeError):
    """A storage URL that cannot be opened; the message says what to check."""


def redact_url(url: str | None) -> str | None:
    """``url`` with any password replaced by ``***`` (``postgresql://alice:***@host/db``): the form to print,
    log or store. URLs without credentials come back unchanged."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _without_password(text: str, url: str) -> str:
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def open_storage(url: str) -> optuna.storages.BaseStorage:
    """Any Optuna storage URL; ``journal:///path/file.log`` for a journal file shared by local processes."""
    import optuna

    if url.startswith("journal://"):
        from optuna.storages.journal import JournalFileBackend, JournalStorage

        path = url[len("journal://") :]
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(path))
    attempt = 0
    while True:
        attempt += 1
        try:
            return optuna.storages.RDBStorage(url, heartbeat_interval=HEARTBEAT_S, grace_period=GRACE_S)
        except Exception as e:  # SQLAlchemy raises many types for a dead or wrong database
            if _lost_schema_race(e) and attempt < SCHEMA_RACE_TRIES:
                # Another process created the tables first; once it commits, opening again finds them.
                time.sleep(0.2 * attempt + random.random() * 0.2)
                continue
            raise StorageError(
                f"cannot open the Optuna storage {redact_url(url)!r}: {_without_password(str(e), url)}. "
                "Check the URL and that the database server is running (or drop --storage to use a local "
                "SQLite file)."
            ) from None  # the chained exception's text would carry the password


def _lost_schema_race(e: Exception) -> bool:
    """Whether ``e`` is another process's concurrent creation of the same tables, types or version row
    (PostgreSQL: duplicate key / already exists; MySQL: table already exists; SQLite: unique constraint
    failed on the version row)."""
    text = str(e).lower()
    return "already exists" in text or "duplicate key" in text or "unique constraint failed" in text


def is_infeasible(trial: optuna.trial.FrozenTrial) -> bool:
    return bool(trial.user_attrs.get("infeasible", False))


def counted(trial: optuna.trial.FrozenTrial) -> bool:
    """Trials that count toward --trials: finished and feasible (they trained, or reused a result).

    A failed trial counts when it failed in the objective (its record holds the reason); one that Optuna
    failed because its process died mid-run (a stale heartbeat), that Ctrl-C interrupted or that met bad
    data does not, so a resumed search redoes it.
    """
    from optuna.trial import TrialState

    if is_infeasible(trial):
        return False
    if trial.state == TrialState.FAIL:
        return not redone(TrialRecord.of(trial.user_attrs).fail_reason)
    return trial.state in (TrialState.COMPLETE, TrialState.PRUNED)


def results_table(study: optuna.Study) -> pd.DataFrame:
    """One row per feasible finished trial, ``results.schema.TABLE_COLUMNS``: the engine-reports contract.

    ``pareto`` marks the study's own front (Optuna's N-dimensional ``best_trials``).
    """
    rows = []
    for t in study.get_trials(deepcopy=False):
        if not counted(t):
            continue
        r = TrialRecord.of(t.user_attrs)
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name,
                "arch_id": r.arch_id,
                "config_json": r.config_json,
                **{k: getattr(r, k) for k in METRIC_COLUMNS},
                "pruned_by": json.dumps(r.pruned_by) if r.pruned_by is not None else None,
                "curve": json.dumps(r.curve) if r.curve else None,
                "reused_from": r.reused_from,
                "fail_reason": r.fail_reason,
                "overhead_s": r.overhead_s,
                "train_s": r.train_s,
                "duration_s": (t.datetime_complete - t.datetime_start).total_seconds()
                if t.datetime_complete and t.datetime_start
                else None,
            }
        )
    df = pd.DataFrame(rows, columns=[c for c in TABLE_COLUMNS if c != "pareto"])
    pareto = {t.number for t in study.best_trials} if len(df) and (df["state"] == "COMPLETE").any() else set()
    df.insert(TABLE_COLUMNS.index("pareto"), "pareto", df["trial"].isin(pareto))
    return df
