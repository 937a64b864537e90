"""``python -m rife_core.evaluate``: PSNR / SSIM / LPIPS / IE of a checkpoint or a baseline, per dataset.

Examples:
    python -m rife_core.evaluate --checkpoint runs/x/last.pt --data default --data ucf101:/data/ucf101
    python -m rife_core.evaluate --method dis --data default --csv dis.csv
    python -m rife_core.evaluate --parent rife_v3_hd --data default --data ucf101_adacof:../shared/data/ucf101_adacof

Every table includes the blend and DIS baselines, computed by the same code path.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from rife_core.cli.args import configure_output, require_backbones
from rife_core.data.frames import DataError
from rife_core.data.spec import parse_spec
from rife_core.evaluation.baselines import BASELINES, METHODS
from rife_core.evaluation.evaluate import Predictor, evaluation_table, flip_averaged, model_predictor, verdicts
from rife_core.model.parents import PARENTS, ParentUnavailable, resolve_parent
from rife_core.training.checkpoint import load_model, resolve_device


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m rife_core.evaluate", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--checkpoint", type=Path, help="a checkpoint written by training or the search")
    src.add_argument("--method", choices=BASELINES, help="evaluate a baseline alone")
    src.add_argument(
        "--parent",
        metavar="NAME|PRESET:PATH",
        help=f"a pretrained parent: one of {', '.join(PARENTS)}, or a release file with its preset",
    )
    p.add_argument("--data", action="append", required=True, metavar="SPEC", help="dataset spec; repeatable")
    p.add_argument("--split", default="test", choices=("train", "val", "test"))
    p.add_argument("--no-lpips", action="store_true", help="skip LPIPS (needs the backbone weights)")
    p.add_argument("--max-items", type=int, default=None, help="evaluate at most this many triplets per set")
    p.add_argument("--device", default="auto")
    p.add_argument(
        "--flip-tta",
        action="store_true",
        help="also score the model and DIS averaged with their output on mirrored frames (rows +flip; 2x time)",
    )
    p.add_argument("--csv", type=Path, help="also write the table as CSV")
    p.add_argument("--json", type=Path, help="also write the table as JSON records")
    args = p.parse_args(argv)
    configure_output(logging.WARNING, "%(levelname)s %(message)s")
    try:
        specs = [str(parse_spec(s)) for s in args.data]
    except DataError as e:
        p.error(str(e))
    if not args.no_lpips:
        require_backbones(p, {"alex"}, "pass --no-lpips")

    device = str(resolve_device(args.device))
    methods: dict[str, Predictor] = {}
    model_name = None
    if args.checkpoint is not None or args.parent is not None:
        try:
            if args.parent is not None:
                model = resolve_parent(args.parent).to(device)
                model_name = args.parent if args.parent in PARENTS else Path(args.parent.partition(":")[2]).stem
            else:
                model = load_model(args.checkpoint, device)
                model_name = args.checkpoint.stem if args.checkpoint.stem != "last" else args.checkpoint.parent.name
        except (FileNotFoundError, ValueError, ParentUnavailable) as e:
            p.error(str(e))
        methods[model_name] = model_predictor(model)
        if args.flip_tta:
            methods[f"{model_name}+flip"] = model_predictor(model, flip_tta=True)
        methods.update({b: METHODS[b] for b in BASELINES})
        if args.flip_tta:  # the fair bar: DIS averaged the same way (two flow estimates)
            methods["dis+flip"] = flip_averaged(METHODS["dis"])
    else:
        methods[args.method] = METHODS[args.method]
        methods.update({b: METHODS[b] for b in BASELINES if b != args.method})
    try:
        table = evaluation_table(
            methods, specs, args.split, lpips=not args.no_lpips, max_items=args.max_items, device=device
        )
    except (DataError, ValueError) as e:  # ValueError: e.g. a time a network without t input cannot reach
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
