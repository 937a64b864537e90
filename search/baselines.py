"""What every trial of a search is compared with: the blend, DIS at each preset and the space's parent,
scored on the trials' validation triplets and timed in turn at the trials' latency size.

The names are the keys of ``baselines.json`` (PSNR) and ``baseline_latency.json`` (ms and the time over
DIS-medium's, the ``latency_dis`` of the trials), which the dashboards and reports draw.
"""

from __future__ import annotations

import logging
import statistics

from torch import nn

from rife_core.cost.latency import side_by_side_ms, speedup
from rife_core.evaluation.baselines import TIMED_METHODS, baseline_psnr
from rife_core.model.ifnet import IFNet
from search.spec import SearchSpec

log = logging.getLogger(__name__)

DIS_PRESETS_COMPARED = ("ultrafast", "fast")  # besides "dis" (medium, the evaluation's preset)
DIS_KEY = "dis (baseline)"  # the reference of every ``latency_dis``
ROUNDS = 5
REPEATS = 3


def baseline_scores(spec: SearchSpec, parent_ref: str | None, parent: IFNet | None) -> dict[str, float]:
    """Blend, DIS (each preset) and the space's parent (``parent``, loaded once): PSNR on the triplets the
    trials are scored on, named ``<method> (baseline)``."""
    parents = {f"parent {parent_ref}": parent} if parent is not None else {}
    scores = baseline_psnr(
        spec.proxy.val_set(),
        parents,
        max_items=spec.proxy.val_items,
        center=spec.proxy.val_crop,
        dis_presets=DIS_PRESETS_COMPARED,
    )
    return {f"{name} (baseline)": psnr for name, psnr in scores.items()}


def baseline_latency(
    spec: SearchSpec, parent_ref: str | None, parent: IFNet | None, threads: int | None = None
) -> dict[str, dict[str, float]]:
    """Each baseline's median ms at the trials' latency size, timed in turn over ``ROUNDS`` rounds, and its
    time over DIS-medium's (the median of the rounds' ratios), as the trials' ``latency_dis``."""
    timed: dict[str, nn.Module] = {f"{name} (baseline)": make() for name, make in TIMED_METHODS.items()}
    if parent is not None:
        timed[f"parent {parent_ref} (baseline)"] = parent
    size = spec.proxy.latency_size
    log.info("timing the baselines at %dx%d in turn (%d rounds): %s", *size, ROUNDS, ", ".join(timed))
    times = side_by_side_ms(
        timed, size, rounds=ROUNDS, repeats=REPEATS, threads=threads, backend=spec.proxy.latency_backend
    )
    return {
        name: {"latency_ms": statistics.median(times[name]), "latency_dis": speedup(times, name, DIS_KEY)}
        for name in timed
    }
