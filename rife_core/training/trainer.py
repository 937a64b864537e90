"""``train()``: one network trained under a ``TrainConfig`` by the one training loop (``loop.Trainer``).

Seeded and resumable: the batch and its augmentations at global step s are a pure function of (seed, s),
so a resumed run continues exactly where an uninterrupted one would be. A non-finite loss, or a
validation PSNR far below both the 50/50 blend of the same triplets and the weights' start (a collapsed run,
e.g. from a learning rate too high), stops the run with status "diverged" and the reason.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.presets import create_model
from rife_core.training.batches import training_datasets
from rife_core.training.checkpoint import resolve_device
from rife_core.training.config import TrainConfig
from rife_core.training.loop import Trainer, TrainingDiverged, ValidationHook
from rife_core.training.progress import progress_bar

log = logging.getLogger(__name__)

DETERMINISM_NOTE = (
    "CPU: deterministic for the same torch build, thread count and data; "
    "CUDA: grid_sample backward uses atomics, not bit-reproducible"
)


@dataclass
class TrainResult:
    status: str  # "completed" or "diverged"
    step: int
    metrics: dict[str, float]  # last validation
    history: list[dict[str, float]] = field(default_factory=list)  # validations: step + metrics
    losses: list[float] = field(default_factory=list)  # training loss per step of this session
    checkpoint: Path | None = None
    message: str = ""
    seconds: float = 0.0
    data_wait: float = 0.0  # share of step time spent waiting for the loader
    blend_psnr: float | None = None  # the 50/50 blend on the validation triplets (the plateau a net starts on)


def train(
    arch: ArchConfig | IFNet,
    cfg: TrainConfig,
    *,
    out_dir: str | Path | None = None,
    resume: str | Path | None = None,
    device: str = "auto",
    on_validation: ValidationHook | None = None,
    progress: bool = False,
    stage_checkpoints: Mapping[int, Path] | None = None,
    parent: IFNet | None = None,
) -> TrainResult:
    """Train ``arch`` under ``cfg``.

    Args:
        arch: a config to build (initial weights seeded by ``cfg.seed``), or an already built model.
        out_dir: where ``last.pt`` (and periodic checkpoints) go; None keeps nothing on disk.
        resume: a checkpoint to continue from (same config); the step count carries on.
        on_validation: called as ``hook(step, metrics)`` after each validation; it may raise to stop
            the run (the search's pruner does), and the exception propagates.
        progress: show progress (CLIs turn this on): a bar on a terminal, a log line at intervals elsewhere.
        stage_checkpoints: stage index -> where to save a resumable checkpoint when that stage ends (runs
            that share their first stages start from it; resuming gives what an uninterrupted run gives).
        parent: the loaded network ``cfg.parent`` names, read by a ``parent`` loss term (the start's).
    """
    dev = resolve_device(device)
    # A config is built with initial weights drawn from cfg.seed; nothing here reads torch's global RNG.
    model = arch if isinstance(arch, IFNet) else create_model(arch, seed=cfg.seed)
    trainer = Trainer(model, cfg, dev, parent)
    if resume is not None:
        trainer.resume(resume)
    train_set, val_set = training_datasets(cfg, trainer.needs_teacher, trainer.parent, dev)
    out = Path(out_dir) if out_dir is not None else None
    result = TrainResult(status="completed", step=trainer.step, metrics={})
    t_start = time.perf_counter()
    bar = None
    if progress:
        bar = progress_bar(cfg.total_steps, trainer.step)

    def validate() -> None:
        m = trainer.validate(val_set)
        if bar is not None:
            bar.set_postfix(val_psnr=f"{m['psnr']:.2f}")
        if on_validation is not None:
            on_validation(trainer.step, m)

    def after_step(t: Trainer) -> None:
        if t.step % cfg.val_every == 0:
            validate()
        if out is not None and cfg.checkpoint_every and t.step % cfg.checkpoint_every == 0:
            t.save(out / f"step{t.step:07d}.pt")

    if trainer.step == 0 and cfg.collapse_margin_db is not None:
        trainer.measure_start(val_set)
    trainer.model.train()
    try:
        trainer.run(
            train_set, workers=cfg.workers, after_step=after_step, stage_checkpoints=stage_checkpoints, progress=bar
        )
        if not trainer.history or trainer.history[-1]["step"] != trainer.step:
            validate()
    except TrainingDiverged as e:
        result.status, result.message = "diverged", f"{e}; lower the learning rate"
        log.error("training stopped: %s", result.message)
    finally:
        if bar is not None:
            bar.close()
    result.step = trainer.step
    result.history, result.losses, result.blend_psnr = trainer.history, trainer.losses, trainer.blend_psnr
    result.metrics = {k: v for k, v in trainer.history[-1].items() if k != "step"} if trainer.history else {}
    result.seconds = time.perf_counter() - t_start
    result.data_wait = trainer.data_wait / result.seconds if result.seconds else 0.0
    if out is not None and result.status == "completed":
        result.checkpoint = trainer.save(out / "last.pt")
    trainer.final_weights()  # the caller's model ends as the validated, deployed one
    return result
