"""The exact rewrite of ``IFNet.forward`` against the forward it replaced, in one run, interleaved.

The old forward (concatenate every block input at full resolution, then downsample) is kept in the tests as
the reference the rewrite must match (``tests/rife_core/model/reference_forward.py``). This prints, for one
preset at one size: the median latency of both on the same weights and inputs, alternating old / new so
that drift on a shared machine hits both, their largest output difference, and the per-op share of eager
CPU time of each (torch.profiler).

    python benchmarks/bench_rewrite.py                       # lite_s, 480x640, 2 threads
    python benchmarks/bench_rewrite.py --preset rife_v4_25 --size 720x1280
    python benchmarks/bench_rewrite.py --also lite_fast,rife_v4_25   # more presets in the same rounds
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository root, for the tests' reference

from benchmarks.bench_cost import call_shares
from rife_core.cli.args import parse_size
from rife_core.model.presets import PRESETS, create_model
from tests.rife_core.model.reference_forward import reference_forward


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="lite_s", choices=sorted(PRESETS))
    p.add_argument("--size", type=parse_size, default=(480, 640))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=10, help="timed calls of each forward (10)")
    p.add_argument("--also", default="", help="comma-separated presets timed in the same rounds (their forward)")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = PRESETS[args.preset]
    model = create_model(cfg, seed=0).eval()
    h, w = cfg.padded_size(*args.size)  # the reference takes padded inputs
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(1, 3, h, w, generator=g), torch.rand(1, 3, h, w, generator=g)
    forwards = {"before": lambda: reference_forward(model, a, b), "after": lambda: model(a, b)}
    for name in filter(None, args.also.split(",")):
        if name not in PRESETS:
            p.error(f"--also {name!r}: choose from {', '.join(PRESETS)}")
        other = create_model(name, seed=0).eval()
        x0, x1 = torch.rand(1, 3, *args.size, generator=g), torch.rand(1, 3, *args.size, generator=g)
        forwards[name] = lambda m=other, x0=x0, x1=x1: m(x0, x1)
    times: dict[str, list[float]] = {k: [] for k in forwards}
    with torch.inference_mode():
        diff = float((forwards["before"]().frame - forwards["after"]().frame).abs().max())
        for _ in range(args.repeats):
            for name, fn in forwards.items():
                t0 = time.perf_counter()
                fn()
                times[name].append(1000 * (time.perf_counter() - t0))
        ms = {k: statistics.median(v) for k, v in times.items()}
        print(f"{args.preset} at {args.size[0]}x{args.size[1]}, {args.threads} threads, torch {torch.__version__}")
        print(
            f"before {ms['before']:.1f} ms, after {ms['after']:.1f} ms: {ms['before'] / ms['after']:.2f}x; "
            f"max |frame diff| {diff:.1e}"
        )
        for name in list(forwards)[2:]:
            print(
                f"{name} {ms[name]:.1f} ms: speed-up over {args.preset} before {ms['before'] / ms[name]:.2f}x, "
                f"after {ms['after'] / ms[name]:.2f}x"
            )
        for name, fn in list(forwards.items())[:2]:
            print(f"\nper-op share of eager CPU time, {name}")
            for op, share, calls in call_shares(fn)[:10]:
                print(f"  {op:<32}{100 * share:>6.1f}%  {calls:>4} calls/forward")
    return 0


if __name__ == "__main__":
    sys.exit(main())
