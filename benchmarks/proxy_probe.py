"""The search's proxy on chosen children of the parent: how steps, rate and depth move a trial's score.

Each row is one child (``--child NAME``, ``PROBES`` below: children the default search drew, and the same
with other depths or pyramids) scored exactly as a trial of ``python -m search.run`` scores it: sliced from
the space's parent, fine-tuned by ``ProxySettings`` (``--steps``, ``--lr``; every other setting the
search's default) through the one candidate pipeline, validated on the large-motion validation triplets.
Prints one JSON line per run: the validation curve and the seconds it took.

    python benchmarks/proxy_probe.py --child d1-1-4 --child d4-4-4 --steps 300 --lr 1e-3
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace

from rife_core.model.config import ArchConfig, BlockConfig
from rife_core.model.parents import resolve_parent
from rife_core.training.start import make_start
from search.candidate import run_candidate
from search.proxy import ProxySettings, large_motion
from space.space import SearchSpace


def _child(blocks: list[tuple[int, int, int]], both_orders: bool, warp_every: int, warp_res: str) -> ArchConfig:
    base = SearchSpace.load().base
    return base.replace(
        blocks=tuple(BlockConfig(*b) for b in blocks),
        both_orders=both_orders,
        warp_every=warp_every,
        warp_resolution=warp_res,
    )


# (scale, width, depth) per block, both orders, warp every, warp resolution
PROBES = {
    "d1-8": _child([(8, 48, 1), (2, 16, 1), (1, 48, 1)], False, 1, "full"),  # a trial of the first draw
    "d1-4": _child([(4, 48, 1), (2, 16, 1), (1, 48, 1)], False, 1, "full"),  # the same on the parent's pyramid
    "d1-1-4-8": _child([(8, 32, 1), (2, 24, 1), (1, 32, 4)], False, 2, "block"),  # another of that draw
    "d1-1-4": _child([(4, 32, 1), (2, 24, 1), (1, 32, 4)], False, 2, "block"),  # on the parent's pyramid
    "d1-1-4-w1": _child([(4, 32, 1), (2, 24, 1), (1, 32, 4)], False, 1, "block"),  # warping after every block
    "d2-2-4": _child([(4, 32, 2), (2, 24, 2), (1, 32, 4)], False, 2, "block"),  # deeper coarse blocks
    "d4-4-4": _child([(4, 32, 4), (2, 24, 4), (1, 32, 4)], False, 2, "block"),
}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--child", action="append", choices=sorted(PROBES), help="repeatable (default: all)")
    p.add_argument("--steps", type=int, default=ProxySettings.steps)
    p.add_argument("--lr", type=float, default=ProxySettings.lr)
    p.add_argument("--loss", default=None, help="e.g. l1=1,parent=0.5 (default: the proxy's)")
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    space = SearchSpace.load()
    assert space.parent is not None
    proxy = ProxySettings(val_data=large_motion(ProxySettings.data), lpips=False, device=args.device)
    start = make_start(resolve_parent(space.parent), importance=proxy.importance, fit=proxy.fit)
    proxy = replace(proxy, steps=args.steps, lr=args.lr, val_every=max(100, args.steps // 6))
    if args.loss:
        from rife_core.cli.args import parse_loss

        proxy = replace(proxy, loss=parse_loss(args.loss))
    for name in args.child or sorted(PROBES):
        t0 = time.perf_counter()
        res = run_candidate(PROBES[name], proxy.train_config(parent=space.parent), start=start, device=args.device)
        curve = {int(h["step"]): round(h["psnr"], 2) for h in res.history}
        row = {"child": name, "steps": args.steps, "lr": args.lr, "loss": proxy.loss, "curve": curve}
        print(json.dumps({**row, "seconds": round(time.perf_counter() - t0)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
