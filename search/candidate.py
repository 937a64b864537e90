"""The one candidate pipeline: build under an explicit seed (or inherit) -> cost -> train -> evaluate.

The search's trials (and the ablation runner) call ``run_candidate``; what they record is theirs. The
initial weights come from a generator seeded by (seed, arch_id) and the cost probes use generators of
their own, so a candidate's scores are a function of (config, seed, proxy settings), whatever ran before
it, in whichever order, and in whichever thread.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rife_core.cost.report import CostReport, measure_cost
from rife_core.evaluation.evaluate import evaluate, model_predictor
from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.presets import create_model
from rife_core.model.supernet import SuperNet
from rife_core.training.trainer import ValidationHook, train
from search.proxy import ProxySettings

log = logging.getLogger(__name__)

LATENCY_REPEATS = 5  # per trial: enough for a median at the search's resolution, cheap next to training
LATENCY_WARMUP = 2


class CandidateFailed(RuntimeError):
    """Training did not complete (e.g. the loss diverged); the message says why."""


def weight_seed(seed: int, arch_id: str) -> int:
    """The seed of a candidate's initial weights: a 63-bit hash of (seed, arch_id)."""
    digest = hashlib.sha256(f"{seed}/{arch_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def build_candidate(cfg: ArchConfig, seed: int) -> IFNet:
    """``cfg`` with initial weights drawn from ``weight_seed(seed, cfg.arch_id)``."""
    return create_model(cfg, seed=weight_seed(seed, cfg.arch_id))


@dataclass
class CandidateResult:
    model: IFNet
    cost: CostReport
    metrics: dict[str, float] = field(default_factory=dict)  # final validation (+ lpips when asked)
    history: list[dict[str, float]] = field(default_factory=list)
    checkpoint: Path | None = None
    cost_s: float = 0.0
    train_s: float = 0.0


def run_candidate(
    cfg: ArchConfig,
    proxy: ProxySettings,
    *,
    out_dir: Path | None = None,
    on_cost: Callable[[CostReport], None] | None = None,
    on_validation: ValidationHook | None = None,
    inherit: SuperNet | None = None,
    finetune_steps: int = 0,
) -> CandidateResult:
    """Build, cost, train and score one architecture.

    Args:
        out_dir: where the checkpoint goes (None keeps nothing on disk).
        on_cost: called with the cost report before training; it may raise to reject the candidate.
        on_validation: called at each validation as ``hook(step, metrics)``; it may raise to stop (pruning).
        inherit: a trained supernet: the candidate starts from its shared weights instead of a seeded
            initialisation, and is scored as it is (``finetune_steps`` 0) or after that many proxy steps.

    Raises:
        CandidateFailed: training diverged.
    """
    model = inherit.extract(cfg) if inherit is not None else build_candidate(cfg, proxy.seed)
    t0 = time.perf_counter()
    cost = measure_cost(
        cfg, proxy.size, model=model, repeats=LATENCY_REPEATS, warmup=LATENCY_WARMUP, backend=proxy.latency_backend
    )
    result = CandidateResult(model=model, cost=cost, cost_s=time.perf_counter() - t0)
    if on_cost is not None:
        on_cost(cost)
    t1 = time.perf_counter()
    if inherit is not None and finetune_steps == 0:
        result.metrics = _score(model, proxy)
        result.history = [{"step": 0, **result.metrics}]
        if on_validation is not None:
            on_validation(0, result.metrics)
    else:
        steps = finetune_steps if inherit is not None else None
        trained = train(
            model, proxy.train_config(steps), out_dir=out_dir, device=proxy.device, on_validation=on_validation
        )
        if trained.status != "completed":
            raise CandidateFailed(trained.message)
        result.metrics = dict(trained.metrics)
        result.history = trained.history
        result.checkpoint = trained.checkpoint
    result.train_s = time.perf_counter() - t1
    if proxy.lpips:
        result.metrics["lpips"] = _score(model, proxy, lpips=True)["lpips"]
    return result


def _score(model: IFNet, proxy: ProxySettings, lpips: bool = False) -> dict[str, float]:
    """Validation metrics of ``model`` on the proxy's validation triplets (as the trainer validates)."""
    dev = next(model.parameters()).device
    return evaluate(
        model_predictor(model.eval()),
        proxy.val_set(),
        device=dev,
        max_items=proxy.val_items,
        center=proxy.val_crop,
        lpips_net="alex" if lpips else None,
    )
