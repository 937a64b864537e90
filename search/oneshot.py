"""One-shot strategy: a weight-sharing supernet trained once, long, and resumably; subnets inherit from it.

The supernet (``rife_core.model.supernet``) is trained on the search's data with, per step, either one
random feasible subnet (``uniform``, SPOS) or the sandwich rule (BigNAS): the largest and the smallest of a
seeded pool of feasible samples plus two random ones, their gradients accumulated, optionally with
in-place distillation (the smaller subnets also pulled towards the largest's output). Both draws are a
function of (seed, step).

The learning rate is constant after its warm-up, then falls as 1/sqrt(step), so the weights at step N do
not depend on how far the run will go: a run to 20,000 steps passes through exactly the weights of a run
to 10,000, and extending a network is training on. A training is identified by its recipe
(``SupernetSettings.key``: space, budget and every setting but the step count) and the weights by (key,
step). Files in the cache folder:

- ``supernet_KEY.pt``: the running checkpoint (full precision, optimizer state): resumes exactly;
- ``supernet_KEY_stepN.pt``: compact snapshots (half precision, no optimizer state, a sixth of the size),
  written every ``snapshot_every`` steps; the form that ships (``search/shipped``) and that subnets inherit
  from. Inherited weights are always the half-precision ones, so a score is the same wherever the snapshot
  came from.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from results.files import content_key
from rife_core.cost.params import count_params
from rife_core.model.config import ArchConfig
from rife_core.model.supernet import SuperNet
from rife_core.training.batches import training_datasets
from rife_core.training.checkpoint import read_checkpoint, resolve_device, write_checkpoint
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.loop import Trainer, TrainingDiverged, check_finite
from search.proxy import ProxySettings
from search.sampling import feasible_sample
from search.settings import option
from search.shipped import find_shipped, shipped_steps
from space.space import SearchSpace

log = logging.getLogger(__name__)

RULES = ("sandwich", "uniform")
POOL = 64  # feasible samples per step from which the sandwich rule takes the largest and the smallest
# The step the plateau supernet of the v4 space was shipped at until the parent replaced it
# (docs/results/shared-supernet.md); kept as the default so that its measured curve reads the same.
SHIPPED_STEPS = 17000


@dataclass(frozen=True)
class SupernetSettings:
    """How the one-shot supernet is trained: its own options, and the proxy's batch, loss, data and seed."""

    steps: int = option(
        SHIPPED_STEPS,
        prefixed=True,
        help="oneshot: the supernet's step that subnets inherit (a step with no snapshot, shipped or cached, is "
        "trained to)",
    )
    crop: int = option(128, prefixed=True, help="oneshot: supernet training crop (pixels)")
    batch: int = 8
    # Long runs at 2e-3 collapsed; 1e-3 was stable for thousands of steps.
    lr: float = option(1e-3, prefixed=True, help="oneshot: supernet peak learning rate (after a 50-step warm-up)")
    # A schedule that does not depend on where the run ends.
    decay_after: int = option(
        4000, prefixed=True, help="oneshot: the supernet's rate falls as 1/sqrt(step) after this step"
    )
    synthetic_ratio: float = option(0.5, prefixed=True, help="oneshot: share of synthetic large-motion triplets")
    loss: dict[str, float] = field(default_factory=lambda: {"l1": 1.0})
    rule: str = option(
        "uniform",
        prefixed=True,
        choices=RULES,
        help="oneshot: subnets per step: uniform (one random) or sandwich (largest, smallest, two random)",
    )
    inplace_distill: float = option(
        0.0,
        prefixed=True,
        help="oneshot, sandwich: weight of an L1 term pulling each smaller subnet to the largest's output",
    )
    data: tuple[str, ...] = ("default",)
    seed: int = 0
    checkpoint_every: int = 250
    snapshot_every: int = option(
        1000, prefixed=True, fingerprint=False, help="oneshot: steps between the half-precision snapshots kept"
    )
    device: str = "auto"
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"supernet rule {self.rule!r}: choose {' or '.join(RULES)}")
        if self.inplace_distill and self.rule != "sandwich":
            raise ValueError("in-place distillation needs the sandwich rule (the largest subnet is the teacher)")

    def following(self, proxy: ProxySettings) -> SupernetSettings:
        """These options with the batch, loss, data, seed, device and workers of the search's ``proxy``."""
        return replace(
            self,
            batch=proxy.batch,
            loss=dict(proxy.loss),
            data=proxy.data,
            seed=proxy.seed,
            device=proxy.device,
            workers=proxy.workers,
        )

    def train_config(self) -> TrainConfig:
        """The supernet's run as the one training loop reads it: a constant rate after the warm-up (the
        trainer applies the 1/sqrt decay)."""
        return TrainConfig(
            data=self.data,
            synthetic_ratio=self.synthetic_ratio,
            stages=(Stage(steps=self.steps, crop=self.crop, batch_size=self.batch, lr=self.lr),),
            loss=dict(self.loss),
            min_lr_ratio=1.0,
            seed=self.seed,
            workers=self.workers,
        )

    def key(self, space: SearchSpace, budget: int) -> str:
        """Hash of the recipe: everything that changes the weights at a given step (the step count does not)."""
        skip = ("steps", "device", "workers", "checkpoint_every", "snapshot_every")
        d = {k: v for k, v in asdict(self).items() if k not in skip}
        d.update(space=space.to_dict(), budget=budget)
        return content_key(d)


