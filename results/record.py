"""The typed trial record: what a trial stores in Optuna's user attributes, written and read in one place.

The objective writes it while a trial runs (cost first, then the validation curve, then the scores), the
study builds the results table from it, tracking logs it to MLflow, and a repeated architecture copies
its ``RESULT_FIELDS`` from an earlier record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from results.schema import METRIC_COLUMNS

# Fail reasons that are not the architecture's result, so the trial does not count and a re-run redoes it:
# Ctrl-C, and bad data found mid-trial (a corrupt image; the search stops so that it can be fixed).
INTERRUPTED = "interrupted"
DATA_ERROR = "data error: "  # a prefix: the rest is the data's own message


def redone(fail_reason: str | None) -> bool:
    """Whether a failed trial with this reason is redone by a re-run (it failed for no fault of its own)."""
    return fail_reason is None or fail_reason == INTERRUPTED or fail_reason.startswith(DATA_ERROR)


@dataclass
class TrialRecord:
    arch_id: str | None = None
    config_json: str | None = None
    fingerprint: str | None = None  # the study settings the result belongs to (see search.spec.fingerprint)
    weight_seed: int | None = None  # initial weights were drawn from this (a function of seed and arch_id)
    params: int | None = None
    macs: int | None = None
    macs_warp: int | None = None
    latency_ms: float | None = None
    latency_dis: float | None = None  # latency_ms over DIS-medium's, timed in turn
    psnr: float | None = None
    ssim: float | None = None
    lpips: float | None = None
    ie: float | None = None
    curve: dict[str, float] | None = None  # validation PSNR by step (string keys: JSON)
    constraints: list[float] | None = None  # params, MACs, latency excess over the limits (<= 0 is feasible)
    infeasible: bool = False
    infeasible_reason: str | None = None
    pruned_by: dict[str, Any] | None = None
    reused_from: int | None = None  # trial number whose result this one copies
    fail_reason: str | None = None
    overhead_s: float | None = None  # cost measurement
    train_s: float | None = None  # training and validation, this trial's own (None when reused or pruned)
    checkpoint: str | None = None
    inherited_share: float | None = None  # share of the parameters that started from the parent's
    start_shares: dict[str, float] | None = None  # that share split: copied, rewritten, fitted
    worker: str | None = None  # "host:pid" of the process running it (the journal storage's stale sweep)

    @classmethod
    def of(cls, user_attrs: dict[str, Any]) -> TrialRecord:
        """The record stored in a trial's ``user_attrs`` (unknown keys from other tools are ignored)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in user_attrs.items() if k in known})

    def set(self, trial: Any, **values: Any) -> None:
        """Set fields here and store them on ``trial`` (an Optuna Trial); a misspelt field is an error."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise AttributeError(f"TrialRecord has no field(s) {unknown}")
        for k, v in values.items():
            setattr(self, k, v)
            trial.set_user_attr(k, v)

    def metrics(self) -> dict[str, float]:
        """The measured numbers that are known (the results table's metric columns)."""
        return {k: float(getattr(self, k)) for k in METRIC_COLUMNS if getattr(self, k) is not None}

    def results(self) -> dict[str, Any]:
        """What a repeated architecture copies: measurements and scores, not time spent or files written."""
        return {k: getattr(self, k) for k in RESULT_FIELDS}

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


RESULT_FIELDS = (
    "params",
    "macs",
    "macs_warp",
    "latency_ms",
    "latency_dis",
    "psnr",
    "ssim",
    "lpips",
    "ie",
    "curve",
    "inherited_share",
    "start_shares",
)
