"""How a candidate's weights start: sliced from a pretrained parent, or seeded. The one decision.

Every caller that trains an architecture (the search's trials, ``--retrain-top``, the reference table, the
fidelity study, ``python -m rife_core.train`` and the ablation runner) builds its start with
``make_start`` and hands it on: ``Start.prepare`` gives the starting network, ``Start.parent`` is the
loaded parent the ``parent`` loss term reads (the trainer never loads one by name), and
``Start.inherited_share`` what share of a prepared child came from the parent (``Start.shares``: copied,
rewritten and fitted apart).

Seeded weights are drawn from a generator seeded by (seed, arch_id) (``weight_seed``), so a candidate's
start is a function of (config, seed, parent), whatever ran before it and in whichever thread.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import ClassVar, Protocol

from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.layer_starts import FIT_BUDGETS, FitBudget, needs_fit
from rife_core.model.presets import create_model
from rife_core.model.slicing import SliceReport, check_child, slice_child
from rife_core.training.config import TrainConfig
from rife_core.training.importance import importance_batches, parent_importance

log = logging.getLogger(__name__)

SLICED, SEEDED_KIND = "sliced", "seeded"
START_KINDS = (SLICED, SEEDED_KIND)
IMPORTANCES = ("taylor", "l1")


class StartError(ValueError):
    """A start that cannot be made (e.g. sliced without a parent); the message names the fix."""


def weight_seed(seed: int, arch_id: str) -> int:
    """The seed of a candidate's initial weights: a 63-bit hash of (seed, arch_id)."""
    digest = hashlib.sha256(f"{seed}/{arch_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class Start(Protocol):
    @property
    def kind(self) -> str:
        """``sliced`` or ``seeded`` (``START_KINDS``)."""
        ...

    @property
    def parent(self) -> IFNet | None:
        """The loaded parent (sliced from, or read by a ``parent`` loss term); None: none."""
        ...

    def prepare(self, cfg: ArchConfig, training: TrainConfig) -> IFNet:
        """The starting network of ``cfg`` for ``training`` (its seed draws whatever is seeded)."""
        ...

    def inherited_share(self, cfg: ArchConfig) -> float:
        """The share of ``cfg``'s parameters that did not start seeded (after ``prepare``)."""
        ...

    def shares(self, cfg: ArchConfig) -> dict[str, float]:
        """That share split: copied, rewritten and fitted (empty for a seeded start)."""
        ...


@dataclass(frozen=True, eq=False)
class Seeded:
    """Initial weights drawn from ``weight_seed(training.seed, arch_id)``; ``parent``: only for a loss term."""

    parent: IFNet | None = None
    kind: ClassVar[str] = SEEDED_KIND

    def prepare(self, cfg: ArchConfig, training: TrainConfig) -> IFNet:
        return create_model(cfg, seed=weight_seed(training.seed, cfg.arch_id))

    def inherited_share(self, cfg: ArchConfig) -> float:
        return 0.0

    def shares(self, cfg: ArchConfig) -> dict[str, float]:
        return {}


@dataclass(frozen=True, eq=False)
class Sliced:
    """The weights ``cfg`` takes from ``parent`` (``rife_core.model.slicing``), the rest seeded from
    ``weight_seed(training.seed, arch_id)``."""

    parent: IFNet
    depth_rule: str = "norm"
    # "taylor": rank by first-order Taylor importance on fixed crops of the training data (memoised per
    # process on (weights, data, seed)); "l1": by filter magnitude (docs/results/parent.md compares them)
    importance: str = "taylor"
    fit: FitBudget = FIT_BUDGETS["full"]  # what fitting the layers of kinds the parent lacks spends
    reports: dict[str, SliceReport] = field(default_factory=dict)
    kind: ClassVar[str] = SLICED

    def prepare(self, cfg: ArchConfig, training: TrainConfig) -> IFNet:
        check_child(self.parent.cfg, cfg)  # refused before the importance is computed
        scores = parent_importance(self.parent, training.data) if self.importance == "taylor" else None
        # Layers of kinds the parent lacks are fitted on the importance's fixed crops (parent, data, seed 0).
        fit_on = importance_batches(training.data) if needs_fit(self.parent.cfg, cfg) else None
        child, report = slice_child(
            self.parent,
            cfg,
            seed=weight_seed(training.seed, cfg.arch_id),
            depth_rule=self.depth_rule,
            importance=scores,
            batches=fit_on,
            fit=self.fit,
        )
        self.reports[cfg.arch_id] = report
        shares = ", ".join(f"{k} {100 * v:.1f}%" for k, v in report.shares().items() if v)
        log.info(
            "%s starts from the parent: %s of its %d parameters%s",
            cfg.arch_id,
            shares or "none",
            report.total,
            f" (seeded: {', '.join(report.seeded)})" if report.seeded else "",
        )
        return child

    def inherited_share(self, cfg: ArchConfig) -> float:
        if cfg.arch_id not in self.reports:
            raise KeyError(f"{cfg.arch_id} was not prepared by this start")
        return self.reports[cfg.arch_id].share

    def shares(self, cfg: ArchConfig) -> dict[str, float]:
        if cfg.arch_id not in self.reports:
            raise KeyError(f"{cfg.arch_id} was not prepared by this start")
        return self.reports[cfg.arch_id].shares()


def make_start(
    parent: IFNet | None,
    kind: str | None = None,
    *,
    importance: str = "taylor",
    depth_rule: str = "norm",
    fit: str = "full",
) -> Start:
    """The start of every candidate: sliced from ``parent`` where there is one (``kind`` None or "sliced"),
    else seeded. ``parent`` is loaded once by the caller and passed here; a seeded start keeps it for the
    ``parent`` loss term. ``fit``: a ``FIT_BUDGETS`` name (the search's proxy: "fast")."""
    kind = kind or (SLICED if parent is not None else SEEDED_KIND)
    if kind not in START_KINDS:
        raise StartError(f"start {kind!r}: choose {' or '.join(START_KINDS)}")
    if importance not in IMPORTANCES:
        raise StartError(f"importance {importance!r}: choose {' or '.join(IMPORTANCES)}")
    if fit not in FIT_BUDGETS:
        raise StartError(f"fit {fit!r}: choose {' or '.join(FIT_BUDGETS)}")
    if kind == SLICED:
        if parent is None:
            raise StartError("a sliced start needs a parent: use a space (or spec) that names one, e.g. rife_v3_hd")
        return Sliced(parent, depth_rule=depth_rule, importance=importance, fit=FIT_BUDGETS[fit])
    return Seeded(parent)
