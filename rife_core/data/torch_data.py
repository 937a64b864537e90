"""The torch side: triplets as float tensors, augmented per worker, batched by a DataLoader."""

from __future__ import annotations

import os

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from rife_core.data.augment import AugmentConfig, augment
from rife_core.data.triplets import Triplet


def to_tensor(img: np.ndarray) -> torch.Tensor:
    """uint8 (H, W, 3) -> float32 (3, H, W) in [0, 1]."""
    return torch.from_numpy(np.ascontiguousarray(img)).permute(2, 0, 1).float().div_(255.0)


def center_crop(tri: Triplet, size: int) -> Triplet:
    h, w = tri.img0.shape[:2]
    ch, cw = min(size, h), min(size, w)
    y, x = (h - ch) // 2, (w - cw) // 2
    frames = [f[y : y + ch, x : x + cw] for f in (tri.img0, tri.imgt, tri.img1)]
    return Triplet(frames[0], frames[1], frames[2], t=tri.t, name=tri.name)


class TorchTriplets(Dataset):
    """Wraps a triplet dataset; training applies ``augment``, evaluation an optional centre crop.

    Random choices come from a NumPy generator seeded from torch's per-worker seed, so a DataLoader
    with a seeded ``generator`` gives the same augmentations on every run.
    """

    def __init__(self, base, augment_cfg: AugmentConfig | None = None, center: int | None = None) -> None:
        self.base = base
        self.augment_cfg = augment_cfg
        self.center = center
        self._rng: np.random.Generator | None = None

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, key: int | tuple[int, int]) -> dict:
        """``key`` is an index, or (index, seed) to fix this item's augmentation (resumable training)."""
        idx, seed = key if isinstance(key, tuple) else (key, None)
        tri = self.base[idx]
        if self.augment_cfg is not None:
            if seed is not None:
                rng = np.random.default_rng(seed)
            else:
                if self._rng is None:
                    self._rng = np.random.default_rng(torch.initial_seed() % 2**63)
                rng = self._rng
            tri = augment(tri, self.augment_cfg, rng)
        elif self.center is not None:
            tri = center_crop(tri, self.center)
        item = {
            "img0": to_tensor(tri.img0),
            "imgt": to_tensor(tri.imgt),
            "img1": to_tensor(tri.img1),
            "t": torch.tensor([tri.t], dtype=torch.float32),
            "name": tri.name,
        }
        if tri.parent is not None:  # a parent's frame, the target of the parent loss term
            item["parent"] = to_tensor(tri.parent)
        if tri.flow is not None:  # teacher flows (4, H, W), pixels
            item["flow"] = torch.from_numpy(np.ascontiguousarray(tri.flow)).permute(2, 0, 1).float()
        return item


def default_workers() -> int:
    """Leave one core to the training step: the loader overlaps with compute instead of fighting it."""
    return max(1, min(4, (os.cpu_count() or 2) - 1))


def make_loader(
    dataset: TorchTriplets,
    batch_size: int,
    *,
    shuffle: bool,
    workers: int | None = None,
    seed: int = 0,
    drop_last: bool = False,
    pin_memory: bool = False,
) -> DataLoader:
    """A DataLoader with seeded shuffling and per-worker augmentation streams."""
    workers = default_workers() if workers is None else workers
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=workers,
        generator=generator,
        drop_last=drop_last,
        pin_memory=pin_memory,
        persistent_workers=workers > 0,
        prefetch_factor=4 if workers > 0 else None,
    )
