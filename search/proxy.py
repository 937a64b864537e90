"""How a candidate is trained and scored in a search (the proxy), and the validation set it is scored on."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache
from typing import Any

from results.files import content_key
from rife_core.cli.args import parse_loss, parse_size
from rife_core.cost.latency import BACKENDS, DEPLOY_SIZE
from rife_core.data.spec import load
from rife_core.data.triplets import ConcatTriplets
from rife_core.model.layer_starts import FIT_BUDGETS
from rife_core.training.config import Stage, TrainConfig
from search.candidate import CostProbe, EvalSet
from search.settings import option


@dataclass(frozen=True)
class ProxySettings:
    """How each candidate of a search is trained and scored (``search.run``'s proxy options)."""

    data: tuple[str, ...] = option(
        ("default",),
        flag="--data",
        repeat=True,
        metavar="SPEC",
        help="training data, repeatable (default: default, the embedded clips)",
    )
    val_data: tuple[str, ...] | None = option(
        None,
        flag="--val-data",
        repeat=True,
        metavar="SPEC",
        help="validation data (default: large_motion:SPEC of each --data, the triplets that move >= 8 px)",
    )
    steps: int = option(600, prefixed=True, help="training steps of each candidate (a fine-tune of a sliced child)")
    crop: int = option(128, prefixed=True, help="square training crop (pixels)")
    batch: int = option(8, prefixed=True, help="batch size")
    lr: float = option(1e-3, prefixed=True, help="peak learning rate (warm-up, then cosine to 1%%)")
    synthetic_ratio: float = option(0.5, prefixed=True, help="share of synthetic large-motion triplets (0-1)")
    loss: dict[str, float] = option(
        factory=lambda: {"l1": 1.0},
        prefixed=True,
        parse=parse_loss,
        help="loss terms and weights, e.g. l1=1,distill=0.01",
    )
    val_every: int = option(200, prefixed=True, help="steps between validations (the pruner decides at each)")
    val_items: int = option(24, flag="--val-items", help="validation triplets each candidate is scored on")
    val_crop: int = option(192, help="centre crop of the validation triplets (pixels)")
    lpips: bool = option(True, negate="--no-lpips", help="skip LPIPS (AlexNet) at the end of each candidate")
    size: tuple[int, int] = option(
        (256, 256), flag="--size", parse=parse_size, help="HEIGHTxWIDTH at which MACs are counted"
    )
    latency_size: tuple[int, int] = option(
        DEPLOY_SIZE,
        flag="--latency-size",
        parse=parse_size,
        fingerprint=False,  # enters the fingerprint where it is not --size (see SearchSpec.fingerprint_settings)
        help="HEIGHTxWIDTH at which each candidate is timed, in turn with DIS-medium (the deployment size)",
    )
    latency_backend: str = option(
        "torch",
        flag="--latency-backend",
        choices=BACKENDS,
        fingerprint=False,
        help="latency (objective, limit) in torch eager or in onnxruntime on the ONNX export",
    )
    importance: str = option(
        "taylor",
        prefixed=True,
        choices=("taylor", "l1"),
        fingerprint=False,  # part of the fingerprint only where candidates start from a parent
        help="how a child's channels are ranked when sliced from the space's parent: first-order Taylor on "
        "fixed training crops, or filter magnitude",
    )
    fit: str = option(
        "fast",
        prefixed=True,
        choices=tuple(FIT_BUDGETS),
        fingerprint=False,  # as importance: part of the fingerprint only where candidates start from a parent
        help="what a child's start spends fitting the layers of kinds its parent lacks: fast (heads fitted on "
        "centre windows of the crops) or full (the reference table's fits)",
    )
    seed: int = option(0, flag="--seed", help="seeds the scoring (initial weights, data order) and the sampler")
    device: str = option("auto", flag="--device", fingerprint=False, help="cpu, cuda or auto")
    workers: int | None = None  # data-loader workers; None: the trainer's default

    def train_config(self, steps: int | None = None, parent: str | None = None) -> TrainConfig:
        """The candidates' training, ``steps`` long (default ``self.steps``); ``parent``: the network a
        ``parent`` loss term pulls towards (the space's)."""
        steps = steps or self.steps
        return TrainConfig(
            parent=parent if "parent" in self.loss else None,
            data=self.data,
            val_data=self.val_data,
            synthetic_ratio=self.synthetic_ratio,
            stages=(Stage(steps=steps, crop=self.crop, batch_size=self.batch, lr=self.lr),),
            loss=dict(self.loss),
            warmup_steps=min(50, steps // 10),
            seed=self.seed,
            val_every=self.val_every,
            val_items=self.val_items,
            val_crop=self.val_crop,
            workers=self.workers,
        )

    def result_settings(self) -> dict[str, Any]:
        """The settings that change a candidate's scores (device, loader workers and latency backend do not)."""
        d = asdict(self)
        for k in ("device", "workers", "latency_backend", "latency_size"):
            d.pop(k)
        if d["fit"] == "full":  # the fits of every result recorded before the option: their keys stay valid
            d.pop("fit")
        return json.loads(json.dumps(d))

    def key(self) -> str:
        """Short hash of ``result_settings``: results cached under it are valid for these settings only."""
        return content_key(self.result_settings())

    def evaluation(self) -> EvalSet:
        """The validation triplets scored as the trainer validates, with LPIPS when asked."""
        return EvalSet(self.val_set(), max_items=self.val_items, center=self.val_crop, lpips=self.lpips)

    def cost_probe(self) -> CostProbe:
        return CostProbe(
            size=self.size, backend=self.latency_backend, latency_size=self.latency_size, reference="medium"
        )

    def val_set(self) -> ConcatTriplets:
        """The validation triplets every candidate and every baseline is scored on (loaded once)."""
        return _val_set(self.val_data or self.data, self.seed)


def large_motion(data: tuple[str, ...]) -> tuple[str, ...]:
    """The default validation data of a search: the large-motion subset of each training data spec.

    The embedded clips are nearly static (the blend is close to DIS on their validation split;
    docs/results/baselines.md): there a network that has not learned motion scores like one that has, so
    rankings are noise.
    """
    return tuple(f"large_motion:{s}" for s in data)


@cache
def _val_set(specs: tuple[str, ...], seed: int) -> ConcatTriplets:
    return ConcatTriplets("val", [load(s, "val", seed=seed) for s in specs])
