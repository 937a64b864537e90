"""``python -m search.sync --out DIR``: log to MLflow what a search stored but did not log.

A search goes on when its tracking store is unreachable or locked (it warns, and the Optuna storage keeps
every result); this command logs each counted trial that has no finished MLflow run, re-tags the front and
attaches the front's files, from the study the search in ``DIR`` recorded (``search_spec.json``). Safe to
run while workers of the study are running, and any number of times.

    python -m search.sync --out runs/search
    python -m search.sync --out runs/search --storage postgresql://user:password@host/db   # masked in the spec
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from results.study_table import counted, redact_url
from rife_core.cli.args import configure_output, quiet_third_party_loggers
from search.spec import SearchSpec
from search.study import SearchError, feasible_rate, make_storage, results_table
from search.tracking import MlflowTracker, limit_http_retries


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m search.sync", description=__doc__.split("\n\n")[0])
    p.add_argument("--out", type=Path, default=Path("runs/search"), help="the search's output folder")
    p.add_argument("--storage", help="the Optuna storage URL (needed when the recorded one has a masked password)")
    p.add_argument("--mlflow-uri", help="the tracking store to log to (default: the one the search used)")
    return p


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    configure_output()
    quiet_third_party_loggers()
    import optuna

    spec_file = args.out / "search_spec.json"
    if not spec_file.is_file():
        p.error(f"--out {args.out}: no search_spec.json there; give the folder a search wrote (its --out)")
    spec = SearchSpec.read(spec_file)
    given = {k: v for k, v in (("storage", args.storage), ("mlflow_uri", args.mlflow_uri)) if v}
    spec = dataclasses.replace(spec, out=args.out, tracking=dataclasses.replace(spec.tracking, **given))
    for flag, url in (("--storage", spec.tracking.storage), ("--mlflow-uri", spec.tracking.mlflow_uri)):
        if url and "***" in url:
            p.error(f"the search recorded {url} with its password masked: pass the full URL with {flag}")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.load_study(study_name=spec.tracking.study_name, storage=make_storage(spec.storage_url))
    except SearchError as e:
        p.error(str(e))
    except KeyError:
        p.error(f"no study {spec.tracking.study_name!r} in {redact_url(spec.storage_url)}")
    limit_http_retries()
    try:
        tracker = MlflowTracker(spec)
        logged = tracker.sync(study)
        df = results_table(study)
        pareto = set(df.loc[df["pareto"], "trial"]) if len(df) else set()
        tracker.update_front(pareto, spec.out / "pareto_front.csv", spec.out / "dashboard.html", feasible_rate(study))
        runs = len(tracker.trial_runs())
    except Exception as e:  # the tracking store is still unreachable: nothing changed, run again later
        print(
            f"error: MLflow at {redact_url(spec.tracking_uri)} failed: {e}. Nothing was lost; run again "
            "once it is reachable.",
            file=sys.stderr,
        )
        return 1
    total = sum(counted(t) for t in study.get_trials(deepcopy=False))
    print(
        f"logged {logged} trial(s) that MLflow lacked; {runs} trial runs for {total} counted trials of study "
        f"{spec.tracking.study_name!r} in {redact_url(spec.tracking_uri)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
