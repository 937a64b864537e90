"""What each warp policy costs, per operator, at full-HD-ish sizes (torch eager, torch.profiler).

For lite_s under every variant of the ``warp`` ablation spec (and ``lite_fast``), prints per size the
forward's wall time and the milliseconds per forward spent in the warp (``grid_sampler_2d``), bilinear
resizing, concatenation and convolution.

    python benchmarks/bench_warp.py                          # 480x640 and 720x1280, 2 threads
    python benchmarks/bench_warp.py --sizes 1080x1920 --threads 4
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for bench_cost

from benchmarks.bench_cost import self_cpu_ms
from experiments.spec import AblationSpec, resolve
from rife_core.cli.args import parse_size
from rife_core.cost.latency import measure_latency
from rife_core.model.ifnet import example_inputs
from rife_core.model.presets import PRESETS, create_model

OPS = {
    "warp": ("aten::grid_sampler_2d",),
    "resize": ("aten::upsample_bilinear2d",),
    "cat": ("aten::cat",),
    "conv": (
        "aten::mkldnn_convolution",
        "aten::_slow_conv2d_forward",
        "aten::slow_conv_transpose2d",
        "aten::convolution_overrideable",
        "aten::_convolution",
    ),
}


def profile(cfg, size: tuple[int, int], repeats: int) -> tuple[float, dict[str, float]]:
    """Median wall ms of a forward, and self CPU ms per forward in each group of ``OPS``."""
    model = create_model(cfg, seed=0).eval()
    total = measure_latency(model, size, repeats=repeats, warmup=1, measure_memory=False).median_ms
    a, b = example_inputs(None, size)[:2]
    with torch.inference_mode():
        by_op = self_cpu_ms(lambda: model(a, b))
    return total, {g: sum(by_op.get(k, (0.0, 0))[0] for k in keys) for g, keys in OPS.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="480x640,720x1280")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    spec = AblationSpec.read(resolve("warp"))
    archs = [(v.name, v.arch) for v in spec.variants] + [("lite_fast", PRESETS["lite_fast"])]
    print(f"torch {torch.__version__}, {args.threads} threads; ms per forward (self CPU time per operator group)")
    for size in (parse_size(s) for s in args.sizes.split(",")):
        print(f"\n{size[0]}x{size[1]}")
        print(f"{'policy':<20}{'total':>9}" + "".join(f"{g:>9}" for g in OPS))
        for name, cfg in archs:
            total, groups = profile(cfg, size, args.repeats)
            print(f"{name:<20}{total:>9.1f}" + "".join(f"{groups[g]:>9.1f}" for g in OPS), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
