"""``python -m rife_core.train``: train one architecture (a preset or a config JSON) end to end.

Examples:
    python -m rife_core.train --preset lite_s --steps 2000 --out runs/lite_s
    python -m rife_core.train --config arch.json --seconds 600 --crop 224 --loss l1=0.2,vgg=1 --resume runs/x/last.pt
    python -m rife_core.train --preset lite_s --steps 3000 --loss l1=1,deep_supervision=0.75 --ema 0.999
    python -m rife_core.train --config child.json --init-from-parent rife_v3_hd --loss l1=1,parent=0.5 --steps 300
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rife_core.cli.args import add_arch_arguments, configure_output, parse_loss, read_arch, require_backbones
from rife_core.data.frames import DataError
from rife_core.data.spec import parse_spec
from rife_core.model.ifnet import IFNet
from rife_core.model.parents import ParentUnavailable, resolve_parent
from rife_core.model.slicing import DEPTH_RULES, ChildRefused
from rife_core.training.checkpoint import read_checkpoint
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.start import IMPORTANCES, make_start
from rife_core.training.trainer import DETERMINISM_NOTE, train


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m rife_core.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arch_arguments(p)
    p.add_argument("--data", action="append", default=None, metavar="SPEC", help="training data (default: default)")
    p.add_argument("--val-data", action="append", default=None, metavar="SPEC")
    p.add_argument("--synthetic-ratio", type=float, default=0.0)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--loss", type=parse_loss, default=None, help="weighted terms, e.g. l1=0.2,vgg=1 (default)")
    p.add_argument(
        "--warmup",
        type=int,
        default=TrainConfig.warmup_steps,
        metavar="STEPS",
        help=f"linear learning-rate warm-up before the cosine decay (default {TrainConfig.warmup_steps})",
    )
    p.add_argument(
        "--ema",
        type=float,
        default=None,
        metavar="DECAY",
        help="validate and save an exponential moving average of the weights, e.g. 0.999",
    )
    p.add_argument("--val-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument("--out", type=Path, required=True, help="folder for checkpoints")
    p.add_argument("--resume", type=Path, default=None)
    p.add_argument(
        "--init-from-parent",
        metavar="NAME|PRESET:PATH",
        default=None,
        help="start from the weights this architecture slices from a pretrained parent (e.g. rife_v3_hd); "
        "also the parent the loss term 'parent' reads",
    )
    p.add_argument(
        "--depth-rule",
        choices=DEPTH_RULES,
        default="norm",
        help="which of the parent's residual units a shallower child keeps "
        "(default norm: the units that write most into the stream)",
    )
    p.add_argument(
        "--cache-parent-frames",
        action="store_true",
        help="compute the parent's frame once per training triplet and cache it (pays when trainings share it)",
    )
    p.add_argument(
        "--importance",
        choices=IMPORTANCES,
        default="taylor",
        help="how the parent's channels are ranked: first-order Taylor on fixed training crops (default) or "
        "filter magnitude",
    )
    args = p.parse_args(argv)
    configure_output()
    if args.steps is None and args.seconds is None:
        args.steps = 1000
    _, arch = read_arch(p, args)
    try:
        for s in (args.data or []) + (args.val_data or []):
            parse_spec(s)
        cfg = TrainConfig(
            data=tuple(args.data or ("default",)),
            val_data=tuple(args.val_data) if args.val_data else None,
            synthetic_ratio=args.synthetic_ratio,
            stages=(Stage(steps=args.steps, seconds=args.seconds, crop=args.crop, batch_size=args.batch, lr=args.lr),),
            seed=args.seed,
            val_every=args.val_every,
            warmup_steps=args.warmup,
            ema_decay=args.ema,
            parent=args.init_from_parent,
            cache_parent_frames=args.cache_parent_frames,
            **({"loss": args.loss} if args.loss else {}),
        )
    except (DataError, ValueError) as e:
        p.error(str(e))
    require_backbones(p, cfg.backbones(), "choose a loss without vgg/lpips (e.g. --loss l1=1)")
    if args.resume is not None:
        try:
            stored = read_checkpoint(args.resume)
        except (FileNotFoundError, ValueError) as e:
            p.error(f"--resume: {e}")
        if stored.get("arch") != arch.to_dict():
            p.error(
                f"--resume {args.resume}: the checkpoint holds another architecture than the one given; pass "
                "the --preset / --config it was trained with, or start a new run without --resume"
            )
    if args.init_from_parent is not None and args.resume is not None:
        p.error("--init-from-parent and --resume exclude each other: give one start")
    parent: IFNet | None = None
    if args.init_from_parent is not None:
        try:
            parent = resolve_parent(args.init_from_parent)  # once: sliced from, and read by a parent loss term
        except ParentUnavailable as e:
            p.error(f"--init-from-parent: {e}")
    start = make_start(parent, importance=args.importance, depth_rule=args.depth_rule)
    try:
        model = start.prepare(arch, cfg)
    except ChildRefused as e:
        p.error(f"--init-from-parent: {e}")
    logging.info("determinism: %s", DETERMINISM_NOTE)
    result = train(
        model, cfg, out_dir=args.out, resume=args.resume, device=args.device, progress=True, parent=start.parent
    )
    print(f"{result.status} at step {result.step}: " + ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items()))
    if result.checkpoint:
        print(f"checkpoint: {result.checkpoint}")
    return 0 if result.status == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
