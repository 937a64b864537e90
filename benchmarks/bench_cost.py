"""Cost of the presets and sampled sub-0.5M architectures: MACs, latency per backend, per-op time shares.

Prints params, MACs split into conv / warp / other, median latency (batch 1, ``--threads`` intra-op
threads) on each backend (torch eager under ``inference_mode``; the ONNX export in onnxruntime) and the
latency ratio to the RIFE v4.25 preset on the same backend in the same run; then, for one small member,
the share of CPU time per operator (torch.profiler, eager).

    python benchmarks/bench_cost.py                          # 256x256, 480x640, 720x1280; both backends
    python benchmarks/bench_cost.py --quick                  # 256x256 only, torch only, fewer repeats
    python benchmarks/bench_cost.py --sizes 480x640 --backends torch,onnxruntime --profile lite_s
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import torch

from rife_core.cli.args import parse_size
from rife_core.cost import measure_cost
from rife_core.cost.latency import BACKENDS
from rife_core.cost.params import count_params
from rife_core.model.config import ArchConfig
from rife_core.model.presets import PRESETS, create_model
from space.space import V4_SPACE, SearchSpace

REFERENCE = "rife_v4_25"
BUDGET = 500_000


def sample_configs(n: int, seed: int) -> list[tuple[str, ArchConfig]]:
    """``n`` random architectures of the default search space under the budget."""
    space = SearchSpace.load(V4_SPACE)
    feasible = [c for c in space.enumerate_sample(50 * n, seed=seed) if count_params(c) < BUDGET]
    if len(feasible) < n:
        raise ValueError(f"only {len(feasible)} of {50 * n} samples under {BUDGET:,} parameters")
    return [(f"sample_{cfg.arch_id[:6]}", cfg) for cfg in feasible[:n]]


def self_cpu_ms(fn: Callable[[], object], repeats: int = 3) -> dict[str, tuple[float, int]]:
    """Operator -> (self CPU ms, calls) per call of ``fn``, profiled over ``repeats`` calls after a warm-up."""
    fn()
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for _ in range(repeats):
            fn()
    return {
        e.key: (e.self_cpu_time_total / 1000 / repeats, e.count // repeats)
        for e in prof.key_averages()
        if e.self_cpu_time_total > 0
    }


def call_shares(fn: Callable[[], object], repeats: int = 3) -> list[tuple[str, float, int]]:
    """(operator, share of self CPU time, calls per call of ``fn``) after one warm-up call, largest first."""
    per_op = self_cpu_ms(fn, repeats)
    total = sum(ms for ms, _ in per_op.values())
    return sorted(((op, ms / total, calls) for op, (ms, calls) in per_op.items()), key=lambda r: -r[1])


def op_shares(cfg: ArchConfig, size: tuple[int, int], threads: int, repeats: int = 3) -> list[tuple[str, float, int]]:
    """``call_shares`` of the eager forward of ``cfg`` at ``size`` with ``threads`` threads."""
    model = create_model(cfg, seed=0).eval()
    x0, x1 = torch.rand(1, 3, *size), torch.rand(1, 3, *size)
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.inference_mode():
            return call_shares(lambda: model(x0, x1), repeats)
    finally:
        torch.set_num_threads(previous)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="256x256 only, torch only, 3 repeats")
    parser.add_argument("--sizes", default="256x256,480x640,720x1280", help="comma-separated HEIGHTxWIDTH")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated: torch, onnxruntime")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads for every measurement (2)")
    parser.add_argument("--samples", type=int, default=3, help="sampled architectures (default 3)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", default="smallest", help="member whose per-op time shares are printed")
    parser.add_argument("--profile-size", type=parse_size, default=(480, 640))
    args = parser.parse_args(argv)
    sizes = [(256, 256)] if args.quick else [parse_size(s) for s in args.sizes.split(",")]
    backends = ["torch"] if args.quick else args.backends.split(",")
    if unknown := set(backends) - set(BACKENDS):
        parser.error(f"--backends: unknown {sorted(unknown)}; choose from {', '.join(BACKENDS)}")
    repeats = 3 if args.quick else 7
    archs = list(PRESETS.items()) + sample_configs(args.samples, args.seed)
    print(f"torch {torch.__version__}, {args.threads} threads, CPU; MACs from fvcore (1 multiply-add = 1)")
    for backend in backends:
        for size in sizes:
            rows = {
                name: measure_cost(cfg, size, repeats=repeats, threads=args.threads, backend=backend)
                for name, cfg in archs
            }
            ref = rows[REFERENCE].latency_ms
            print(f"\n{backend}, {size[0]}x{size[1]}")
            print(
                f"{'arch':<20}{'params':>10}{'GMACs':>9}{'conv':>9}{'warp':>8}{'other':>8}{'warp%':>7}"
                f"{'ms':>9}{'x v4.25':>9}"
            )
            for name, r in rows.items():
                print(
                    f"{name:<20}{r.params:>10,}{r.macs / 1e9:>9.3f}{r.macs_conv / 1e9:>9.3f}"
                    f"{r.macs_warp / 1e9:>8.4f}{r.macs_other / 1e9:>8.4f}{100 * r.warp_share:>6.2f}%"
                    f"{r.latency_ms:>9.1f}{ref / r.latency_ms:>8.2f}x"
                )
    if args.profile:
        named = dict(archs)
        name = min(named, key=lambda n: count_params(named[n])) if args.profile == "smallest" else args.profile
        if name not in named:
            parser.error(f"--profile {name!r}: choose one of {', '.join(named)} or 'smallest'")
        h, w = args.profile_size
        print(f"\nper-op share of eager CPU time, {name} ({count_params(named[name]):,} params) at {h}x{w}")
        for op, share, calls in op_shares(named[name], args.profile_size, args.threads)[:12]:
            print(f"  {op:<32}{100 * share:>6.1f}%  {calls:>4} calls/forward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
