"""Children with layer kinds the parent lacks: how each starts (copied, rewritten, fitted) and how it learns.

Each variant changes one layer kind of a base child (default: reference child 97663de0337b) and starts
from the parent (``rife_core.training.start.make_start``: the twin sliced, the replaced layers rewritten or
fitted). It is scored on the search's validation (the large-motion triplets, centre 192, 24 items) at step
0 and trained by the default 600-step proxy (``search.proxy.ProxySettings``), scored every 200 steps. The
``naive`` variant is the depthwise-separable trunk at its rank-1 factorisation, unfitted (what the fit
improves on). Rows are appended to ``--out`` as they finish (a variant already there is skipped).

    python benchmarks/kind_starts.py --out docs/results/data/layer_kinds.csv
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rife_core.model.config import ArchConfig
from rife_core.model.layer_starts import FIT_BUDGETS, FitBudget
from rife_core.model.parents import DEFAULT_PARENT, load_parent
from rife_core.model.slicing import slice_child
from rife_core.training.importance import importance_batches, parent_importance
from rife_core.training.start import make_start, weight_seed
from search.candidate import _evaluate, run_candidate
from search.proxy import ProxySettings, large_motion

BASE = "97663de0337b"  # a reference child: pyramid 8/2/1, both orders, warp every 2nd block, 374k params
VARIANTS: dict[str, dict[str, str]] = {
    "parent kinds": {},
    "upsample=subpixel2": {"upsample": "subpixel2"},
    "downsample=conv": {"downsample": "conv"},
    "upsample=pixelshuffle": {"upsample": "pixelshuffle"},
    "upsample=bilinear": {"upsample": "bilinear"},
    "upsample=dsdeconv": {"upsample": "dsdeconv"},
    "conv_type=dsconv": {"conv_type": "dsconv"},
    "conv_type=dsconv naive": {"conv_type": "dsconv"},  # rank-1 factorisation, unfitted
}
FIELDS = ["variant", "arch_id", "params", "copied", "rewritten", "fitted", "start_s", "blend", "psnr_0"]
FIELDS += ["psnr_200", "psnr_400", "psnr_600", "train_s", "layers"]


@dataclass(frozen=True)
class _Made:
    """A start already prepared (and scored at step 0) above."""

    model: Any
    parent: Any
    share: float
    kind: str = "sliced"

    def prepare(self, cfg: ArchConfig, training: Any) -> Any:
        return self.model

    def inherited_share(self, cfg: ArchConfig) -> float:
        return self.share

    def shares(self, cfg: ArchConfig) -> dict[str, float]:
        return {}


def base_config(arch_id: str) -> ArchConfig:
    import pandas as pd

    table = pd.read_csv(Path(__file__).parents[1] / "fidelity" / "shipped" / "reference.csv")
    row = table[table.arch_id == arch_id].iloc[0]
    return ArchConfig.from_json(row.config_json)


def run(variant: str, base: ArchConfig, parent, settings: ProxySettings, fit: str = "full") -> dict:
    cfg = base.replace(**VARIANTS[variant])
    training = settings.train_config()
    ev = settings.evaluation()
    row: dict = {"variant": variant, "arch_id": cfg.arch_id, "blend": round(ev.blend_psnr(), 3)}
    t0 = time.perf_counter()
    if variant.endswith("naive"):
        model, report = slice_child(
            parent,
            cfg,
            seed=weight_seed(training.seed, cfg.arch_id),
            importance=parent_importance(parent, training.data),
            batches=importance_batches(training.data),
            fit=FitBudget(trunk_steps=0),
        )
    else:
        start = make_start(parent, fit=fit)
        model = start.prepare(cfg, training)
        report = start.reports[cfg.arch_id]
    row["start_s"] = round(time.perf_counter() - t0, 1)
    row.update({k: round(v, 4) for k, v in report.shares().items()})
    row["params"] = report.total
    row["layers"] = json.dumps([[s.name, s.how, s.params, s.error, s.error_before] for s in report.layers])
    row["psnr_0"] = round(_evaluate(model, ev)["psnr"], 3)
    curve: dict[int, float] = {}
    t1 = time.perf_counter()
    made = _Made(model, parent, report.share)
    run_candidate(cfg, training, start=made, on_validation=lambda s, m: curve.__setitem__(s, m["psnr"]))
    row["train_s"] = round(time.perf_counter() - t1, 1)
    for step in (200, 400, 600):
        row[f"psnr_{step}"] = round(curve.get(step, float("nan")), 3)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--base", default=BASE, help="a reference child's arch_id (fidelity/shipped/reference.csv)")
    ap.add_argument("--only", default="", help="comma-separated variants (default: all)")
    ap.add_argument("--fit", default="full", choices=tuple(FIT_BUDGETS), help="the fits' budget (default full)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    parent = load_parent(DEFAULT_PARENT)
    base = base_config(args.base)
    settings = ProxySettings(val_data=large_motion(ProxySettings().data), lpips=False)
    done = set()
    if args.out.is_file():
        done = {r["variant"] for r in csv.DictReader(args.out.open())}
    names = [v for v in (args.only.split(",") if args.only else VARIANTS) if v not in done]
    for k, name in enumerate(names, 1):
        print(f"[{k}/{len(names)}] {name}", file=sys.stderr, flush=True)
        row = run(name, base, parent, settings, args.fit)
        new = not args.out.is_file()
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with args.out.open("a", newline="") as f:
            w = csv.DictWriter(f, FIELDS)
            if new:
                w.writeheader()
            w.writerow(row)
        print(json.dumps({k: v for k, v in row.items() if k != "layers"}), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
