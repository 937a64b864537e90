"""The one candidate pipeline: start (sliced from the parent, or seeded) -> cost -> train -> score -> result.

Every caller that turns an architecture into numbers goes through ``run_candidate``: the search's trials
(``search.objective``), ``search.run --retrain-top``, the fidelity study (``fidelity``) and the ablation
runner (``experiments.runner``); what each records is its own. How a candidate's weights start is a
``Start`` from ``rife_core.training.start.make_start``, the one place that decides it.

The initial weights come from a generator seeded by (seed, arch_id) and the cost probes use generators of
their own, so a candidate's scores are a function of (config, seed, settings), whatever ran before it, in
whichever order, and in whichever thread.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rife_core.cost.report import CostReport, measure_cost
from rife_core.evaluation.baselines import DISInterpolation, blend_psnr
from rife_core.evaluation.evaluate import evaluate, model_predictor
from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.training.config import TrainConfig
from rife_core.training.loop import ValidationHook
from rife_core.training.start import Start, make_start
from rife_core.training.trainer import TrainResult, train

log = logging.getLogger(__name__)


class CandidateFailed(RuntimeError):
    """Training did not complete (e.g. the loss diverged); the message says why, ``trained`` holds the run."""

    def __init__(self, message: str, trained: TrainResult | None = None) -> None:
        super().__init__(message)
        self.trained = trained


# --- what is measured ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class CostProbe:
    """How the cost is measured: MACs at ``size`` (H, W), latency at ``latency_size`` on the CPU, in turn
    with a reference method where one is named (its ms and the ratio of the rounds are recorded too)."""

    size: tuple[int, int] = (256, 256)
    repeats: int = 5  # per candidate: enough for a median at the search's resolution, cheap next to training
    warmup: int = 2
    backend: str = "torch"  # torch (eager) or onnxruntime (the ONNX export)
    threads: int | None = None  # None: torch's current setting
    latency_size: tuple[int, int] | None = None  # None: ``size``
    reference: str | None = None  # a DIS preset (ultrafast, fast, medium) timed in turn with the candidate
    rounds: int = 3  # rounds of ``repeats`` passes each, with a reference


@dataclass(frozen=True)
class EvalSet:
    """Triplets a trained candidate is scored on, and how (as ``rife_core.evaluation.evaluate``)."""

    data: Sequence
    max_items: int | None = None  # evenly spread; None: all
    center: int | None = None  # centre crop; None: whole frames
    lpips: bool = False  # also LPIPS (AlexNet, genuine weights)

    def blend_psnr(self) -> float:
        """The 50/50 blend's PSNR on these triplets, scored as candidates are (the plateau's level)."""
        return blend_psnr(self.data, max_items=self.max_items, center=self.center)


@dataclass
class CandidateResult:
    model: IFNet
    cost: CostReport | None
    metrics: dict[str, float] = field(default_factory=dict)  # final validation (or the first eval set's scores)
    scores: dict[str, dict[str, float]] = field(default_factory=dict)  # eval set name -> metrics
    history: list[dict[str, float]] = field(default_factory=list)
    trained: TrainResult | None = None
    checkpoint: Path | None = None
    cost_s: float = 0.0
    train_s: float = 0.0
    inherited_share: float = 0.0  # share of the parameters that did not start seeded
    start_shares: dict[str, float] = field(default_factory=dict)  # that share: copied, rewritten, fitted


def run_candidate(
    cfg: ArchConfig,
    training: TrainConfig,
    *,
    start: Start | None = None,
    evals: Mapping[str, EvalSet] | None = None,
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
        training: the training run (seed, data, stages, validation).
        start: how the weights start (``make_start``); None: seeded.
        evals: name -> triplets to score the trained network on (``scores``).
        cost: how to measure the cost before training (None: not measured).
        out_dir: where the checkpoint goes (None keeps nothing on disk).
        on_cost: called with the cost report before training; it may raise to reject the candidate.
        on_validation: called at each validation as ``hook(step, metrics)``; it may raise to stop (pruning).
        resume, stage_checkpoints, progress: as ``rife_core.training.trainer.train``.

    Raises:
        CandidateFailed: training diverged.
    """
    start = start if start is not None else make_start(None)
    model = start.prepare(cfg, training)
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
            latency_size=cost.latency_size,
            reference=(f"DIS-{cost.reference}", DISInterpolation(cost.reference)) if cost.reference else None,
            rounds=cost.rounds,
        )
    result = CandidateResult(
        model=model,
        cost=report,
        cost_s=time.perf_counter() - t0,
        inherited_share=start.inherited_share(cfg),
        start_shares=start.shares(cfg),
    )
    if on_cost is not None and report is not None:
        on_cost(report)
    t1 = time.perf_counter()
    trained = train(
        model,
        training,
        out_dir=out_dir,
        device=device,
        resume=resume,
        on_validation=on_validation,
        progress=progress,
        stage_checkpoints=stage_checkpoints,
        parent=start.parent,
    )
    if trained.status != "completed":
        raise CandidateFailed(trained.message, trained)
    result.trained, result.checkpoint = trained, trained.checkpoint
    result.metrics, result.history = dict(trained.metrics), trained.history
    result.train_s = time.perf_counter() - t1
    for name, ev in evals.items():
        result.scores[name] = _evaluate(model, ev)
    return result


def _evaluate(model: IFNet, ev: EvalSet) -> dict[str, float]:
    dev = next(model.parameters()).device
    lpips = "alex" if ev.lpips else None
    return evaluate(
        model_predictor(model.eval()), ev.data, device=dev, max_items=ev.max_items, center=ev.center, lpips_net=lpips
    )
