"""Cost of the presets and a few sampled sub-0.5M architectures at three resolutions.

Prints params, MACs split into conv / warp / other, median latency (inference mode, batch 1, this
machine's threads) and the latency ratio to the RIFE v4.25 preset measured in the same run.

    python benchmarks/bench_cost.py            # 256x256, 480x640, 720x1280
    python benchmarks/bench_cost.py --quick    # 256x256 only, fewer repeats
"""

from __future__ import annotations

import argparse
import random
import sys

import torch

from rife_core.cost import measure_cost
from rife_core.cost.params import count_params
from rife_core.model.config import CONV_TYPES, DOWNSAMPLE_TYPES, UPSAMPLE_TYPES, ArchConfig, BlockConfig
from rife_core.model.presets import PRESETS

REFERENCE = "rife_v4_25"
BUDGET = 500_000


def sample_configs(n: int, seed: int) -> list[tuple[str, ArchConfig]]:
    """``n`` random architectures under the budget, drawn over every dimension of the family."""
    rng = random.Random(seed)
    out: list[tuple[str, ArchConfig]] = []
    while len(out) < n:
        levels = rng.randint(2, 5)
        # Coarsest scale 2**(levels-1) or 2**levels (the latter skips scale 2), finest always 1.
        top = levels - 1 + rng.randint(0, 1)
        scales = [2**e for e in range(top, top - levels + 1, -1)] + [1]
        warp_res = rng.choice(("full", "block"))
        cfg = ArchConfig(
            blocks=tuple(BlockConfig(s, rng.choice((16, 24, 32, 48, 64, 96)), rng.randint(1, 6)) for s in scales),
            conv_type=rng.choice(CONV_TYPES),
            downsample="bilinear" if warp_res == "block" else rng.choice(DOWNSAMPLE_TYPES),
            upsample=rng.choice(UPSAMPLE_TYPES),
            warp_every=rng.choice((0, 1, 2)),
            warp_resolution=warp_res,
            encoder_width=rng.choice((0, 8, 16)),
            passed_feat_ch=rng.choice((0, 4, 8)),
        )
        if count_params(cfg) < BUDGET:
            out.append((f"sample_{cfg.arch_id[:6]}", cfg))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="256x256 only, 3 repeats")
    parser.add_argument("--samples", type=int, default=3, help="sampled architectures (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    sizes = [(256, 256)] if args.quick else [(256, 256), (480, 640), (720, 1280)]
    repeats = 3 if args.quick else 7
    archs = list(PRESETS.items()) + sample_configs(args.samples, args.seed)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU; MACs from fvcore (1 multiply-add = 1)")
    for size in sizes:
        rows = {name: measure_cost(cfg, size, repeats=repeats) for name, cfg in archs}
        ref = rows[REFERENCE].latency_ms
        print(f"\n{size[0]}x{size[1]}")
        print(
            f"{'arch':<20}{'params':>10}{'GMACs':>9}{'conv':>9}{'warp':>8}{'other':>8}{'warp%':>7}"
            f"{'ms':>9}{'x v4.25':>9}{'MB':>8}"
        )
        for name, r in rows.items():
            print(
                f"{name:<20}{r.params:>10,}{r.macs / 1e9:>9.3f}{r.macs_conv / 1e9:>9.3f}{r.macs_warp / 1e9:>8.4f}"
                f"{r.macs_other / 1e9:>8.4f}{100 * r.warp_share:>6.2f}%{r.latency_ms:>9.1f}"
                f"{r.latency_ms / ref:>9.3f}{r.peak_mem_mb:>8.1f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
