"""The results table's contract: the objective registry and the table's columns, as plain data.

One row per trial (or run), always these columns, is what the search engine writes and what the reports
read. The registry lives here, beside the reports, because the reports must read it without torch,
Optuna or the search engine; the search imports it from here. Nothing in this module imports more than
the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass

MAXIMIZE = "maximize"
MINIMIZE = "minimize"


@dataclass(frozen=True)
class ObjectiveInfo:
    """One quantity the search can optimise."""

    name: str  # as given to --objectives
    column: str  # the results-table column and the trial attribute that hold it
    direction: str  # MAXIMIZE or MINIMIZE
    trained: bool  # needs a trained model (quality) rather than only the built one (cost)
    validated: bool  # reported at every validation during training, so a pruner can watch it
    label: str  # axis label
    unit: str  # "" when dimensionless

    @property
    def higher_is_better(self) -> bool:
        return self.direction == MAXIMIZE


OBJECTIVES: dict[str, ObjectiveInfo] = {
    o.name: o
    for o in (
        ObjectiveInfo("psnr", "psnr", MAXIMIZE, True, True, "validation PSNR (dB)", "dB"),
        ObjectiveInfo("ssim", "ssim", MAXIMIZE, True, True, "validation SSIM", ""),
        # LPIPS needs the AlexNet backbone, so it is measured once at the end of training, not per validation.
        ObjectiveInfo("lpips", "lpips", MINIMIZE, True, False, "validation LPIPS", ""),
        ObjectiveInfo("macs", "macs", MINIMIZE, False, False, "MACs", "MACs"),
        ObjectiveInfo("params", "params", MINIMIZE, False, False, "parameters", ""),
        ObjectiveInfo("latency", "latency_ms", MINIMIZE, False, False, "latency (ms)", "ms"),
    )
}
QUALITY = tuple(n for n, o in OBJECTIVES.items() if o.trained)
COST = tuple(n for n, o in OBJECTIVES.items() if not o.trained)
BY_COLUMN = {o.column: o for o in OBJECTIVES.values()}

# Measured quantities beyond the objectives: warp MACs and the interpolation error (IE).
EXTRA_METRICS = ("macs_warp", "ie")
METRIC_COLUMNS = (*(o.column for o in OBJECTIVES.values()), *EXTRA_METRICS)

# The results table, in column order. ``pareto`` is the study's own N-dimensional front.
TABLE_COLUMNS = (
    "trial",
    "state",
    "arch_id",
    "config_json",
    *METRIC_COLUMNS,
    "pareto",
    "pruned_by",
    "curve",
    "reused_from",
    "fail_reason",
    "overhead_s",
    "train_s",
    "duration_s",
)


def objective_info(name: str) -> ObjectiveInfo:
    """The registry entry for ``name``; an unknown name is a ValueError listing the known ones."""
    if name not in OBJECTIVES:
        raise ValueError(f"objective {name!r}: choose from {', '.join(OBJECTIVES)}")
    return OBJECTIVES[name]


def label(column: str) -> str:
    """Axis label of a results-table column (the column name itself when it is not an objective)."""
    return BY_COLUMN[column].label if column in BY_COLUMN else column


def higher_is_better(column: str) -> bool:
    """Direction of a results-table column; only objective columns have one."""
    if column not in BY_COLUMN:
        raise ValueError(f"column {column!r} is not an objective; known: {', '.join(BY_COLUMN)}")
    return BY_COLUMN[column].higher_is_better
