"""The one candidate pipeline: start (seeded or inherited) -> cost -> train -> score -> result.

Every caller that turns an architecture into numbers goes through ``run_candidate``: the search's trials
(``search.objective``), ``search.run --retrain-top``, ``search.fidelity`` and the ablation runner
(``experiments.runner``); what each records is its own. How a candidate gets its starting weights and how
long it trains is a ``Start`` (``Seeded``, ``Inherited``): one object with one method, so a new way of
scoring is a new class, not a new branch.

The initial weights come from a generator seeded by (seed, arch_id) and the cost probes use generators of
their own, so a candidate's scores are a function of (config, seed, settings), whatever ran before it, in
whichever order, and in whichever thread.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from rife_core.cost.report import CostReport, measure_cost
from rife_core.evaluation.baselines import blend
from rife_core.evaluation.evaluate import evaluate, model_predictor
from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.presets import create_model
from rife_core.model.slicing import SliceReport, check_child, slice_child
from rife_core.model.supernet import SuperNet
from rife_core.training.config import TrainConfig
from rife_core.training.importance import parent_importance
from rife_core.training.loop import ValidationHook
from rife_core.training.trainer import TrainResult, train

log = logging.getLogger(__name__)


class CandidateFailed(RuntimeError):
    """Training did not complete (e.g. the loss diverged); the message says why, ``trained`` holds the run."""

    def __init__(self, message: str, trained: TrainResult | None = None) -> None:
        super().__init__(message)
        self.trained = trained


def weight_seed(seed: int, arch_id: str) -> int:
    """The seed of a candidate's initial weights: a 63-bit hash of (seed, arch_id)."""
    digest = hashlib.sha256(f"{seed}/{arch_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def build_candidate(cfg: ArchConfig, seed: int) -> IFNet:
    """``cfg`` with initial weights drawn from ``weight_seed(seed, cfg.arch_id)``."""
    return create_model(cfg, seed=weight_seed(seed, cfg.arch_id))


# --- how a candidate starts ---------------------------------------------------------------------------
class Start(Protocol):
    def prepare(self, cfg: ArchConfig, training: TrainConfig) -> tuple[IFNet, TrainConfig | None]:
        """The starting network and the training it gets before it is scored (None: scored as it is)."""
        ...

    def inherited_share(self, cfg: ArchConfig) -> float:
        """The share of ``cfg``'s parameters that did not start seeded."""
        ...


@dataclass(frozen=True)
class Seeded:
    """Initial weights drawn from ``weight_seed(training.seed, arch_id)``, then the whole training."""

    def prepare(self, cfg: ArchConfig, training: TrainConfig) -> tuple[IFNet, TrainConfig | None]:
        return build_candidate(cfg, training.seed), training

    def inherited_share(self, cfg: ArchConfig) -> float:
        return 0.0


@dataclass(frozen=True, eq=False)
class Inherited:
    """The weights ``cfg`` inherits from a trained supernet, then ``finetune`` (None: scored as inherited)."""

    supernet: SuperNet
    finetune: TrainConfig | None = None

    def prepare(self, cfg: ArchConfig, training: TrainConfig) -> tuple[IFNet, TrainConfig | None]:
        return self.supernet.extract(cfg), self.finetune

    def inherited_share(self, cfg: ArchConfig) -> float:
        return 1.0


@dataclass(frozen=True, eq=False)
class Sliced:
    """The weights ``cfg`` takes from a pretrained parent (``rife_core.model.slicing``), the rest seeded from
    ``weight_seed(training.seed, arch_id)``, then the whole training (a fine-tune)."""

    parent: IFNet
    depth_rule: str = "norm"
    # "taylor": rank by first-order Taylor importance on fixed crops of the training data (computed once per
    # data); "l1": by filter magnitude (rife_core.training.importance says which scored higher)
    importance: str = "taylor"
    reports: dict[str, SliceReport] = field(default_factory=dict, compare=False)

    def prepare(self, cfg: ArchConfig, training: TrainConfig) -> tuple[IFNet, TrainConfig | None]:
        check_child(self.parent.cfg, cfg)  # refused before the importance is computed
        # parent_importance is memoised per process on (weights, data, seed): computed once per search
        scores = parent_importance(self.parent, training.data) if self.importance == "taylor" else None
        child, report = slice_child(
            self.parent,
            cfg,
            seed=weight_seed(training.seed, cfg.arch_id),
            depth_rule=self.depth_rule,
            importance=scores,
        )
        self.reports[cfg.arch_id] = report
        log.info("%s starts from the parent: %.1f%% of its parameters inherited", cfg.arch_id, 100 * report.share)
        return child, training

    def inherited_share(self, cfg: ArchConfig) -> float:
        if cfg.arch_id not in self.reports:
            raise KeyError(f"{cfg.arch_id} was not prepared by this start")
        return self.reports[cfg.arch_id].share


SEEDED = Seeded()


# --- what is measured ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CostProbe:
    """How the cost is measured: MACs and latency at ``size`` (H, W) on the CPU."""

    size: tuple[int, int] = (256, 256)
    repeats: int = 5  # per candidate: enough for a median at the search's resolution, cheap next to training
    warmup: int = 2
    backend: str = "torch"  # torch (eager) or onnxruntime (the ONNX export)
    threads: int | None = None  # None: torch's current setting


@dataclass(frozen=True)
class EvalSet:
    """Triplets a trained candidate is scored on, and how (as ``rife_core.evaluation.evaluate``)."""

    data: Sequence
    max_items: int | None = None  # evenly spread; None: all
    center: int | None = None  # centre crop; None: whole frames
    lpips: bool = False  # also LPIPS (AlexNet, genuine weights)

    def blend_psnr(self) -> float:
        """The 50/50 blend's PSNR on these triplets, scored as candidates are (the plateau's level)."""
        return evaluate(blend, self.data, max_items=self.max_items, center=self.center)["psnr"]


@dataclass
class CandidateResult:
    model: IFNet
    cost: CostReport | None
    metrics: dict[str, float] = field(default_factory=dict)  # final validation (or the first eval set's scores)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # eval set name -> metrics
    history: list[dict[str, float]] = field(default_factory=list)
    trained: TrainResult | None = None  # None: scored as it started
    checkpoint: Path | None = None
    cost_s: float = 0.0
    train_s: float = 0.0
    inherited_share: float = 0.0  # share of the parameters that did not start seeded


def run_candidate(
    cfg: ArchConfig,
    training: TrainConfig,
    *,
    start: Start = SEEDED,
    evals: Mapping[str, EvalSet] | None = None,
    validation: EvalSet | None = None,
    cost: CostProbe | None = None,
    device: str = "auto",
    out_dir: Path | None = None,
    on_cost: Callable[[CostReport], None] | None = None,
    on_validation: ValidationHook | None = None,
    resume: Path | None = None,
    stage_checkpoints: Mapping[int, Path] | None = None,
    progress: bool = False,
) -> CandidateResult:
    """Start, cost, train and score one architecture.

    Args:
        training: the training run (seed, data, stages, validation); ``start`` decides whether it runs.
        evals: name -> triplets to score the trained network on (``scores``).
        validation: what ``metrics`` are when ``start`` gives no training (with training: the training's
            last validation).
        cost: how to measure the cost before training (None: not measured).
        out_dir: where the checkpoint goes (None keeps nothing on disk).
        on_cost: called with the cost report before training; it may raise to reject the candidate.
        on_validation: called at each validation as ``hook(step, metrics)``; it may raise to stop (pruning).
        resume, stage_checkpoints, progress: as ``rife_core.training.trainer.train``.

    Raises:
        CandidateFailed: training diverged.
    """
    model, run = start.prepare(cfg, training)
    evals = dict(evals or {})
    t0 = time.perf_counter()
    report = None
    if cost is not None:
        report = measure_cost(
            cfg,
            cost.size,
            model=model,
            repeats=cost.repeats,
            warmup=cost.warmup,
            threads=cost.threads,
            backend=cost.backend,
        )
    result = CandidateResult(
        model=model, cost=report, cost_s=time.perf_counter() - t0, inherited_share=start.inherited_share(cfg)
    )
    if on_cost is not None and report is not None:
        on_cost(report)
    t1 = time.perf_counter()
    if run is not None:
        trained = train(
            model,
            run,
            out_dir=out_dir,
            device=device,
            resume=resume,
            on_validation=on_validation,
            progress=progress,
            stage_checkpoints=stage_checkpoints,
        )
        if trained.status != "completed":
            raise CandidateFailed(trained.message, trained)
        result.trained, result.checkpoint = trained, trained.checkpoint
        result.metrics, result.history = dict(trained.metrics), trained.history
    result.train_s = time.perf_counter() - t1
    if run is None:
        if validation is None:
            raise ValueError("a candidate scored without training needs a validation set")
        result.metrics = _evaluate(model, validation)
        result.history = [{"step": 0, **result.metrics}]
        if on_validation is not None:
            on_validation(0, result.metrics)
    for name, ev in evals.items():
        result.scores[name] = _evaluate(model, ev)
    return result


def _evaluate(model: IFNet, ev: EvalSet) -> dict[str, float]:
    dev = next(model.parameters()).device
    lpips = "alex" if ev.lpips else None
    return evaluate(
        model_predictor(model.eval()), ev.data, device=dev, max_items=ev.max_items, center=ev.center, lpips_net=lpips
    )
