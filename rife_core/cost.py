"""Print the cost of one architecture: parameters, MACs (conv / warp / other), latency, peak memory.

Examples:
    python -m rife_core.cost --preset rife_v4_25 --size 720x1280
    python -m rife_core.cost --config my_arch.json --size 256x256 --threads 2 --json
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from rife_core.config import ArchConfig, ConfigError
from rife_core.flops import UNIT, count_macs
from rife_core.latency import measure_latency
from rife_core.params import count_params
from rife_core.presets import PRESETS, create_model


@dataclass(frozen=True)
class CostReport:
    arch_id: str
    params: int
    size: tuple[int, int]
    padded_size: tuple[int, int]
    macs: int
    macs_conv: int
    macs_warp: int
    macs_other: int
    warp_share: float
    latency_ms: float | None
    threads: int | None
    peak_mem_mb: float | None
    device: str
    mac_unit: str = UNIT


def parse_size(text: str) -> tuple[int, int]:
    """``"720x1280"`` -> (720, 1280): height x width."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"size {text!r}: write HEIGHTxWIDTH, e.g. 720x1280") from e
    if h < 1 or w < 1:
        raise argparse.ArgumentTypeError(f"size {text!r}: height and width must be positive")
    return h, w


def measure_cost(
    cfg: ArchConfig,
    size: tuple[int, int],
    *,
    latency: bool = True,
    repeats: int = 10,
    threads: int | None = None,
    device: str = "cpu",
) -> CostReport:
    """Build ``cfg`` and measure everything the search and the benchmarks report."""
    model = create_model(cfg).to(device).eval()
    macs = count_macs(model, size)
    lat = measure_latency(model, size, repeats=repeats, threads=threads) if latency else None
    padded = cfg.padded_size(*size)
    return CostReport(
        arch_id=cfg.arch_id,
        params=count_params(cfg),
        size=size,
        padded_size=padded,
        macs=macs.total,
        macs_conv=macs.conv,
        macs_warp=macs.warp,
        macs_other=macs.other,
        warp_share=macs.warp_share,
        latency_ms=lat.median_ms if lat else None,
        threads=lat.threads if lat else None,
        peak_mem_mb=lat.peak_mem_mb if lat else None,
        device=device,
    )


def format_report(name: str, r: CostReport) -> str:
    g = 1e9
    lines = [
        f"architecture   {name} (arch_id {r.arch_id})",
        f"parameters     {r.params:,}",
        f"input          {r.size[0]}x{r.size[1]} (padded internally to {r.padded_size[0]}x{r.padded_size[1]}), batch 1",
        f"{UNIT:<14} {r.macs / g:.3f} G  (conv {r.macs_conv / g:.3f} G, warp {r.macs_warp / g:.4f} G = "
        f"{100 * r.warp_share:.2f}%, other {r.macs_other / g:.4f} G)",
        "               fvcore, one multiply-add = 1 MAC; warp = grid_sample at 4 MACs per output value",
    ]
    if r.latency_ms is not None:
        lines.append(f"latency        {r.latency_ms:.2f} ms median on {r.device}, {r.threads} thread(s)")
        lines.append(f"peak memory    {r.peak_mem_mb:.1f} MB of tensors held by the forward")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rife_core.cost", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    src = parser.add_mutually_exclusive_group(required=True)
    src.add_argument("--preset", choices=sorted(PRESETS), help="a named architecture")
    src.add_argument("--config", type=Path, help="an ArchConfig JSON file (as written by the search)")
    parser.add_argument("--size", type=parse_size, default=(256, 256), help="HEIGHTxWIDTH (default 256x256)")
    parser.add_argument("--threads", type=int, default=None, help="CPU threads for latency (default: torch's)")
    parser.add_argument("--repeats", type=int, default=10, help="timed forward passes (median reported)")
    parser.add_argument("--no-latency", action="store_true", help="only parameters and MACs")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is visible; use --device cpu")
    if args.preset:
        name, cfg = args.preset, PRESETS[args.preset]
    else:
        try:
            cfg = ArchConfig.from_json(args.config.read_text())
        except FileNotFoundError:
            parser.error(f"--config {args.config}: no such file")
        except (json.JSONDecodeError, ConfigError) as e:
            parser.error(f"--config {args.config}: not a valid architecture: {e}")
        name = str(args.config)
    report = measure_cost(
        cfg, args.size, latency=not args.no_latency, repeats=args.repeats, threads=args.threads, device=args.device
    )
    print(json.dumps({"name": name, **asdict(report)}) if args.json else format_report(name, report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
