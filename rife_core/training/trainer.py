"""The one trainer used by search trials, ablations and full training.

AdamW, per-stage linear warm-up then cosine decay, gradient clipping, seeded and resumable: the batch
and its augmentations at global step s are a pure function of (seed, s), so a resumed run continues
exactly where an uninterrupted one would be. A non-finite loss, or a validation PSNR far below the 50/50
blend of the same triplets (a collapsed run, e.g. from a learning rate too high), stops the run with
status "diverged" and the reason.

Determinism on CPU: with the same torch build, thread count and inputs, CPU kernels here are
deterministic. On CUDA, grid_sample's backward uses atomic adds and is not bit-reproducible.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, Sampler

from rife_core.data.augment import AugmentConfig
from rife_core.data.frames import DataError
from rife_core.data.spec import MixedTriplets, load
from rife_core.data.teacher import TeacherFlows
from rife_core.data.torch_data import TorchTriplets, default_workers
from rife_core.data.triplets import ConcatTriplets
from rife_core.evaluation.baselines import blend
from rife_core.evaluation.evaluate import evaluate, model_predictor
from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.presets import create_model
from rife_core.training.checkpoint import read_checkpoint, resolve_device, save_checkpoint
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.ema import WeightEMA
from rife_core.training.losses import CompositeLoss

log = logging.getLogger(__name__)

DETERMINISM_NOTE = (
    "CPU: deterministic for the same torch build, thread count and data; "
    "CUDA: grid_sample backward uses atomics, not bit-reproducible"
)
ValidationHook = Callable[[int, dict[str, float]], None]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite."""


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


