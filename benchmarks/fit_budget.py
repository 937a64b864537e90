"""What each fit budget costs and keeps: the starts of a search's trials under every ``FIT_BUDGETS`` entry.

For every trial of ``--trials`` (a search's ``trials.csv``) whose child has a layer kind the parent lacks, the
start is made as the search makes it (``make_start``) under each budget, in turn, in one process (the
parent's Taylor importance computed once before, as a search does), and scored at step 0 on the search's
validation (the large-motion triplets, centre 192). Prints one JSON line per (trial, budget) and writes the
rows to ``--out``, replacing rows of the same (trial, budget) already there (``--fit`` and ``--trial`` choose).

    python benchmarks/fit_budget.py --trials runs/search/trials.csv --out docs/results/data/fit_budget.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from pathlib import Path

from rife_core.model.config import ArchConfig
from rife_core.model.layer_starts import FIT_BUDGETS, needs_fit
from rife_core.model.parents import DEFAULT_PARENT, load_parent
from rife_core.training.importance import parent_importance
from rife_core.training.start import make_start
from search.candidate import _evaluate
from search.proxy import ProxySettings, large_motion

FIELDS = ["trial", "arch_id", "kinds", "params", "fit", "start_s", "psnr_0", "fitted", "max_error"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=Path, required=True, help="a search's trials.csv")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--fit", action="append", choices=tuple(FIT_BUDGETS), help="repeatable (default: every budget)")
    ap.add_argument("--trial", action="append", help="repeatable (default: every trial with a fitted start)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    parent = load_parent(DEFAULT_PARENT)
    settings = ProxySettings(val_data=large_motion(ProxySettings().data), lpips=False)
    training = settings.train_config()
    ev = settings.evaluation()
    parent_importance(parent, training.data)  # memoised: every start below reads it, as a search's trials do
    rows = []
    trials = [r for r in csv.DictReader(args.trials.open()) if r["config_json"]]
    trials = [r for r in trials if not args.trial or r["trial"] in args.trial]
    for r in trials:
        cfg = ArchConfig.from_json(r["config_json"])
        if not needs_fit(parent.cfg, cfg):
            continue
        for fit in args.fit or FIT_BUDGETS:
            start = make_start(parent, fit=fit)
            t0 = time.perf_counter()
            model = start.prepare(cfg, training)
            seconds = time.perf_counter() - t0
            report = start.reports[cfg.arch_id]  # type: ignore[attr-defined]
            errors = [s.error for s in report.layers if s.error is not None]
            row = {
                "trial": r["trial"],
                "arch_id": cfg.arch_id,
                "kinds": f"{cfg.conv_type}/{cfg.downsample}/{cfg.upsample}",
                "params": report.total,
                "fit": fit,
                "start_s": round(seconds, 1),
                "psnr_0": round(_evaluate(model, ev)["psnr"], 3),
                "fitted": round(report.shares().get("fitted", 0.0), 4),
                "max_error": round(max(errors), 3) if errors else "",
            }
            rows.append(row)
            print(json.dumps(row), flush=True)
    new = {(r["trial"], r["fit"]) for r in rows}
    kept = [r for r in csv.DictReader(args.out.open())] if args.out.is_file() else []
    rows = [r for r in kept if (r["trial"], r["fit"]) not in new] + rows
    rows.sort(key=lambda r: (int(r["trial"]), list(FIT_BUDGETS).index(r["fit"])))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as f:
        w = csv.DictWriter(f, FIELDS)
        w.writeheader()
        w.writerows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
