"""``python -m rife_core.evaluate``: PSNR / SSIM / LPIPS / IE of a checkpoint or a baseline, per dataset.

Examples:
    python -m rife_core.evaluate --checkpoint runs/x/last.pt --data default --data ucf101:/data/ucf101
    python -m rife_core.evaluate --method dis --data default --csv dis.csv

Every table includes the blend and DIS baselines, computed by the same code path.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from rife_core.baselines import METHODS
from rife_core.data.frames import DataError
from rife_core.data.spec import load, parse_spec
from rife_core.evaluation import evaluate, model_predictor

log = logging.getLogger(__name__)
BASELINES = ("blend", "dis")


def evaluation_table(
    methods: dict[str, object], specs: list[str], split: str, *, lpips: bool, max_items: int | None, device: str
) -> pd.DataFrame:
    """One row per (dataset, method) with mean PSNR, SSIM, LPIPS, IE and the triplet count."""
    rows = []
    for spec in specs:
        ds = load(spec, split)
        for name, predict in methods.items():
            m = evaluate(predict, ds, device=device, max_items=max_items, lpips_net="alex" if lpips else None)
            rows.append({"dataset": str(spec), "method": name, **m})
            log.info("%s / %s: PSNR %.2f dB", spec, name, m["psnr"])
    cols = ["dataset", "method", "psnr", "ssim", "lpips", "ie", "n"]
    return pd.DataFrame(rows).reindex(columns=[c for c in cols if lpips or c != "lpips"])


def verdicts(table: pd.DataFrame, model_name: str) -> list[str]:
    """Say, per dataset, whether the model beats DIS (the bar a learned model must clear)."""
    out = []
    for ds, group in table.groupby("dataset", sort=False):
        by = group.set_index("method")["psnr"]
        if model_name in by and "dis" in by:
            gap = by[model_name] - by["dis"]
            word = "beats" if gap > 0 else "does NOT beat"
            note = "" if gap > 0 else " - not yet useful on this data"
            out.append(f"{ds}: {model_name} {word} DIS by {gap:+.2f} dB{note}")
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m rife_core.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", type=Path, help="a checkpoint written by training or the search")
    src.add_argument("--method", choices=BASELINES, help="evaluate a baseline alone")
    p.add_argument("--data", action="append", required=True, metavar="SPEC", help="dataset spec; repeatable")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--no-lpips", action="store_true", help="skip LPIPS (needs the backbone weights)")
    p.add_argument("--max-items", type=int, default=None, help="evaluate at most this many triplets per set")
    p.add_argument("--device", default="auto")
    p.add_argument("--csv", type=Path, help="also write the table as CSV")
    p.add_argument("--json", type=Path, help="also write the table as JSON records")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        specs = [str(parse_spec(s)) for s in args.data]
    except DataError as e:
        p.error(str(e))

    from rife_core.trainer import load_model, resolve_device

    device = str(resolve_device(args.device))
    methods: dict[str, object] = {}
    model_name = None
    if args.checkpoint is not None:
        try:
            model = load_model(args.checkpoint, device)
        except (FileNotFoundError, ValueError) as e:
            p.error(str(e))
        model_name = args.checkpoint.stem if args.checkpoint.stem != "last" else args.checkpoint.parent.name
        methods[model_name] = model_predictor(model)
        methods.update({b: METHODS[b] for b in BASELINES})
    else:
        methods[args.method] = METHODS[args.method]
        methods.update({b: METHODS[b] for b in BASELINES if b != args.method})
    try:
        table = evaluation_table(
            methods, specs, args.split, lpips=not args.no_lpips, max_items=args.max_items, device=device
        )
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    with pd.option_context("display.float_format", "{:.4f}".format, "display.width", 120):
        print(table.to_string(index=False))
    if model_name:
        print("\n".join(verdicts(table, model_name)))
    if args.csv:
        table.to_csv(args.csv, index=False)
    if args.json:
        table.to_json(args.json, orient="records", indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
