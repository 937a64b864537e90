"""Kill a small search with SIGKILL at random moments, resume it each time, and count what survived.

Runs ``python -m search.run`` with tiny proxies into a fresh folder, kills it ``--kills`` times at a random
moment (uniform in ``--min-s``..``--max-s`` after its start), re-runs the same command after each kill, and
lets the last run finish. Then it checks the study (SQLite Optuna storage) against the MLflow store:

    kills survived   how many times the search was killed and resumed
    trials completed counted trials at the end (must equal --trials)
    trials lost      trials that were finished at some kill and are not finished at the end (must be 0)
    duplicates       architectures trained twice rather than reused (must be 0)
    left running     trials still RUNNING at the end (must be 0: stale ones are failed by the heartbeat)
    mismatches       counted trials without an MLflow run, runs without a counted trial, runs left
                     RUNNING (must be 0)

    python benchmarks/fault_injection.py --kills 5 --trials 12
"""

from __future__ import annotations

import argparse
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from results.record import TrialRecord
from results.study_table import GRACE_S, open_storage
from search.study import counted
from search.tracking import EXPERIMENT

TINY = (
    "--proxy-steps 60 --proxy-val-every 20 --val-items 2 "
    "--proxy-crop 48 --proxy-batch 2 --size 64x64 --no-lpips --budget 0.5M"
).split()


def finished(out: Path) -> set[int]:
    """Numbers of the counted trials in the study now (empty before the study exists)."""
    import optuna

    if not (out / "optuna.db").exists():
        return set()
    try:
        study = optuna.load_study(study_name="rife-nas", storage=f"sqlite:///{out / 'optuna.db'}")
    except KeyError:  # the database exists, the study not yet
        return set()
    return {t.number for t in study.get_trials(deepcopy=False) if counted(t)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kills", type=int, default=5)
    p.add_argument("--trials", type=int, default=12)
    p.add_argument("--min-s", type=float, default=5.0, help="earliest kill, seconds after a run starts")
    p.add_argument("--max-s", type=float, default=40.0, help="latest kill, seconds after a run starts")
    p.add_argument("--seed", type=int, default=0, help="seeds the kill moments")
    p.add_argument("--out", type=Path, default=None, help="search folder (default: a temporary one)")
    args = p.parse_args(argv)
    import warnings

    import optuna
    from mlflow.tracking import MlflowClient

    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeats are wanted

    out = args.out or Path(tempfile.mkdtemp(prefix="fault_injection_")) / "search"
    cmd = [sys.executable, "-m", "search.run", "--out", str(out), "--trials", str(args.trials), *TINY]
    rng = random.Random(args.seed)
    seen_finished: set[int] = set()
    kills, last_kill = 0, 0.0
    for k in range(args.kills):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait = rng.uniform(args.min_s, args.max_s)
        try:
            proc.wait(timeout=wait)
            print(f"run {k + 1}: finished before its kill at {wait:.1f} s (exit {proc.returncode})")
            break
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills, last_kill = kills + 1, time.monotonic()
        now = finished(out)
        seen_finished |= now
        print(f"run {k + 1}: killed after {wait:.1f} s; {len(now)} trials finished so far", flush=True)
    code = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False).returncode
    print(f"final run: exit {code}")

    study = optuna.load_study(storage=open_storage(f"sqlite:///{out / 'optuna.db'}"), study_name="rife-nas")
    stale = [t.number for t in study.get_trials(deepcopy=False) if t.state.name == "RUNNING"]
    if stale:  # a killed trial is failed as stale once its heartbeat is GRACE_S old, by the next run or here
        wait = max(0.0, GRACE_S + 5 - (time.monotonic() - last_kill))
        print(f"trials {stale} still RUNNING from a kill: waiting {wait:.0f} s for the heartbeat's grace period")
        time.sleep(wait)
        optuna.storages.fail_stale_trials(study)
    trials = study.get_trials(deepcopy=False)
    done = [t for t in trials if counted(t)]
    done_numbers = {t.number for t in done}
    trained = [TrialRecord.of(t.user_attrs) for t in done]
    trained_ids = [r.arch_id for r in trained if r.reused_from is None]
    duplicates = len(trained_ids) - len(set(trained_ids))
    lost = len(seen_finished - done_numbers)
    running = sum(t.state.name == "RUNNING" for t in trials)

    client = MlflowClient(tracking_uri=f"sqlite:///{out / 'mlflow.db'}")
    exp = client.get_experiment_by_name(EXPERIMENT)
    runs = client.search_runs([exp.experiment_id], filter_string="tags.kind = 'trial'", max_results=1000)
    run_numbers = [int(r.data.tags["trial_number"]) for r in runs]
    mismatches = (
        len(done_numbers - set(run_numbers))
        + len(set(run_numbers) - {t.number for t in trials})
        + (len(run_numbers) - len(set(run_numbers)))
        + sum(r.info.status == "RUNNING" for r in runs)
    )
    print(f"\nkills survived    {kills}")
    print(f"trials completed  {len(done)} of {args.trials}")
    print(f"trials lost       {lost}")
    print(f"duplicates        {duplicates}")
    print(f"left running      {running}")
    print(f"mismatches        {mismatches}  (MLflow trial runs {len(runs)}, counted trials {len(done)})")
    print(f"study             {out}")
    ok = code == 0 and len(done) == args.trials and lost == duplicates == running == mismatches == 0
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
