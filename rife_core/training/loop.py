"""The one training loop: AdamW, the per-stage schedule, clipping, divergence checks, EMA, validation.

``Trainer`` owns one optimisation step (``train_step``), the stage loop over seeded batches (``run``),
validation with the collapse check (``validate``) and checkpoints (``save`` / ``resume``). ``train()``
drives it for one network, so a recipe change (schedule, clipping, weight decay, EMA) is made once.

Determinism on CPU: with the same torch build, thread count and inputs, CPU kernels here are
deterministic. On CUDA, grid_sample's backward uses atomic adds and is not bit-reproducible.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch
from torch import nn

from rife_core.data.torch_data import default_workers
from rife_core.evaluation.baselines import blend_psnr
from rife_core.evaluation.evaluate import evaluate, model_predictor
from rife_core.model.ifnet import IFNet
from rife_core.training.batches import step_loader
from rife_core.training.checkpoint import read_checkpoint, save_checkpoint
from rife_core.training.config import TrainConfig
from rife_core.training.ema import WeightEMA
from rife_core.training.losses import CompositeLoss

log = logging.getLogger(__name__)

ValidationHook = Callable[[int, dict[str, float]], None]


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite, or validation collapsed far below the blend."""


def lr_factor(progress: float, step_in_stage: int, warmup: int, min_ratio: float) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine from 1 to ``min_ratio`` as progress goes 0 -> 1."""
    if step_in_stage < warmup:
        return (step_in_stage + 1) / warmup
    return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def stage_losses(cfg: TrainConfig, device: torch.device) -> list[CompositeLoss]:
    """One loss module per stage; stages with the same terms share one (and its e.g. VGG weights)."""
    by_terms: dict[str, CompositeLoss] = {}
    out = []
    for st in cfg.stages:
        key = json.dumps(st.loss or cfg.loss, sort_keys=True)
        if key not in by_terms:
            by_terms[key] = CompositeLoss(st.loss or cfg.loss).to(device)
        out.append(by_terms[key])
    return out


def _parent_on(parent: nn.Module, device: torch.device) -> nn.Module:
    """The caller's parent on ``device`` in eval mode (a copy where it lives elsewhere: the caller's stays put,
    and its weights keep their gradients for the importance pass)."""
    if any(p.device != device for p in parent.parameters()):
        parent = copy.deepcopy(parent).to(device)
    return parent.eval()


def check_finite(loss: torch.Tensor, step: int, what: str = "loss") -> None:
    if not torch.isfinite(loss):
        raise TrainingDiverged(f"{what} became {float(loss.detach())} at step {step}")


class Trainer:
    """Trains ``model`` under ``cfg``; ``step`` counts global steps over all stages."""

    def __init__(
        self, model: nn.Module, cfg: TrainConfig, device: torch.device, parent: nn.Module | None = None
    ) -> None:
        self.model, self.cfg, self.dev = model.to(device), cfg, device
        self.loss_fns = stage_losses(cfg, device)
        self.opt = torch.optim.AdamW(model.parameters(), lr=cfg.stages[0].lr, weight_decay=cfg.weight_decay)
        self.ema = WeightEMA(model, cfg.ema_decay) if cfg.ema_decay else None
        self.step = 0
        self.losses: list[float] = []  # training loss per step (of this session, plus what a resume carried)
        self.history: list[dict[str, float]] = []  # validations: step + metrics
        self.blend_psnr: float | None = None  # the 50/50 blend on the validation triplets
        # The weights before training on the same triplets: a child sliced from a parent may start far below
        # the blend, which is its start, not a collapse. None: not measured (collapse judged by the blend).
        self.start_psnr: float | None = None
        self.data_wait = 0.0  # seconds spent waiting for the loader
        # The parent whose frame the ``parent`` loss term reads (cfg.parent names it; the caller loaded it).
        if cfg.needs_parent and parent is None:
            raise ValueError(
                f"the 'parent' loss term needs the parent network {cfg.parent}: load it once "
                "(rife_core.model.parents.resolve_parent) and pass it to the trainer"
            )
        self.parent = _parent_on(parent, device) if cfg.needs_parent and parent is not None else None

    @property
    def needs_teacher(self) -> bool:
        return any(f.needs_teacher for f in self.loss_fns)

    # --- one step -----------------------------------------------------------------------------------
    def backward(self, batch: Mapping[str, torch.Tensor], loss_fn: CompositeLoss) -> float:
        """Forward ``batch``, check the loss, accumulate its gradients; returns the loss value."""
        img0, imgt, img1 = (batch[k].to(self.dev, non_blocking=True) for k in ("img0", "imgt", "img1"))
        t = batch["t"].to(self.dev).view(-1)
        teacher = batch["flow"].to(self.dev, non_blocking=True) if "flow" in batch else None
        parent_frame = batch["parent"].to(self.dev, non_blocking=True) if "parent" in batch else None
        parent_out = None
        if loss_fn.needs_parent_output and self.parent is not None:
            with torch.no_grad():
                out = self.parent(img0, img1, t)
                parent_out = (out, self.parent)
                parent_frame = out.frame if parent_frame is None else parent_frame
        elif parent_frame is None and loss_fn.needs_parent and self.parent is not None:
            with torch.no_grad():
                parent_frame = self.parent(img0, img1, t).frame
        pred = self.model(img0, img1, t)
        loss, _terms = loss_fn(pred, imgt, self.model, img0, img1, teacher, parent_frame, parent_out)
        check_finite(loss, self.step)
        loss.backward()
        return float(loss.detach())

    def train_step(self, batch: Mapping[str, torch.Tensor], stage: int, lr: float) -> float:
        """One optimisation step at learning rate ``lr`` with stage ``stage``'s loss."""
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.opt.zero_grad(set_to_none=True)
        loss = self.backward(batch, self.loss_fns[stage])
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
        self.opt.step()
        if self.ema is not None:
            self.ema.update(self.model)
        self.step += 1
        self.losses.append(loss)
        return loss

    # --- the stage loop -----------------------------------------------------------------------------
    def run(
        self,
        train_set: Sequence,
        *,
        workers: int | None = None,
        after_step: Callable[[Trainer], None] | None = None,
        stage_checkpoints: Mapping[int, Path] | None = None,
        progress: Any = None,
    ) -> None:
        """Every stage not yet done, from ``self.step`` on; ``after_step`` runs after each step.

        ``stage_checkpoints``: stage index -> where to save a resumable checkpoint when that stage ends.
        ``progress``: a bar to update (``rife_core.training.progress.progress_bar``).
        """
        cfg = self.cfg
        workers = default_workers() if workers is None else workers
        for si, st in enumerate(cfg.stages):
            stage_start = sum(s.steps or 0 for s in cfg.stages[:si])
            end = stage_start + st.steps if st.steps is not None else None
            if end is not None and self.step >= end:
                continue  # a resumed run finished this stage already
            loader = step_loader(train_set, cfg, st, self.step, end, workers, pin_memory=self.dev.type == "cuda")
            for g in self.opt.param_groups:
                g["lr"] = st.lr
            t_stage = time.perf_counter()
            batches = iter(loader)
            while True:
                in_stage = self.step - stage_start
                elapsed = time.perf_counter() - t_stage
                if st.seconds is not None and elapsed >= st.seconds:
                    break
                t0 = time.perf_counter()
                try:
                    batch = next(batches)
                except StopIteration:
                    break
                self.data_wait += time.perf_counter() - t0
                prog = max(in_stage / st.steps if st.steps else 0.0, elapsed / st.seconds if st.seconds else 0.0)
                self.train_step(batch, si, st.lr * lr_factor(prog, in_stage, cfg.warmup_steps, cfg.min_lr_ratio))
                if progress is not None:
                    progress.update(1)
                    progress.set_postfix(loss=f"{self.losses[-1]:.4f}", stage=si + 1, refresh=False)
                if after_step is not None:
                    after_step(self)
            del batches, loader
            if stage_checkpoints and si in stage_checkpoints and end is not None and self.step == end:
                self.save(stage_checkpoints[si], with_progress=True)

    # --- validation ---------------------------------------------------------------------------------
    def _evaluate(self, val_set: Sequence, lpips: bool = False) -> dict[str, float]:
        """The (averaged, where kept) weights' metrics on ``val_set``."""
        cfg = self.cfg
        self.model.eval()
        with self.ema.applied(self.model) if self.ema is not None else nullcontext():
            m = evaluate(
                model_predictor(self.model),
                val_set,
                device=self.dev,
                max_items=cfg.val_items,
                center=cfg.val_crop,
                lpips_net="alex" if lpips else None,
            )
        self.model.train()
        return m

    def _blend_psnr(self, val_set: Sequence) -> float:
        return blend_psnr(val_set, device=self.dev, max_items=self.cfg.val_items, center=self.cfg.val_crop)

    def measure_start(self, val_set: Sequence) -> None:
        """Score the blend and the untrained weights on ``val_set`` (before step 1; the collapse check's
        reference levels)."""
        self.blend_psnr = self._blend_psnr(val_set)
        self.start_psnr = self._evaluate(val_set)["psnr"]
        log.info("before training: PSNR %.2f dB (the blend %.2f dB)", self.start_psnr, self.blend_psnr)

    def validate(self, val_set: Sequence) -> dict[str, float]:
        """Metrics of the (averaged, where kept) weights on ``val_set``; raises ``TrainingDiverged`` on a
        collapse: more than the margin below both the blend of the same triplets and the run's start."""
        cfg = self.cfg
        m = self._evaluate(val_set, lpips=cfg.val_lpips)
        self.history.append({"step": self.step, **m})
        log.info("step %d validation: PSNR %.2f dB, SSIM %.4f, L1 %.4f", self.step, m["psnr"], m["ssim"], m["l1"])
        if self.blend_psnr is None:  # not measured before step 1 (a resumed or unguarded run)
            self.blend_psnr = self._blend_psnr(val_set)
        margin = cfg.collapse_margin_db
        start = self.start_psnr if self.start_psnr is not None and math.isfinite(self.start_psnr) else math.inf
        floor = min(self.blend_psnr, start) - margin if margin is not None else -math.inf
        if not m["psnr"] >= floor:  # also catches a NaN PSNR
            below = f" and below the run's start ({start:.2f} dB)" if start < self.blend_psnr else ""
            raise TrainingDiverged(
                f"the run collapsed: validation PSNR {m['psnr']:.2f} dB at step {self.step} is more than "
                f"{margin:g} dB below the 50/50 blend ({self.blend_psnr:.2f} dB){below} on the same triplets"
            )
        return m

    # --- checkpoints --------------------------------------------------------------------------------
    def save(self, path: Path, with_progress: bool = False) -> Path:
        """A resumable checkpoint; ``with_progress`` adds history, losses and blend level."""
        if not isinstance(self.model, IFNet):
            raise TypeError(f"save writes IFNet checkpoints; a {type(self.model).__name__} saves its own")
        progress = (
            {
                "history": self.history,
                "losses": self.losses,
                "blend_psnr": self.blend_psnr,
                "start_psnr": self.start_psnr,
            }
            if with_progress
            else None
        )
        return save_checkpoint(path, self.model, self.opt, self.step, self.cfg, progress=progress, ema=self.ema)

    def resume(self, path: str | Path) -> None:
        """Continue from a checkpoint ``save`` wrote for the same architecture."""
        ckpt = read_checkpoint(path, self.dev)
        if ckpt["arch"] != self.model.cfg.to_dict():
            raise ValueError(f"{path}: checkpoint architecture differs from the one being trained")
        averaged = ckpt.get("ema")
        self.model.load_state_dict(averaged["train_weights"] if averaged else ckpt["model"], strict=True)
        if self.ema is not None:
            # A checkpoint written without an average starts one from its weights.
            self.ema.load(ckpt["model"], averaged["updates"] if averaged else 0)
        self.opt.load_state_dict(ckpt["optimizer"])
        self.step = int(ckpt["step"])
        done = ckpt.get("progress", {})
        self.history = list(done.get("history", []))
        self.losses = list(done.get("losses", []))
        self.blend_psnr = done.get("blend_psnr")
        self.start_psnr = done.get("start_psnr")  # absent in older checkpoints: judged by the blend alone
        log.info("resumed from %s at step %d", path, self.step)

    def final_weights(self) -> None:
        """Leave the model with the weights that were validated and are deployed: the average, where kept."""
        if self.ema is not None:
            self.model.load_state_dict(self.ema.state_dict(self.model), strict=True)