def lr_factor(progress: float, step_in_stage: int, warmup: int, min_ratio: float) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine from 1 to ``min_ratio`` as progress goes 0 -> 1."""
    if step_in_stage < warmup:
        return (step_in_stage + 1) / warmup
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


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


def check_triplets(train: Sequence, train_specs: Sequence[str], val: Sequence, val_specs: Sequence[str]) -> None:
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


def training_datasets(cfg: TrainConfig, teacher: bool):
    """(train, val) datasets of ``cfg``; ``teacher`` attaches teacher flows to the training triplets."""
    train = real_training_triplets(cfg.data, cfg.seed)
    if cfg.synthetic_ratio > 0:
        train = MixedTriplets(train, load("synthetic", "train", seed=cfg.seed), cfg.synthetic_ratio)
    if teacher:
        train = TeacherFlows(train, cache=cfg.cache_teacher_flows)
    val_specs = cfg.val_data if cfg.val_data is not None else cfg.data
    val = ConcatTriplets("val", [load(s, "val", seed=cfg.seed) for s in val_specs])
    check_triplets(train, cfg.data, val, val_specs)
    return train, val


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
) -> TrainResult:
    """Train ``arch`` under ``cfg``.

    Args:
        arch: a config to build (initial weights seeded by ``cfg.seed``), or an already built model.
        out_dir: where ``last.pt`` (and periodic checkpoints) go; None keeps nothing on disk.
        resume: a checkpoint to continue from (same config); the step count carries on.
        on_validation: called as ``hook(step, metrics)`` after each validation; it may raise to stop
            the run (the search's pruner does), and the exception propagates.
        progress: show a tqdm bar (CLIs turn this on).
        stage_checkpoints: stage index -> where to save a resumable checkpoint when that stage ends (runs
            that share their first stages start from it; resuming gives what an uninterrupted run gives).
    """
    dev = resolve_device(device)
    # A config is built with initial weights drawn from cfg.seed; nothing here reads torch's global RNG.
    model = (arch if isinstance(arch, IFNet) else create_model(arch, seed=cfg.seed)).to(dev)
    # One loss module per distinct set of terms: stages that share a loss share its (e.g. VGG) weights.
    by_terms: dict[str, CompositeLoss] = {}
    for st in cfg.stages:
        terms = st.loss or cfg.loss
        key = json.dumps(terms, sort_keys=True)
        if key not in by_terms:
            by_terms[key] = CompositeLoss(terms).to(dev)
    loss_fns = [by_terms[json.dumps(st.loss or cfg.loss, sort_keys=True)] for st in cfg.stages]
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.stages[0].lr, weight_decay=cfg.weight_decay)
    ema = WeightEMA(model, cfg.ema_decay) if cfg.ema_decay else None
    step = 0
    if resume is not None:
        ckpt = read_checkpoint(resume, dev)
        if ckpt["arch"] != model.cfg.to_dict():
            raise ValueError(f"{resume}: checkpoint architecture differs from the one being trained")
        averaged = ckpt.get("ema")
        model.load_state_dict(averaged["train_weights"] if averaged else ckpt["model"], strict=True)
        if ema is not None:
            # A checkpoint written without an average starts one from its weights.
            ema.load(ckpt["model"], averaged["updates"] if averaged else 0)
        opt.load_state_dict(ckpt["optimizer"])
        step = int(ckpt["step"])
        log.info("resumed from %s at step %d", resume, step)
    done_before = ckpt.get("progress", {}) if resume is not None else {}
    train_set, val_set = training_datasets(cfg, any(f.needs_teacher for f in loss_fns))
    out = Path(out_dir) if out_dir is not None else None
    result = TrainResult(status="completed", step=step, metrics={})
    result.history = list(done_before.get("history", []))
    result.losses = list(done_before.get("losses", []))
    result.blend_psnr = done_before.get("blend_psnr")
    result.metrics = dict(result.history[-1]) if result.history else {}
    result.metrics.pop("step", None)
    workers = default_workers() if cfg.workers is None else cfg.workers
    t_start = time.perf_counter()
    waited = 0.0

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=cfg.total_steps, initial=step, unit="step", dynamic_ncols=True)

    def validate() -> dict[str, float]:
        model.eval()
        with ema.applied(model) if ema is not None else nullcontext():
            m = evaluate(
                model_predictor(model),
                val_set,
                device=dev,
                max_items=cfg.val_items,
                center=cfg.val_crop,
                lpips_net="alex" if cfg.val_lpips else None,
            )
        model.train()
        result.history.append({"step": step, **m})
        result.metrics = m
        log.info("step %d validation: PSNR %.2f dB, SSIM %.4f, L1 %.4f", step, m["psnr"], m["ssim"], m["l1"])
        if bar is not None:
            bar.set_postfix(val_psnr=f"{m['psnr']:.2f}")
        check_collapse(m["psnr"])
        if on_validation is not None:
            on_validation(step, m)
        return m

    def check_collapse(psnr: float) -> None:
        if result.blend_psnr is None:  # the first validation: the blend of the same triplets
            result.blend_psnr = evaluate(blend, val_set, device=dev, max_items=cfg.val_items, center=cfg.val_crop)[
                "psnr"
            ]
        if cfg.collapse_margin_db is None:
            return
        if not psnr >= result.blend_psnr - cfg.collapse_margin_db:  # also catches a NaN PSNR
            raise TrainingDiverged(
                f"the run collapsed: validation PSNR {psnr:.2f} dB at step {step} is more than "
                f"{cfg.collapse_margin_db:g} dB below the 50/50 blend ({result.blend_psnr:.2f} dB) on the same triplets"
            )

    model.train()
    try:
        for si in range(len(cfg.stages)):  # stages a resumed run already finished are skipped below
            st, loss_fn = cfg.stages[si], loss_fns[si]
            stage_start = sum(s.steps or 0 for s in cfg.stages[:si])
            end = stage_start + st.steps if st.steps is not None else None
            if end is not None and step >= end:
                continue
            loader = step_loader(train_set, cfg, st, step, end, workers, pin_memory=dev.type == "cuda")
            for g in opt.param_groups:
                g["lr"] = st.lr
            t_stage = time.perf_counter()
            batches = iter(loader)
            while True:
                in_stage = step - stage_start
                elapsed = time.perf_counter() - t_stage
                if st.seconds is not None and elapsed >= st.seconds:
                    break
                t0 = time.perf_counter()
                try:
                    batch = next(batches)
                except StopIteration:
                    break
                waited += time.perf_counter() - t0
                prog = max(in_stage / st.steps if st.steps else 0.0, elapsed / st.seconds if st.seconds else 0.0)
                for g in opt.param_groups:
                    g["lr"] = st.lr * lr_factor(prog, in_stage, cfg.warmup_steps, cfg.min_lr_ratio)
                img0, imgt, img1 = (batch[k].to(dev, non_blocking=True) for k in ("img0", "imgt", "img1"))
                t = batch["t"].to(dev).view(-1)
                out_model = model(img0, img1, t)
                teacher = batch["flow"].to(dev, non_blocking=True) if "flow" in batch else None
                loss, _terms = loss_fn(out_model, imgt, model, img0, img1, teacher)
                if not torch.isfinite(loss):
                    raise TrainingDiverged(f"loss became {float(loss.detach())} at step {step}")
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
                opt.step()
                if ema is not None:
                    ema.update(model)
                step += 1
                result.losses.append(float(loss.detach()))
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{result.losses[-1]:.4f}", stage=si + 1, refresh=False)
                if step % cfg.val_every == 0:
                    validate()
                if out is not None and cfg.checkpoint_every and step % cfg.checkpoint_every == 0:
                    save_checkpoint(out / f"step{step:07d}.pt", model, opt, step, cfg, ema=ema)
            del batches, loader
            if stage_checkpoints and si in stage_checkpoints and end is not None and step == end:
                progress_so_far = {"history": result.history, "losses": result.losses, "blend_psnr": result.blend_psnr}
                save_checkpoint(stage_checkpoints[si], model, opt, step, cfg, progress=progress_so_far, ema=ema)
        if not result.history or result.history[-1]["step"] != step:
            validate()
    except TrainingDiverged as e:
        result.status, result.message = "diverged", f"{e}; lower the learning rate"
        log.error("training stopped: %s", result.message)
    finally:
        if bar is not None:
            bar.close()
    result.step = step
    result.seconds = time.perf_counter() - t_start
    total_step_time = result.seconds
    result.data_wait = waited / total_step_time if total_step_time else 0.0
    if out is not None and result.status == "completed":
        result.checkpoint = save_checkpoint(out / "last.pt", model, opt, step, cfg, ema=ema)
    if ema is not None:  # the caller's model ends as the validated, deployed one: the average
        model.load_state_dict(ema.state_dict(model), strict=True)
    return result
