"""Training throughput of the trainer itself: steps/s, samples/s and the data-wait share.

Default: preset lite_s (440,728 parameters), batch 8, 128x128 crops, the embedded default data, CPU.

    python benchmarks/bench_train.py [--steps 40] [--loss l1=1] [--loss l1=0.2,vgg=1]
"""

from __future__ import annotations

import argparse
import sys

import torch

from rife_core.cli.args import parse_loss
from rife_core.cost.params import count_params
from rife_core.model.presets import PRESETS
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.trainer import train


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="lite_s", choices=sorted(PRESETS))
    p.add_argument("--steps", type=int, default=40)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--loss", type=parse_loss, action="append", default=None)
    p.add_argument("--device", default="cpu")
    args = p.parse_args(argv)
    losses = args.loss or [{"l1": 1.0}, {"l1": 0.2, "vgg": 1.0}]
    arch = PRESETS[args.preset]
    print(
        f"{args.preset} ({count_params(arch):,} params), batch {args.batch}, {args.crop}x{args.crop}, "
        f"{args.steps} steps, device {args.device}, torch {torch.get_num_threads()} threads"
    )
    for loss in losses:
        cfg = TrainConfig(
            stages=(Stage(steps=args.steps, crop=args.crop, batch_size=args.batch),),
            loss=loss,
            val_every=10**9,
            val_items=1,
            val_crop=64,
        )
        r = train(arch, cfg, device=args.device)
        steps_s = r.step / r.seconds
        print(
            f"loss {loss}: {steps_s:.2f} steps/s, {steps_s * args.batch:.1f} samples/s, "
            f"data wait {100 * r.data_wait:.1f}% of the run"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
