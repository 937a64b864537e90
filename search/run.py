"""``python -m search.run --budget 0.5M``: search for RIFE-style interpolation networks under a budget.

Each trial samples an architecture from the space, rejects it in microseconds if it is over the
budget (analytic parameter count; it does not count toward --trials), measures MACs (warp included)
and latency, trains a short proxy on the data with intermediate validation (hopeless trials are pruned),
and records everything in Optuna storage and MLflow. Re-running the same command resumes the study.

Examples:
    python -m search.run --budget 0.5M
    python -m search.run --budget 300k --trials 40 --objectives psnr,latency --fix upsample=pixelshuffle
    python -m search.run --budget 0.5M --storage postgresql://user@host/db   # several machines
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import warnings
from pathlib import Path

import pandas as pd

from reports.build import build
from results.files import write_text
from results.schema import ABOVE_BLEND_DB, OBJECTIVES
from results.study_table import redact_url
from rife_core.cli.args import configure_output, quiet_third_party_loggers, require_backbones
from rife_core.cost.params import count_params
from rife_core.data.frames import DataError
from rife_core.data.spec import load, parse_spec
from rife_core.model.parents import PARENTS, ParentUnavailable, missing_parents, resolve_parent
from rife_core.training.batches import check_triplets, real_training_triplets
from search.baselines import baseline_latency, baseline_scores
from search.objective import BadData
from search.proxy import ProxySettings, large_motion
from search.retrain import print_retrained, retrain
from search.settings import add_options, from_options
from search.spec import RetrainSettings, SearchSpec, TrackingSettings
from search.study import (
    SearchError,
    TrackFront,
    check_fingerprint,
    counted,
    feasible_rate,
    make_study,
    results_table,
    run_search,
    x_axis,
)
from search.tracking import MlflowTracker, best_effort, limit_http_retries, ui_hint
from space.budget import BudgetError, parse_count
from space.space import SearchSpace, SpaceError

log = logging.getLogger("search")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m search.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--budget", required=True, help="parameter budget: 0.5M, 500k, 500000 or 5e5")
    p.add_argument("--trials", type=int, default=12, help="trials that train (default 12)")
    p.add_argument("--out", type=Path, default=Path("runs/search"), help="output folder (default runs/search)")
    p.add_argument("--objectives", default="psnr,macs", help=f"comma-separated, from {', '.join(OBJECTIVES)}")
    p.add_argument("--sampler", default="tpe", choices=("tpe", "nsga2", "gp", "random"))
    p.add_argument(
        "--sampler-seed",
        type=int,
        default=None,
        help="seed the sampler alone with this (default: --seed; with --storage, each worker draws its own so "
        "that workers of one study propose different architectures)",
    )
    p.add_argument("--space", type=Path, default=None, help="a search-space YAML (default: the built-in space)")
    p.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE", help="fix a dimension; repeatable")
    p.add_argument("--max-macs", default=None, help="also require MACs below this, e.g. 2G (at --size)")
    p.add_argument(
        "--max-latency-ms", type=float, default=None, help="also require latency below this (at --latency-size)"
    )
    p.add_argument(
        "--max-latency-dis",
        type=float,
        default=None,
        metavar="RATIO",
        help="also require latency below RATIO times DIS-medium's, timed in turn at --latency-size (1: DIS's time)",
    )
    p.add_argument("--no-pruning", action="store_true", help="train every trial to the end")
    p.add_argument("--n-jobs", type=int, default=1, help="parallel trials in this process")
    add_options(p.add_argument_group("proxy: how each trial's candidate is trained and scored"), ProxySettings, "proxy")
    add_options(p.add_argument_group("retraining the front"), RetrainSettings, "retrain")
    add_options(p.add_argument_group("storage and tracking"), TrackingSettings)
    p.add_argument(
        "--dump-space", type=int, default=None, metavar="N", help="print the space size and N samples (0: size), exit"
    )
    return p


def spec_from_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[SearchSpec, SearchSpace]:
    try:
        budget = parse_count(args.budget)
        max_macs = parse_count(args.max_macs) if args.max_macs else None
    except BudgetError as e:
        p.error(f"--budget/--max-macs: {e}")
    try:
        space = SearchSpace.load(args.space).fix(args.fix)
        for s in (args.data or []) + (args.val_data or []) + (args.retrain_eval or []):
            parse_spec(s)
        data = tuple(args.data or ProxySettings.data)
        val_data = tuple(args.val_data) if args.val_data else large_motion(data)
        spec = SearchSpec(
            budget=budget,
            out=args.out,
            trials=args.trials,
            objectives=tuple(args.objectives.split(",")),
            sampler=args.sampler,
            sampler_seed=args.sampler_seed,
            space=str(args.space) if args.space else None,
            fixes=tuple(args.fix),
            max_macs=max_macs,
            max_latency_ms=args.max_latency_ms,
            max_latency_dis=args.max_latency_dis,
            n_jobs=args.n_jobs,
            pruning=not args.no_pruning,
            proxy=from_options(ProxySettings, args, "proxy", data=data, val_data=val_data),
            retrain=from_options(RetrainSettings, args, "retrain"),
            tracking=from_options(TrackingSettings, args),
        )
    except (SpaceError, DataError, ValueError) as e:
        p.error(str(e))
    if args.trials < 1:
        p.error("--trials must be at least 1")
    if spec.retrain.init == "sliced" and space.parent is None:
        p.error("--retrain-init sliced needs a space with a parent (the default space has one)")
    if space.parent in PARENTS and missing_parents((space.parent,)):
        p.error(f"the space's parent {space.parent} is not on this machine: run `python -m rife_core.fetch_weights`")
    if set(space.choices["flow_init"]) != {"none"} and not {"latency", "latency_dis"} & set(spec.objectives):
        log.warning(
            "the space has a flow prior (flow_init) and the objectives leave latency out: MACs do not count the "
            "prior's DIS, so prior members look cheaper than they run; --objectives psnr,latency compares them "
            "at their real cost"
        )
    if spec.proxy.lpips:
        require_backbones(p, {"alex"}, "pass --no-lpips (and leave lpips out of --objectives)")
    require_backbones(
        p, spec.proxy.train_config(1, space.parent).backbones(), "choose a --proxy-loss without vgg/lpips"
    )
    return spec, space


def check_data(spec: SearchSpec) -> None:
    """Raise ``DataError`` unless the training and validation data (and every ``--retrain-eval`` data) exist and
    hold triplets.

    The validation set is the proxy's cached one, which the baselines score next (a large-motion subset
    runs DIS over every candidate triplet to select: once, not twice).
    """

    proxy = spec.proxy
    train = real_training_triplets(proxy.data, proxy.seed)
    check_triplets(train, proxy.data, proxy.val_set(), proxy.val_data or proxy.data)
    for extra in spec.retrain.eval:  # found missing now, not after the search
        if len(load(extra, "test")) == 0:
            raise DataError(f"--retrain-eval {extra}: no test triplets")


def print_front(df: pd.DataFrame, spec: SearchSpec, baselines: dict[str, float]) -> None:
    x = x_axis(spec)
    front = df[df["pareto"]].sort_values(x)
    cols = ["trial", "arch_id", "params", "macs", "latency_ms", "psnr", "ssim"]
    base = pd.DataFrame([{"trial": name, "arch_id": "-", "psnr": psnr} for name, psnr in baselines.items()])
    rows = pd.concat([front[cols].astype({"trial": str}), base], ignore_index=True)
    with pd.option_context("display.width", 140, "display.max_columns", 20):
        print(
            f"\nPareto front ({', '.join(spec.objectives)}), sorted by {x}; "
            f"MACs at {spec.proxy.size[0]}x{spec.proxy.size[1]}:"
        )
        print(rows.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def warn_if_uninformative(df: pd.DataFrame, baselines: dict[str, float], spec: SearchSpec) -> None:
    """Say so when the proxies did not lift any trial clearly above the blend baseline."""
    done = df[df["state"] == "COMPLETE"]
    blend = next((v for k, v in baselines.items() if k.startswith("blend")), None)
    if done.empty or blend is None:
        return
    best = done["psnr"].max()
    if best - blend < ABOVE_BLEND_DB:
        head = f"no trial beat the blend baseline by {ABOVE_BLEND_DB:.1f} dB (best {best:.2f} vs blend {blend:.2f}): "
        why = (
            f"{spec.proxy.steps}-step proxies are too short for these networks to learn motion, so the front is "
            "decided by cost. Start candidates from a parent (the default space has one), use longer proxies "
            "(e.g. --proxy-steps 3000, three times the time per trial) or a GPU (--device cuda)."
        )
        log.warning("%s%s", head, why)


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    configure_output()
    spec, space = spec_from_args(p, args)

    if args.dump_space is not None:
        print(f"space size: {space.size():,} architectures")
        for cfg in space.enumerate_sample(args.dump_space, seed=spec.proxy.seed):
            print(f"{count_params(cfg):>9,}  {cfg.to_json()}")
        return 0

    import mlflow  # noqa: F401 - imported here so that its logger level can be set after its own setup
    import optuna

    quiet_third_party_loggers()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # multivariate/group TPE and RDB heartbeats are marked experimental; they are what we want.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    spec.out.mkdir(parents=True, exist_ok=True)
    try:  # the data first: a missing folder, empty lists or an unreadable validation image stop it here
        check_data(spec)
        parent = resolve_parent(space.parent) if space.parent is not None else None  # once per run
        baselines = baseline_scores(spec, space.parent, parent)
        timing = baseline_latency(spec, space.parent, parent)
    except (DataError, ParentUnavailable) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        study = make_study(spec)
        check_fingerprint(study, spec, spec.fingerprint_settings(space.to_dict()))
    except SearchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    spec.write()  # only once the study is known to hold results of these settings
    log.info(
        "search: budget %s params, %d trials, objectives %s, output %s",
        f"{spec.budget:,}",
        spec.trials,
        ",".join(spec.objectives),
        spec.out,
    )
    limit_http_retries()
    tracker = best_effort("the study (experiment and parent run)", spec, MlflowTracker, spec)
    try:
        write_text(spec.out / "baselines.json", json.dumps(baselines, indent=1))
        write_text(spec.out / "baseline_latency.json", json.dumps(timing, indent=1))
        study = run_search(spec, space, tracker, baselines, study, parent, timing)
    except SearchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except BadData as e:
        print(
            f"error: {e}\nThe search stopped; every finished trial is stored and the one that met the bad data "
            "is redone when you re-run the same command.",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        trials = study.get_trials(deepcopy=False)
        done = sum(counted(t) for t in trials)
        print(
            f"\ninterrupted: {done} of {spec.trials} trials finished and are stored (the running one is marked "
            "failed, 'interrupted', and is redone); re-run the same command to resume",
            file=sys.stderr,
        )
        return 130
    df = results_table(study)
    csv, html = TrackFront(spec, tracker, baselines, timing).write_outputs(df)
    rate = feasible_rate(study)
    print_front(df, spec, baselines)
    print(
        f"\n{len(df)} trials ({(df['state'] == 'COMPLETE').sum()} complete, {(df['state'] == 'PRUNED').sum()} pruned, "
        f"{(df['state'] == 'FAIL').sum()} failed); feasible samples {rate['feasible_rate']:.0%} of {rate['samples']}"
    )
    warn_if_uninformative(df, baselines, spec)
    if spec.retrain.top:
        print_retrained(spec, *retrain(spec, space, df, parent))

    report = build(spec.out)
    if tracker is not None:
        best_effort("the report", spec, tracker.log_report, report.parent)
    print(f"\nfront:      {csv}\ndashboard:  {html}\nreport:     {report}")
    if tracker is not None:
        print(f"MLflow UI:  {ui_hint(redact_url(spec.tracking_uri), tracker.experiment_id)}")
    print(f"Optuna:     optuna-dashboard {redact_url(spec.storage_url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
