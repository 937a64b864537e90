"""A trained checkpoint's speedup over the parent and ``rife_v4_25``, the three timed in turn.

The networks run at ``--size`` (batch 1, torch eager, ``--threads`` intra-op threads) for ``--rounds``
rounds of 10 passes each, one after the other within a round; prints each round's medians and ratios, and
the median ratio (what ``--retrain-top`` reports).

    python benchmarks/speedup_side_by_side.py runs/search/retrain/ffd116944369_sliced/last.pt
"""

from __future__ import annotations

import argparse
import statistics
import sys

from rife_core.cli.args import parse_size
from rife_core.cost.latency import round_ratios, side_by_side_ms, speedup
from rife_core.model.parents import resolve_parent
from rife_core.model.presets import create_model
from rife_core.training.checkpoint import load_model


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("checkpoint", help="a checkpoint written by training (last.pt)")
    ap.add_argument("--parent", default="rife_v3_hd", help="the parent preset or release file")
    ap.add_argument("--size", type=parse_size, default=(480, 640), help="HEIGHTxWIDTH (default 480x640)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    models = {
        "member": load_model(args.checkpoint),
        "parent": resolve_parent(args.parent),
        "rife_v4_25": create_model("rife_v4_25"),
    }
    times = side_by_side_ms(models, args.size, rounds=args.rounds, threads=args.threads)
    for name, t in times.items():
        print(f"{name:>10} ms per round: {', '.join(f'{x:.1f}' for x in t)}; median {statistics.median(t):.1f}")
    for other in ("parent", "rife_v4_25"):
        ratios = round_ratios(times, other, "member")
        print(
            f"speedup over {other}: {', '.join(f'{r:.2f}' for r in ratios)}; "
            f"median {speedup(times, other, 'member'):.2f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
