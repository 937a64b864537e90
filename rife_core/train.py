"""``python -m rife_core.train``: train one architecture (a preset or a config JSON) end to end.

Examples:
    python -m rife_core.train --preset lite_s --steps 2000 --out runs/lite_s
    python -m rife_core.train --config arch.json --seconds 600 --crop 224 --loss l1=0.2,vgg=1 --resume runs/x/last.pt
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from rife_core.config import ArchConfig, ConfigError
from rife_core.data.frames import DataError
from rife_core.data.spec import parse_spec
from rife_core.losses import TERMS
from rife_core.presets import PRESETS
from rife_core.train_config import Stage, TrainConfig
from rife_core.trainer import DETERMINISM_NOTE, train


def parse_loss(text: str) -> dict[str, float]:
    """``"l1=0.2,vgg=1"`` -> {"l1": 0.2, "vgg": 1.0}."""
    out = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in TERMS:
            raise argparse.ArgumentTypeError(f"loss term {name!r}: choose from {', '.join(TERMS)}")
        try:
            out[name.strip()] = float(weight) if weight else 1.0
        except ValueError as e:
            raise argparse.ArgumentTypeError(f"loss weight {weight!r} is not a number") from e
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m rife_core.train", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", choices=sorted(PRESETS))
    src.add_argument("--config", type=Path, help="architecture JSON")
    p.add_argument("--data", action="append", default=None, metavar="SPEC", help="training data (default: default)")
    p.add_argument("--val-data", action="append", default=None, metavar="SPEC")
    p.add_argument("--synthetic-ratio", type=float, default=0.0)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seconds", type=float, default=None)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--loss", type=parse_loss, default=None, help="weighted terms, e.g. l1=0.2,vgg=1 (default)")
    p.add_argument("--val-every", type=int, default=250)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument("--out", type=Path, required=True, help="folder for checkpoints")
    p.add_argument("--resume", type=Path, default=None)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.steps is None and args.seconds is None:
        args.steps = 1000
    try:
        arch = PRESETS[args.preset] if args.preset else ArchConfig.from_json(args.config.read_text())
        for s in (args.data or []) + (args.val_data or []):
            parse_spec(s)
        cfg = TrainConfig(
            data=tuple(args.data or ("default",)),
            val_data=tuple(args.val_data) if args.val_data else None,
            synthetic_ratio=args.synthetic_ratio,
            stages=(Stage(steps=args.steps, seconds=args.seconds, crop=args.crop, batch_size=args.batch, lr=args.lr),),
            seed=args.seed,
            val_every=args.val_every,
            **({"loss": args.loss} if args.loss else {}),
        )
    except FileNotFoundError as e:
        p.error(f"--config: {e}")
    except (ConfigError, DataError, ValueError, json.JSONDecodeError) as e:
        p.error(str(e))
    if args.resume is not None and not args.resume.is_file():
        p.error(f"--resume {args.resume}: no such checkpoint")
    logging.info("determinism: %s", DETERMINISM_NOTE)
    result = train(arch, cfg, out_dir=args.out, resume=args.resume, device=args.device, progress=True)
    print(f"{result.status} at step {result.step}: " + ", ".join(f"{k} {v:.4f}" for k, v in result.metrics.items()))
    if result.checkpoint:
        print(f"checkpoint: {result.checkpoint}")
    return 0 if result.status == "completed" else 1


if __name__ == "__main__":
    sys.exit(main())
