"""Data-aware importance of a parent's weights: first-order Taylor on a fixed set of training crops.

Slicing ranks channels by how much they matter. Filter magnitude (L1) needs no data; first-order Taylor,
|w * dL/dw| with L the L1 error of the parent's frame, asks the data what removing a weight would cost.
Measured on the parent's children (docs/results/parent.md), Taylor's children score higher after 100
fine-tuning steps at widths 40 and 16 and the same at 24, so it is the default ranking. The crops are
fixed by a seed, so the importance is a function of (parent, data, seed).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
import torch

from rife_core.data.augment import AugmentConfig
from rife_core.data.parent_frames import weights_key
from rife_core.data.spec import load
from rife_core.data.torch_data import TorchTriplets
from rife_core.data.triplets import ConcatTriplets
from rife_core.model.ifnet import IFNet
from rife_core.model.slicing import taylor_importance

log = logging.getLogger(__name__)

IMPORTANCE_BATCHES = 4
IMPORTANCE_BATCH_SIZE = 8
IMPORTANCE_CROP = 128


def importance_batches(
    data: Sequence[str] = ("default",),
    n: int = IMPORTANCE_BATCHES,
    batch: int = IMPORTANCE_BATCH_SIZE,
    crop: int = IMPORTANCE_CROP,
    seed: int = 0,
) -> list[tuple[torch.Tensor, ...]]:
    """``n`` batches of random ``crop`` crops of the training split of ``data`` (chosen and augmented by ``seed``)."""
    base = ConcatTriplets("train", [load(s, "train", seed=seed) for s in data])
    items = TorchTriplets(base, AugmentConfig(crop=crop))
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(items), size=n * batch, replace=len(items) < n * batch)
    out = []
    for b in range(n):
        drawn = [
            items[int(i), seed * 100_003 + b * batch + j] for j, i in enumerate(picks[b * batch : (b + 1) * batch])
        ]
        out.append(tuple(torch.stack([d[k] for d in drawn]) for k in ("img0", "img1", "imgt")))
    return out


_MEMO: OrderedDict[tuple[str, tuple[str, ...], int], dict[str, torch.Tensor]] = OrderedDict()
_MEMO_SIZE = 4  # parents x data kept per process; each entry is the size of the parent's weights


def parent_importance(parent: IFNet, data: Sequence[str] = ("default",), seed: int = 0) -> dict[str, torch.Tensor]:
    """First-order Taylor importance of ``parent``'s weights on ``importance_batches(data, seed=seed)``.

    Memoised per process on (the parent's weights, data, seed): every search or reference run in one process
    slices from the same parent, and the pass costs seconds. Callers must not modify the returned tensors.
    """
    key = (weights_key(parent), tuple(data), seed)
    if key in _MEMO:
        _MEMO.move_to_end(key)
        return _MEMO[key]
    t0 = time.perf_counter()
    scores = taylor_importance(parent, importance_batches(data, seed=seed))
    log.info("Taylor importance of the parent's weights: %.1f s", time.perf_counter() - t0)
    _MEMO[key] = scores
    while len(_MEMO) > _MEMO_SIZE:
        _MEMO.popitem(last=False)
    return scores