def sample_subnets(space: SearchSpace, budget: int, rule: str, seed: int, step: int) -> list[ArchConfig]:
    """The subnets trained at ``step`` (a function of seed and step); the sandwich's largest comes first."""
    rng = np.random.default_rng([seed, step])
    if rule == "uniform":
        return [feasible_sample(space, budget, rng)]
    pool = sorted((feasible_sample(space, budget, rng) for _ in range(POOL)), key=count_params)
    return [pool[-1], pool[0], feasible_sample(space, budget, rng), feasible_sample(space, budget, rng)]


def running_path(cache: Path, key: str) -> Path:
    return cache / f"supernet_{key}.pt"


def snapshot_path(cache: Path, key: str, step: int) -> Path:
    return cache / f"supernet_{key}_step{step}.pt"


def snapshots(cache: Path, key: str) -> dict[int, Path]:
    """The compact snapshots of training ``key`` in ``cache``, by step."""
    found = {}
    for p in cache.glob(f"supernet_{key}_step*.pt"):
        m = re.fullmatch(rf"supernet_{key}_step(\d+)\.pt", p.name)
        if m:
            found[int(m.group(1))] = p
    return dict(sorted(found.items()))


def write_snapshot(path: Path, shared: Mapping[str, torch.Tensor], step: int, meta: dict) -> Path:
    """Half-precision weights without optimizer state."""
    half = {k: v.detach().cpu().half() if v.is_floating_point() else v.cpu() for k, v in shared.items()}
    return write_checkpoint({"shared": half, "step": step, "meta": meta}, path)


def snapshot_weights(path: Path) -> dict[str, torch.Tensor]:
    """A compact snapshot's shared weights in full precision."""
    return {k: v.float() for k, v in read_checkpoint(path)["shared"].items()}


def load_snapshot(path: Path, space: SearchSpace, seed: int = 0) -> SuperNet:
    """The supernet of a compact snapshot, in full precision for computing (eval mode)."""
    net = SuperNet(space.super_space(), seed=seed)
    net.load_state_dict(snapshot_weights(path))
    return net.eval()


def find_snapshot(cache: Path, key: str, step: int) -> Path | None:
    """The snapshot of (key, step): the shipped one (checksum verified), else the cache's."""
    return find_shipped(key, step) or snapshots(cache, key).get(step)


def supernet_path(cache: Path, space: SearchSpace, budget: int, settings: SupernetSettings) -> Path:
    """Where the snapshot candidates of these settings inherit from is (or will be) kept in ``cache``."""
    key = settings.key(space, budget)
    return find_snapshot(cache, key, settings.steps) or snapshot_path(cache, key, settings.steps)


class SupernetTrainer(Trainer):
    """The one training loop, with a step that trains the subnets ``sample_subnets`` draws for it."""

    def __init__(
        self,
        net: SuperNet,
        cfg: TrainConfig,
        device: torch.device,
        space: SearchSpace,
        budget: int,
        rule: str,
        inplace_distill: float = 0.0,
        decay_after: int | None = None,
    ) -> None:
        super().__init__(net, cfg, device)
        self.space, self.budget, self.rule, self.inplace_distill = space, budget, rule, inplace_distill
        self.decay_after = decay_after

    def train_step(self, batch, stage: int, lr: float) -> float:
        if self.decay_after is not None and self.step > self.decay_after:
            lr *= math.sqrt(self.decay_after / self.step)
        return super().train_step(batch, stage, lr)

    def backward(self, batch, loss_fn) -> float:
        img0, imgt, img1 = (batch[k].to(self.dev) for k in ("img0", "imgt", "img1"))
        t = batch["t"].to(self.dev).view(-1)
        teacher = batch["flow"].to(self.dev) if "flow" in batch else None
        subnets = sample_subnets(self.space, self.budget, self.rule, self.cfg.seed, self.step)
        total, target = 0.0, None
        for i, sub in enumerate(subnets):  # gradients accumulated: the step's loss is the subnets' mean
            out = self.model(sub, img0, img1, t)
            loss, _ = loss_fn(out, imgt, self.model.template(sub), img0, img1, teacher)
            if target is not None:
                loss = loss + self.inplace_distill * (out.frame - target).abs().mean()
            elif self.inplace_distill and i == 0:
                target = out.frame.detach()  # the largest subnet teaches the others
            check_finite(loss, self.step, "supernet loss")
            (loss / len(subnets)).backward()
            total += float(loss.detach()) / len(subnets)
        return total


