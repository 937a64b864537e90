"""The fidelity study's architectures: feasible ones of a space, spread over the parameter range, drawn
deterministically."""

from __future__ import annotations

from rife_core.cost.params import count_params
from rife_core.model.config import ArchConfig
from space.space import SearchSpace

CANDIDATES_PER_PICK = 20  # spread_sample draws this many times n architectures, then picks n spread over params


def spread_sample(space: SearchSpace, budget: int, n: int, seed: int) -> list[ArchConfig]:
    """``n`` distinct feasible architectures at evenly spaced quantiles of parameter count (deterministic)."""
    pool: dict[str, ArchConfig] = {}
    for cfg in space.enumerate_sample(CANDIDATES_PER_PICK * n, seed=seed):
        if count_params(cfg) < budget:
            pool.setdefault(cfg.arch_id, cfg)
    if len(pool) < n:
        raise ValueError(f"only {len(pool)} distinct feasible architectures sampled; raise --budget or lower --n")
    ranked = sorted(pool.values(), key=lambda c: (count_params(c), c.arch_id))
    picks = sorted({round(i * (len(ranked) - 1) / (n - 1)) for i in range(n)}) if n > 1 else [len(ranked) // 2]
    return [ranked[i] for i in picks]
