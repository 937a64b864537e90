"""One-shot strategy: train a weight-sharing supernet once, then score subnets with inherited weights.

The supernet (``rife_core.model.supernet``) is trained on the search's data with, per step, either one
random feasible subnet (``uniform``, SPOS) or the sandwich rule (BigNAS / OFA's progressive training
simplified): the largest and the smallest of a seeded pool of feasible samples plus two random ones, their
gradients accumulated. Both draws are a function of (seed, step), so a killed training resumes exactly
from its last checkpoint. The trained supernet is cached under a key of (space, budget, settings), so the
next search with the same settings starts from it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

from results.files import content_key
from rife_core.cost.params import count_params
from rife_core.model.config import ArchConfig
from rife_core.model.supernet import SuperNet
from rife_core.training.batches import training_datasets
from rife_core.training.checkpoint import resolve_device, write_checkpoint
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.loop import Trainer, TrainingDiverged, check_finite
from search.proxy import ProxySettings
from search.settings import option
from space.space import SearchSpace

log = logging.getLogger(__name__)

RULES = ("sandwich", "uniform")
POOL = 64  # feasible samples per step from which the sandwich rule takes the largest and the smallest
MAX_TRIES = 1000  # rejection sampling under the budget


@dataclass(frozen=True)
class SupernetSettings:
    """How the one-shot supernet is trained: its own options, and the proxy's batch, loss, data and seed."""

    steps: int = option(3000, prefixed=True, help="oneshot: supernet training steps")
    crop: int = option(128, prefixed=True, help="oneshot: supernet training crop (pixels)")
    batch: int = 8
    # Long runs at 2e-3 collapsed; 1e-3 was stable for thousands of steps.
    lr: float = option(1e-3, prefixed=True, help="oneshot: supernet peak learning rate")
    synthetic_ratio: float = option(0.5, prefixed=True, help="oneshot: share of synthetic large-motion triplets")
    loss: dict[str, float] = field(default_factory=lambda: {"l1": 1.0})
    rule: str = option(
        "sandwich",
        prefixed=True,
        choices=("sandwich", "uniform"),
        help="oneshot: subnets per step: sandwich (largest, smallest, two random) or uniform (one)",
    )
    data: tuple[str, ...] = ("default",)
    seed: int = 0
    checkpoint_every: int = 250
    device: str = "auto"
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise ValueError(f"supernet rule {self.rule!r}: choose {' or '.join(RULES)}")

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
        """The supernet's run as the one training loop reads it (its defaults: weight decay, clipping, warm-up)."""
        return TrainConfig(
            data=self.data,
            synthetic_ratio=self.synthetic_ratio,
            stages=(Stage(steps=self.steps, crop=self.crop, batch_size=self.batch, lr=self.lr),),
            loss=dict(self.loss),
            seed=self.seed,
            workers=self.workers,
        )

    def key(self, space: SearchSpace, budget: int) -> str:
        """Hash of everything that changes the trained weights."""
        d = {k: v for k, v in asdict(self).items() if k not in ("device", "workers", "checkpoint_every")}
        d.update(space=space.to_dict(), budget=budget)
        return content_key(d)


def feasible_sample(space: SearchSpace, budget: int, rng: np.random.Generator) -> ArchConfig:
    for _ in range(MAX_TRIES):
        cfg = space.random_config(rng)
        if count_params(cfg) < budget:
            return cfg
    raise ValueError(f"no architecture under {budget:,} parameters in {MAX_TRIES} samples: raise the budget")


def sample_subnets(space: SearchSpace, budget: int, rule: str, seed: int, step: int) -> list[ArchConfig]:
    """The subnets trained at ``step`` (a function of seed and step)."""
    rng = np.random.default_rng([seed, step])
    if rule == "uniform":
        return [feasible_sample(space, budget, rng)]
    pool = sorted((feasible_sample(space, budget, rng) for _ in range(POOL)), key=count_params)
    return [pool[-1], pool[0], feasible_sample(space, budget, rng), feasible_sample(space, budget, rng)]


def _save(path: Path, net: SuperNet, opt: torch.optim.Optimizer, step: int, meta: dict) -> None:
    write_checkpoint({"shared": net.state_dict(), "optimizer": opt.state_dict(), "step": step, "meta": meta}, path)


def supernet_path(cache: Path, space: SearchSpace, budget: int, settings: SupernetSettings) -> Path:
    """Where the supernet of (space, budget, settings) is cached."""
    return cache / f"supernet_{settings.key(space, budget)}.pt"


