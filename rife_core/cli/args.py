"""Argument helpers shared by the command-line front ends (and by ``search.run``)."""

from __future__ import annotations

import argparse
import json
import logging
import warnings
from pathlib import Path

from rife_core.evaluation.backbone_weights import WeightsUnavailable, require
from rife_core.model.config import ArchConfig, ConfigError
from rife_core.model.presets import PRESETS
from rife_core.training.losses import TERMS


def parse_size(text: str) -> tuple[int, int]:
    """``"720x1280"`` -> (720, 1280): height x width."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"size {text!r}: write HEIGHTxWIDTH, e.g. 720x1280") from e
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"size {text!r}: height and width must be positive")
    return h, w


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


def add_arch_arguments(parser: argparse.ArgumentParser) -> None:
    """``--preset NAME`` or ``--config FILE.json``, one of them required."""
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", choices=sorted(PRESETS), help="a named architecture")
    src.add_argument("--config", type=Path, help="an ArchConfig JSON file (as written by the search)")


def read_arch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[str, ArchConfig]:
    """(name, config) from ``--preset`` / ``--config``; a missing or invalid file is a usage error (exit 2)."""
    if args.preset:
        return args.preset, PRESETS[args.preset]
    try:
        return str(args.config), ArchConfig.from_json(args.config.read_text())
    except FileNotFoundError:
        parser.error(f"--config {args.config}: no such file")
    except (json.JSONDecodeError, ConfigError) as e:
        parser.error(f"--config {args.config}: not a valid architecture: {e}")
    raise AssertionError("unreachable")


def configure_output(level: int = logging.INFO, fmt: str = "%(message)s") -> None:
    """What a front end sets for the whole process: log format and level, quiet third-party chatter."""
    logging.basicConfig(level=level, format=fmt)
    quiet_third_party_loggers()
    # The JIT tracer (fvcore's MAC count, TorchScript export) and torch.jit deprecations are not actionable.
    warnings.filterwarnings("ignore", category=FutureWarning, module=r"torch\.jit")


NOISY_LOGGERS = ("alembic", "mlflow", "urllib3", "fvcore", "iopath", "onnx_ir", "onnxscript")


def quiet_third_party_loggers() -> None:
    """Warnings and errors only from libraries that chat at INFO (MLflow's table creation, for one).

    MLflow sets its logger's level when it is imported, so a front end calls this again after importing it.
    """
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def require_backbones(parser: argparse.ArgumentParser, nets: set[str], alternative: str) -> None:
    """A usage error (exit 2) naming the fetch command when LPIPS/VGG weights in ``nets`` are not on disk;
    ``alternative`` is the option that does without them."""

    try:
        require(*sorted(nets))
    except WeightsUnavailable as e:
        parser.error(f"{e}; or {alternative}")
