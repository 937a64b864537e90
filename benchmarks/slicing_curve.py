"""Children of the parent after a short fine-tune: sliced against seeded, widths, depth rules, the parent term.

Each variant is a child of ``rife_v3_hd``'s shape (every block at one width and depth), started sliced from
the parent (``rife_core.model.slicing``) or seeded, fine-tuned with AdamW at a constant rate (crop 128,
batch 8, the embedded training clips) and scored every ``--eval-every`` steps on the large-motion
validation (15 triplets, centre 192, what the search validates on) and on all 44 validation triplets
(whole frames). Seconds per step exclude the evaluations. Rows are appended to ``--out`` as they come.

    python benchmarks/slicing_curve.py --out curve.csv                      # every variant, 300 steps
    python benchmarks/slicing_curve.py --only w40-sliced,w40-seeded --steps 300 --device cuda
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from rife_core.data.spec import load
from rife_core.evaluation.baselines import blend
from rife_core.evaluation.evaluate import evaluate, model_predictor
from rife_core.model.config import ArchConfig, uniform_blocks
from rife_core.model.ifnet import IFNet
from rife_core.model.parents import DEFAULT_PARENT, load_parent
from rife_core.model.presets import create_model
from rife_core.model.slicing import slice_child
from rife_core.training.checkpoint import resolve_device
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.importance import parent_importance
from rife_core.training.trainer import train

LARGE_MOTION = "large_motion:default"
CENTRE = 192
WITH_PARENT = {"l1": 1.0, "parent": 0.5}
L1_ONLY = {"l1": 1.0}


@dataclass(frozen=True)
class Variant:
    name: str
    width: int
    depth: int = 4
    start: str = "sliced"  # sliced or seeded
    loss: tuple[tuple[str, float], ...] = tuple(WITH_PARENT.items())
    lr: float = 3e-4
    depth_rule: str = "norm"
    both_orders: bool = True
    importance: str = "l1"  # l1 (filter magnitude) or taylor (|w * dL/dw| on a few training batches)
    # (the runs recorded in docs/results/parent.md drew the Taylor crops with an earlier helper of this file)

    def config(self, parent: ArchConfig) -> ArchConfig:
        n = len(parent.blocks)
        blocks = uniform_blocks([b.scale for b in parent.blocks], [self.width] * n, self.depth)
        return parent.replace(blocks=blocks, both_orders=self.both_orders)


VARIANTS = {
    v.name: v
    for v in (
        Variant("w40-sliced", 40),
        Variant("w40-seeded", 40, start="seeded", lr=1e-3),
        Variant("w40-sliced-l1", 40, loss=tuple(L1_ONLY.items())),
        Variant("w24-sliced", 24),
        Variant("w16-sliced", 16),
        Variant("w40d2-first", 40, depth=2, depth_rule="first"),
        Variant("w40d2-norm", 40, depth=2, depth_rule="norm"),
        Variant("w40-sliced-1order", 40, both_orders=False),
        Variant("w40-taylor", 40, importance="taylor"),
        Variant("w24-taylor", 24, importance="taylor"),
        Variant("w16-taylor", 16, importance="taylor"),
        Variant("w40d2-taylor", 40, depth=2, importance="taylor"),
    )
}
FIELDS = [
    "variant",
    "seed",
    "params",
    "inherited",
    "step",
    "seconds",
    "s_per_step",
    "psnr_large",
    "psnr_val44",
    "device",
]


def run(variant: Variant, parent: IFNet, steps: int, every: int, device: str, sets: dict, writer, seed: int) -> None:
    cfg = variant.config(parent.cfg)
    if variant.start == "sliced":
        scores = parent_importance(parent) if variant.importance == "taylor" else None
        model, report = slice_child(parent, cfg, seed=seed, depth_rule=variant.depth_rule, importance=scores)
        inherited = report.share
    else:
        model, inherited = create_model(cfg, seed=seed), 0.0
    loss = dict(variant.loss)
    training = TrainConfig(
        data=("default",),
        val_data=(LARGE_MOTION,),
        stages=(Stage(steps=steps, crop=128, batch_size=8, lr=variant.lr),),
        loss=loss,
        parent=DEFAULT_PARENT if "parent" in loss else None,
        warmup_steps=0,
        min_lr_ratio=1.0,  # a constant rate
        val_every=every,
        val_items=None,
        val_crop=CENTRE,
        collapse_margin_db=None,
        seed=seed,
    )
    dev = resolve_device(device)
    clock = {"start": time.perf_counter(), "eval": 0.0}

    def row(step: int, large: float) -> None:
        t0 = time.perf_counter()
        model.eval()
        val44 = evaluate(model_predictor(model), sets["val44"], device=dev)["psnr"]
        model.train()
        clock["eval"] += time.perf_counter() - t0
        train_s = time.perf_counter() - clock["start"] - clock["eval"]
        writer(
            {
                "variant": variant.name,
                "seed": seed,
                "params": model.num_params(),
                "inherited": round(inherited, 4),
                "step": step,
                "seconds": round(train_s, 1),
                "s_per_step": round(train_s / step, 3) if step else "",
                "psnr_large": round(large, 3),
                "psnr_val44": round(val44, 3),
                "device": str(dev),
            }
        )

    model.to(dev)
    model.eval()
    t0 = time.perf_counter()
    large0 = evaluate(model_predictor(model), sets["large"], device=dev, center=CENTRE)["psnr"]
    t_large = time.perf_counter() - t0
    clock["eval"] += t_large
    row(0, large0)

    def hook(step: int, metrics: dict[str, float]) -> None:
        clock["eval"] += t_large  # the trainer's own validation on the same triplets, as timed at step 0
        row(step, metrics["psnr"])

    clock["start"] = time.perf_counter()
    clock["eval"] = 0.0
    train(model, training, device=device, on_validation=hook)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default=",".join(VARIANTS), help=f"variants, comma-separated: {', '.join(VARIANTS)}")
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--eval-every", type=int, default=100)
    p.add_argument("--device", default="cpu")
    p.add_argument("--seeds", default="0", help="comma-separated: initial weights (seeded layers) and data order")
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    unknown = [v for v in args.only.split(",") if v not in VARIANTS]
    if unknown:
        p.error(f"unknown variants {unknown}; choose from {', '.join(VARIANTS)}")
    parent = load_parent(DEFAULT_PARENT)
    sets = {"large": load(LARGE_MOTION, "val"), "val44": load("default", "val")}
    dev = resolve_device(args.device)
    for name, data, centre in (("large", sets["large"], CENTRE), ("val44", sets["val44"], None)):
        b = evaluate(blend, data, device=dev, center=centre)["psnr"]
        pr = evaluate(model_predictor(parent.to(dev)), data, device=dev, center=centre)["psnr"]
        print(f"{name}: {len(data)} triplets, blend {b:.2f} dB, parent {pr:.2f} dB", flush=True)
    parent.to("cpu")
    new = not args.out.is_file()
    with args.out.open("a", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=FIELDS)
        if new:
            w.writeheader()

        def write(r: dict) -> None:
            w.writerow(r)
            fh.flush()
            print(", ".join(f"{k} {v}" for k, v in r.items()), flush=True)

        for seed in (int(x) for x in args.seeds.split(",")):
            for name in args.only.split(","):
                run(VARIANTS[name], parent, args.steps, args.eval_every, args.device, sets, write, seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