def compact_checkpoint(src: Path, dst: Path) -> None:
    """A finished supernet as half-precision weights without optimizer state (a sixth of the size).

    This is the form to ship or copy between machines; ``train_supernet`` loads it as trained.
    """
    ckpt = torch.load(src, map_location="cpu", weights_only=True)
    if int(ckpt["step"]) < int(ckpt["meta"]["settings"]["steps"]):
        raise ValueError(f"{src} is not finished ({ckpt['step']} of {ckpt['meta']['settings']['steps']} steps)")
    shared = {k: v.half() if v.is_floating_point() else v for k, v in ckpt["shared"].items()}
    write_checkpoint({"shared": shared, "step": ckpt["step"], "meta": ckpt["meta"]}, dst)


class SupernetTrainer(Trainer):
    """The one training loop, with a step that trains the subnets ``sample_subnets`` draws for it."""

    def __init__(
        self, net: SuperNet, cfg: TrainConfig, device: torch.device, space: SearchSpace, budget: int, rule: str
    ) -> None:
        super().__init__(net, cfg, device)
        self.space, self.budget, self.rule = space, budget, rule

    def backward(self, batch, loss_fn) -> float:
        img0, imgt, img1 = (batch[k].to(self.dev) for k in ("img0", "imgt", "img1"))
        t = batch["t"].to(self.dev).view(-1)
        teacher = batch["flow"].to(self.dev) if "flow" in batch else None
        subnets = sample_subnets(self.space, self.budget, self.rule, self.cfg.seed, self.step)
        total = 0.0
        for sub in subnets:  # gradients accumulated: the step's loss is the subnets' mean
            loss, _ = loss_fn(self.model(sub, img0, img1, t), imgt, self.model.template(sub), img0, img1, teacher)
            check_finite(loss, self.step, "supernet loss")
            (loss / len(subnets)).backward()
            total += float(loss.detach()) / len(subnets)
        return total


def train_supernet(
    space: SearchSpace, budget: int, settings: SupernetSettings, cache: Path, *, progress_every: int = 50
) -> SuperNet:
    """Train (or resume, or load when finished) the supernet of ``space`` under ``budget``."""
    dev = resolve_device(settings.device)
    key = settings.key(space, budget)
    path = supernet_path(cache, space, budget, settings)
    net = SuperNet(space.super_space(), seed=settings.seed)
    cfg = settings.train_config()
    trainer = SupernetTrainer(net, cfg, dev, space, budget, settings.rule)
    prior_seconds = 0.0
    if path.is_file():
        ckpt = torch.load(path, map_location=dev, weights_only=True)
        net.load_state_dict({k: v.float() for k, v in ckpt["shared"].items()})
        trainer.step = int(ckpt["step"])
        if trainer.step >= settings.steps:
            log.info("supernet %s: trained (%d steps), loaded from %s", key, trainer.step, path)
            if "super_space" not in ckpt["meta"]:  # written before checkpoints recorded it
                ckpt["meta"]["super_space"] = asdict(space.super_space())
                write_checkpoint(ckpt, path)
            return net.eval()
        if "optimizer" not in ckpt:
            raise ValueError(
                f"{path} holds weights after {trainer.step} steps without optimizer state: delete it to retrain"
            )
        trainer.opt.load_state_dict(ckpt["optimizer"])
        prior_seconds = float(ckpt["meta"].get("train_seconds", 0.0))
        log.info("supernet %s: resuming at step %d of %d", key, trainer.step, settings.steps)
    train_set, _ = training_datasets(cfg, trainer.needs_teacher)
    # The space is recorded so that a subnet's inherited weights can be read without it (rife_core.train
    # --init-from).
    meta = {"key": key, "settings": asdict(settings), "budget": budget, "super_space": asdict(space.super_space())}
    t0, start = time.perf_counter(), trainer.step

    def after_step(t: Trainer) -> None:
        if t.step % progress_every == 0 or t.step == settings.steps:
            rate = (time.perf_counter() - t0) / (t.step - start)
            log.info(
                "supernet step %d/%d  loss %.4f  %.2f s/step  ETA %.0fs",
                t.step,
                settings.steps,
                t.losses[-1],
                rate,
                rate * (settings.steps - t.step),
            )
        if t.step % settings.checkpoint_every == 0 or t.step == settings.steps:
            meta["train_seconds"] = prior_seconds + time.perf_counter() - t0
            _save(path, net, t.opt, t.step, meta)

    net.train()
    try:
        trainer.run(train_set, workers=cfg.workers, after_step=after_step)
    except TrainingDiverged as e:
        raise TrainingDiverged(f"{e}; lower the lr") from e
    return net.eval()
