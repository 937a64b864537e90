"""Search overhead and feasibility, read from a finished (or running) search's output folder.

Per-trial overhead is everything a trial spends outside training and validation: sampling, the
feasibility check, MAC counting, latency measurement, MLflow logging and front updates. Goal: under 5%
of trial time. The feasible-sample rate is the share of sampled architectures under the limits.

    python -m search.run --budget 0.5M --out runs/search     # the default search
    python benchmarks/bench_search.py runs/search
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import optuna
import pandas as pd

from results.record import TrialRecord


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("out", type=Path, nargs="?", default=Path("runs/search"))
    p.add_argument("--study-name", default="rife-nas")
    args = p.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(study_name=args.study_name, storage=f"sqlite:///{(args.out / 'optuna.db').resolve()}")
    trials = [t for t in study.get_trials(deepcopy=False) if t.datetime_complete is not None]
    rec = {t.number: TrialRecord.of(t.user_attrs) for t in trials}
    infeasible = [t for t in trials if rec[t.number].infeasible]
    first = min(t.datetime_start for t in trials)
    last = max(t.datetime_complete for t in trials)
    wall = (last - first).total_seconds()
    # A reused result carries no train_s of its own, so no training is counted twice.
    train_s = sum(rec[t.number].train_s or 0.0 for t in trials)
    pruned = [t for t in trials if rec[t.number].pruned_by is not None]
    # Pruned trials store no train_s: their training time is their duration minus the measured overhead.
    pruned_train = sum(
        (t.datetime_complete - t.datetime_start).total_seconds() - (rec[t.number].overhead_s or 0) for t in pruned
    )
    in_training = train_s + pruned_train
    cost = sum(rec[t.number].overhead_s or 0.0 for t in trials)
    print(f"{args.out}: {len(trials)} samples, {len(infeasible)} infeasible, {len(trials) - len(infeasible)} counted")
    print(f"feasible-sample rate: {(len(trials) - len(infeasible)) / len(trials):.1%}")
    print(f"wall time {wall:.0f} s; training+validation {in_training:.0f} s; cost measurement {cost:.0f} s")
    print(
        f"per-trial overhead (everything but training and validation): {100 * (wall - in_training) / wall:.1f}% "
        "of trial time (goal < 5%)"
    )
    steps = pd.Series([rec[t.number].pruned_by.get("step") for t in pruned], dtype=float)
    if len(pruned):
        print(f"pruned trials: {len(pruned)}, stopped at steps {sorted(steps.dropna().astype(int).tolist())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
