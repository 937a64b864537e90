"""How a candidate is trained and scored in a search (the proxy), and the validation set it is scored on."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cache
from typing import Any

from results.files import content_key
from rife_core.data.spec import load
from rife_core.data.triplets import ConcatTriplets
from rife_core.training.config import Stage, TrainConfig
from search.candidate import CostProbe, EvalSet


@dataclass(frozen=True)
class ProxySettings:
    data: tuple[str, ...] = ("default",)
    val_data: tuple[str, ...] | None = None  # None: the validation split of ``data``
    steps: int = 1000
    crop: int = 128
    batch: int = 8
    lr: float = 1e-3
    synthetic_ratio: float = 0.5  # share of synthetic large-motion triplets mixed into training
    loss: dict[str, float] = field(default_factory=lambda: {"l1": 1.0})
    val_every: int = 200
    val_items: int = 24
    val_crop: int = 192
    lpips: bool = False  # also score LPIPS at the end
    size: tuple[int, int] = (256, 256)  # resolution of MACs and latency
    latency_backend: str = "torch"  # torch (eager) or onnxruntime (the ONNX export)
    seed: int = 0
    device: str = "auto"
    workers: int | None = None

    def train_config(self, steps: int | None = None) -> TrainConfig:
        steps = steps or self.steps
        return TrainConfig(
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
        for k in ("device", "workers", "latency_backend"):
            d.pop(k)
        return json.loads(json.dumps(d))

    def key(self) -> str:
        """Short hash of ``result_settings``: results cached under it are valid for these settings only."""
        return content_key(self.result_settings())

    def evaluation(self) -> EvalSet:
        """The validation triplets scored as the trainer validates, with LPIPS when asked."""
        return EvalSet(self.val_set(), max_items=self.val_items, center=self.val_crop, lpips=self.lpips)

    def cost_probe(self) -> CostProbe:
        return CostProbe(size=self.size, backend=self.latency_backend)

    def val_set(self) -> ConcatTriplets:
        """The validation triplets every candidate and every baseline is scored on (loaded once)."""
        return _val_set(self.val_data or self.data, self.seed)


def large_motion(data: tuple[str, ...]) -> tuple[str, ...]:
    """The default validation data of a search: the large-motion subset of each training data spec.

    The embedded clips are nearly static (blend 34.81 vs DIS 37.11 dB on their validation split): there a
    network that has not learned motion scores like one that has, so rankings are noise.
    """
    return tuple(f"large_motion:{s}" for s in data)


@cache
def _val_set(specs: tuple[str, ...], seed: int) -> ConcatTriplets:
    return ConcatTriplets("val", [load(s, "val", seed=seed) for s in specs])
