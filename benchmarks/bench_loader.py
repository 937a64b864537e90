"""Data-loading speed: triplets/s of the loader alone, and the share of a training step spent waiting.

The training step is a ~0.44M-parameter model (preset lite_s), L1 loss, AdamW, on the embedded default
data with RIFE's augmentations. Waiting = time blocked in ``next(loader)``; goal: under 10% of the step.

    python benchmarks/bench_loader.py [--batch 8] [--crop 128] [--steps 30] [--workers N]
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from rife_core.data.augment import AugmentConfig
from rife_core.data.spec import load
from rife_core.data.torch_data import TorchTriplets, default_workers, make_loader
from rife_core.model.presets import create_model


def loader_alone(loader, batches: int) -> float:
    it = iter(loader)
    next(it)  # workers start
    start = time.perf_counter()
    n = 0
    for _ in range(batches):
        n += len(next(it)["t"])
    return n / (time.perf_counter() - start)


def training_wait(loader, steps: int) -> tuple[float, float]:
    model = create_model("lite_s")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    it = iter(loader)
    next(it)
    waited = total = 0.0
    for _ in range(steps):
        t0 = time.perf_counter()
        batch = next(it)
        t1 = time.perf_counter()
        out = model(batch["img0"], batch["img1"], batch["t"])
        loss = (out.frame - batch["imgt"]).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        t2 = time.perf_counter()
        waited += t1 - t0
        total += t2 - t0
    return waited / total, steps / total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--workers", type=int, default=default_workers())
    args = p.parse_args(argv)
    ds = TorchTriplets(load("default", "train"), AugmentConfig(crop=args.crop))
    loader = make_loader(ds, args.batch, shuffle=True, workers=args.workers, drop_last=True)
    print(
        f"default data, train split: {len(ds)} triplets, crop {args.crop}, batch {args.batch}, "
        f"{args.workers} worker(s), torch {torch.get_num_threads()} thread(s)"
    )
    print(f"loader alone: {loader_alone(loader, args.steps):.1f} triplets/s")
    share, steps_s = training_wait(loader, args.steps)
    print(
        f"training: {steps_s:.2f} steps/s ({steps_s * args.batch:.1f} triplets/s consumed), "
        f"waiting for data {100 * share:.1f}% of the step (goal < 10%)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
