"""A Pareto-aware pruner for multi-objective studies (Optuna's pruners only handle one objective).

Rule: at an intermediate validation step s, a running trial with cost c and validation PSNR q is stopped
when at least ``min_better`` already-finished trials with cost <= c had, at the same step s, a PSNR of
at least q + ``margin_db``. Such a trial can still reach the front only by overtaking every one of those
cheaper-or-equal trials by the margin in its remaining steps, which short proxy runs rarely do.

"Clearly better" is the margin (default 0.5 dB, above the step-to-step noise of a short proxy's
validation PSNR seen on the embedded data); nothing is pruned before ``warmup_steps`` or before
``min_finished`` trials have finished, so early trials form an honest reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from results.schema import objective_info


@dataclass(frozen=True)
class Reference:
    """A finished trial's cost and its validation PSNR curve {step: psnr}."""

    number: int
    cost: float
    curve: dict[int, float]


@dataclass(frozen=True)
class Decision:
    prune: bool
    step: int
    psnr: float
    better: tuple[int, ...]  # trial numbers that were clearly better at this step and no costlier
    reason: str

    def to_dict(self) -> dict:
        return {
            "prune": self.prune,
            "step": self.step,
            "psnr": self.psnr,
            "better": list(self.better),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ParetoPruner:
    margin_db: float = 0.5
    warmup_steps: int = 100
    min_finished: int = 4
    min_better: int = 1

    def decide(self, step: int, psnr: float, cost: float, finished: Sequence[Reference]) -> Decision:
        if step < self.warmup_steps:
            return Decision(False, step, psnr, (), f"warm-up: step {step} < {self.warmup_steps}")
        if len(finished) < self.min_finished:
            return Decision(False, step, psnr, (), f"only {len(finished)} finished trials (< {self.min_finished})")
        better = tuple(
            r.number for r in finished if r.cost <= cost and step in r.curve and r.curve[step] >= psnr + self.margin_db
        )
        if len(better) >= self.min_better:
            return Decision(
                True,
                step,
                psnr,
                better,
                f"{len(better)} finished trial(s) with cost <= {cost:.4g} were "
                f">= {self.margin_db} dB better at step {step}",
            )
        return Decision(False, step, psnr, better, "no cheaper trial clearly better")


PARETO = "pareto"  # multi-objective: ParetoPruner, decided in the objective's validation hook
OPTUNA = "optuna"  # one objective reported during training: Optuna's HyperbandPruner via trial.report
NONE = "none"


def pruning_mode(objectives: Sequence[str], enabled: bool) -> str:
    """Which pruning a study uses; the one place that decides it (study and objective both ask here)."""

    if not enabled:
        return NONE
    if len(objectives) > 1:
        return PARETO
    return OPTUNA if objective_info(objectives[0]).validated else NONE
