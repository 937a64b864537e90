"""Print the cost of one architecture: parameters, MACs (conv / warp / other), latency, peak memory.

Examples:
    python -m rife_core.cost --preset rife_v4_25 --size 720x1280
    python -m rife_core.cost --config my_arch.json --size 256x256 --threads 2 --json
    python -m rife_core.cost --preset lite_s --size 480x640 --threads 2 --backend onnxruntime
    python -m rife_core.cost --preset lite_s --size 480x640 --threads 2 --vs-dis medium   # in turn with DIS
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict

import torch

from rife_core.cli.args import add_arch_arguments, configure_output, parse_size, read_arch
from rife_core.cost.latency import BACKENDS
from rife_core.cost.report import format_report, measure_cost
from rife_core.data.flow import DIS_PRESETS
from rife_core.evaluation.baselines import DISInterpolation


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rife_core.cost", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arch_arguments(parser)
    parser.add_argument("--size", type=parse_size, default=(256, 256), help="HEIGHTxWIDTH (default 256x256)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for latency (default: torch's)")
    parser.add_argument("--repeats", type=int, default=10, help="timed forward passes (median reported)")
    parser.add_argument("--no-latency", action="store_true", help="only parameters and MACs")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument(
        "--backend", choices=BACKENDS, default="torch", help="latency in torch eager or the ONNX export in onnxruntime"
    )
    parser.add_argument(
        "--vs-dis",
        choices=DIS_PRESETS,
        default=None,
        metavar="PRESET",
        help="time in turn with OpenCV DIS interpolation at this preset (ultrafast, fast, medium) over --rounds "
        "rounds and report the ratio (the median of the rounds' ratios)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds with --vs-dis (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)
    configure_output(logging.WARNING, "%(levelname)s %(name)s: %(message)s")

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is visible; use --device cpu")
    if args.backend == "onnxruntime" and args.device != "cpu":
        parser.error("--backend onnxruntime runs on the CPU here; use --device cpu")
    if args.vs_dis and (args.device != "cpu" or args.no_latency):
        parser.error("--vs-dis times the network beside OpenCV on the CPU: use --device cpu, without --no-latency")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    name, cfg = read_arch(parser, args)
    reference = (f"DIS-{args.vs_dis}", DISInterpolation(args.vs_dis)) if args.vs_dis else None
    report = measure_cost(
        cfg,
        args.size,
        latency=not args.no_latency,
        repeats=args.repeats,
        threads=args.threads,
        device=args.device,
        backend=args.backend,
        reference=reference,
        rounds=args.rounds,
    )
    print(json.dumps({"name": name, **asdict(report)}) if args.json else format_report(name, report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