def _progress_logger(settings: SupernetSettings, key: str, start: int):
    t0 = time.perf_counter()

    def log_step(t: Trainer) -> None:
        if t.step % 50 == 0 or t.step == settings.steps:
            rate = (time.perf_counter() - t0) / (t.step - start)
            log.info(
                "supernet %s step %d/%d  loss %.4f  %.2f s/step  ETA %.0fs",
                key,
                t.step,
                settings.steps,
                sum(t.losses[-50:]) / len(t.losses[-50:]),
                rate,
                rate * (settings.steps - t.step),
            )

    return log_step


def train_supernet(space: SearchSpace, budget: int, settings: SupernetSettings, cache: Path) -> SuperNet:
    """The supernet of ``space`` under ``budget`` at step ``settings.steps``: its snapshot when one exists
    (shipped or cached), else trained there, resuming the running checkpoint or starting from the latest
    earlier snapshot (with a fresh optimizer) or from scratch."""
    key = settings.key(space, budget)
    found = find_snapshot(cache, key, settings.steps)
    if found is not None:
        log.info("supernet %s at step %d: %s", key, settings.steps, found)
        return load_snapshot(found, space, settings.seed)
    dev = resolve_device(settings.device)
    net = SuperNet(space.super_space(), seed=settings.seed)
    cfg = settings.train_config()
    trainer = SupernetTrainer(
        net, cfg, dev, space, budget, settings.rule, settings.inplace_distill, settings.decay_after
    )
    meta = {"key": key, "settings": asdict(settings), "budget": budget, "super_space": asdict(space.super_space())}
    meta["restarts"], meta["train_seconds"] = [], 0.0
    running = running_path(cache, key)
    if running.is_file():
        ckpt = read_checkpoint(running, dev)
        if int(ckpt["step"]) > settings.steps:
            kept = ", ".join(map(str, snapshots(cache, key))) or "none"
            raise ValueError(
                f"{running} is at step {ckpt['step']}, past the {settings.steps} asked, and no snapshot of step "
                f"{settings.steps} is kept (snapshots at: {kept}); ask for one of those steps or use another cache"
            )
        net.load_state_dict(ckpt["shared"])
        trainer.opt.load_state_dict(ckpt["optimizer"])
        trainer.step = int(ckpt["step"])
        meta.update(restarts=ckpt["meta"].get("restarts", []), train_seconds=ckpt["meta"].get("train_seconds", 0.0))
        log.info("supernet %s: resuming at step %d of %d", key, trainer.step, settings.steps)
    else:
        earlier = [s for s in [*shipped_steps(key), *snapshots(cache, key)] if s < settings.steps]
        if earlier:
            step = max(earlier)
            src = find_snapshot(cache, key, step)
            assert src is not None
            net.load_state_dict(snapshot_weights(src))
            trainer.step = step
            meta["restarts"] = [step]  # the optimizer's moments start again here: not bit-exact to a straight run
            log.info("supernet %s: continuing snapshot %s (step %d) with a fresh optimizer", key, src, step)
    train_set, _ = training_datasets(cfg, trainer.needs_teacher)
    t0, seconds0, log_step = time.perf_counter(), meta["train_seconds"], _progress_logger(settings, key, trainer.step)

    def after_step(t: Trainer) -> None:
        log_step(t)
        meta["train_seconds"] = seconds0 + time.perf_counter() - t0
        if t.step % settings.snapshot_every == 0 or t.step == settings.steps:
            write_snapshot(snapshot_path(cache, key, t.step), net.state_dict(), t.step, meta)
        if t.step % settings.checkpoint_every == 0 or t.step == settings.steps:
            state = {"shared": net.state_dict(), "optimizer": t.opt.state_dict(), "step": t.step, "meta": meta}
            write_checkpoint(state, running)

    net.train()
    try:
        trainer.run(train_set, workers=cfg.workers, after_step=after_step)
    except TrainingDiverged as e:
        raise TrainingDiverged(f"{e}; lower the lr") from e
    return load_snapshot(snapshot_path(cache, key, settings.steps), space, settings.seed)
