"""What a training step reads: the seeded batches of each global step and the datasets of a run.

The batch and its augmentations at global step s are a pure function of (seed, s), so a resumed run
continues exactly where an uninterrupted one would be.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence, Sized
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from rife_core.data.augment import AugmentConfig
from rife_core.data.frames import DataError
from rife_core.data.parent_frames import ParentFrames, weights_key
from rife_core.data.spec import MixedTriplets, load
from rife_core.data.teacher import TeacherFlows
from rife_core.data.torch_data import TorchTriplets
from rife_core.data.triplets import ConcatTriplets
from rife_core.training.config import Stage, TrainConfig


class StepBatches(Sampler):
    """Yields, for global steps start..end, the batch of (index, augmentation seed) pairs of that step."""

    def __init__(self, n_items: int, batch_size: int, seed: int, start: int, end: int | None) -> None:
        self.n, self.batch, self.seed, self.start, self.end = n_items, batch_size, seed, start, end

    def __iter__(self) -> Iterator[list[tuple[int, int]]]:
        step = self.start
        while self.end is None or step < self.end:
            rng = np.random.default_rng([self.seed, step])
            idx = rng.integers(0, self.n, self.batch)
            seeds = rng.integers(0, 2**63 - 1, self.batch)
            yield [(int(i), int(s)) for i, s in zip(idx, seeds, strict=True)]
            step += 1

    def __len__(self) -> int:
        return (self.end - self.start) if self.end is not None else 2**31


def step_loader(
    train_set, cfg: TrainConfig, stage: Stage, start: int, end: int | None, workers: int, pin_memory: bool = False
) -> DataLoader:
    """Augmented batches for global steps start..end; the batch at step s is a function of (seed, s)."""
    aug = AugmentConfig(crop=stage.crop, p_resize=stage.p_resize, resize_range=stage.resize_range, **cfg.augment)
    return DataLoader(
        TorchTriplets(train_set, aug),
        batch_sampler=StepBatches(len(train_set), stage.batch_size, cfg.seed, start, end),
        num_workers=workers,
        pin_memory=pin_memory,
        prefetch_factor=4 if workers else None,
        # Worker seeds from a private generator, not torch's global RNG (items are seeded anyway).
        generator=torch.Generator().manual_seed(cfg.seed),
    )


def check_triplets(train: Sized, train_specs: Sequence[str], val: Sized, val_specs: Sequence[str]) -> None:
    """Raise ``DataError`` naming the specs when the training or the validation set holds no triplet."""
    if not len(train):
        raise DataError(f"no training triplets in {', '.join(train_specs)}; check the dataset folder and its lists")
    if not len(val):
        raise DataError(
            f"no validation triplets in {', '.join(val_specs)}; pass validation data explicitly (--val-data)"
        )


def real_training_triplets(specs: Sequence[str], seed: int) -> ConcatTriplets:
    """The training splits of the dataset ``specs``, end to end (before any synthetic mixing)."""
    return ConcatTriplets("train", [load(s, "train", seed=seed) for s in specs])


def training_datasets(cfg: TrainConfig, teacher: bool, parent: Any = None, device: Any = "cpu"):
    """(train, val) datasets of ``cfg``; ``teacher`` attaches teacher flows to the training triplets, and a
    ``parent`` (with ``cfg.cache_parent_frames``) its cached frames, computed first where missing."""
    train: Any = real_training_triplets(cfg.data, cfg.seed)  # a triplet source; mixing and teachers wrap it
    if cfg.synthetic_ratio > 0:
        train = MixedTriplets(train, load("synthetic", "train", seed=cfg.seed), cfg.synthetic_ratio)
    if parent is not None and cfg.cache_parent_frames:
        train = ParentFrames(train, weights_key(parent))
        train.fill(parent, device)
    if teacher:
        train = TeacherFlows(train, cache=cfg.cache_teacher_flows)
    val_specs = cfg.val_data if cfg.val_data is not None else cfg.data
    val = ConcatTriplets("val", [load(s, "val", seed=cfg.seed) for s in val_specs])
    check_triplets(train, cfg.data, val, val_specs)
    return train, val
