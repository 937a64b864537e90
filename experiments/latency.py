"""Each variant's latency as a ratio to its control's, timed side by side in one process.

A time measured on a shared CPU drifts by tens of percent between minutes; a ratio of two networks timed in
turn within the same rounds does not (``rife_core.cost.latency.side_by_side_ms``). The ratio of each
variant is the median over rounds of its time over the control's. The measurement is kept beside the runs
(``latency.json``) and redone only when the spec's architectures, size or threads change.
"""

from __future__ import annotations

import json
import logging
import statistics
from pathlib import Path
from typing import Any

from experiments.spec import AblationSpec
from results.files import write_text

log = logging.getLogger(__name__)

LATENCY_FILE = "latency.json"
ROUNDS, REPEATS, THREADS = 5, 10, 2


def _identity(spec: AblationSpec, threads: int) -> dict[str, Any]:
    return {
        "size": list(spec.size),
        "threads": threads,
        "archs": {v.name: v.arch.arch_id for v in spec.variants},
        "control": spec.control,
    }


def stored_latency(folder: Path) -> dict[str, Any] | None:
    """``latency.json`` of a spec's folder, or None."""
    path = folder / LATENCY_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def measure_ratios(
    spec: AblationSpec, folder: Path, *, rounds: int = ROUNDS, repeats: int = REPEATS, threads: int = THREADS
) -> dict[str, Any]:
    """Time every distinct architecture of ``spec`` with the control's in turn at ``spec.size``; write and
    return ``{"ms": {variant: median ms}, "ratio": {variant: median round ratio to the control}, ...}``.
    A stored measurement of the same architectures, size and threads is returned as it is."""
    from rife_core.cost.latency import round_ratios, side_by_side_ms  # torch: only where timing happens
    from rife_core.machine import machine_info
    from rife_core.model.presets import create_model

    ident = _identity(spec, threads)
    stored = stored_latency(folder)
    if stored is not None and {k: stored.get(k) for k in ident} == ident:
        return stored
    archs = {v.arch.arch_id: v.arch for v in spec.variants}
    control = spec.variant(spec.control).arch.arch_id
    log.info("timing %d architectures side by side at %dx%d, %d rounds", len(archs), *spec.size, rounds)
    models = {a: create_model(cfg, seed=0) for a, cfg in archs.items()}
    times = side_by_side_ms(models, tuple(spec.size), rounds=rounds, repeats=repeats, threads=threads)
    out = {
        **ident,
        "rounds": rounds,
        "repeats": repeats,
        "machine": machine_info(),
        "ms": {v.name: statistics.median(times[v.arch.arch_id]) for v in spec.variants},
        "ratio": {v.name: statistics.median(round_ratios(times, v.arch.arch_id, control)) for v in spec.variants},
    }
    write_text(folder / LATENCY_FILE, json.dumps(out, indent=1))
    return out
