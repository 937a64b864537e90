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
        # The candidate's time over DIS-medium's, timed in turn at the same size: drift on a shared CPU moves
        # both alike, so ratios of one search (and of several machines) compare where their ms do not.
        ObjectiveInfo("latency_dis", "latency_dis", MINIMIZE, False, False, "latency (x DIS-medium)", "x"),
    )
}
QUALITY = tuple(n for n, o in OBJECTIVES.items() if o.trained)
COST = tuple(n for n, o in OBJECTIVES.items() if not o.trained)
BY_COLUMN = {o.column: o for o in OBJECTIVES.values()}

# A model "left the blend plateau" when its PSNR is this far above the 50/50 blend of the same triplets:
# below it, differences are within seed-to-seed noise at the project's training lengths.
ABOVE_BLEND_DB = 0.3

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

# What each column holds: the reference page (docs/reference/columns.md) is generated from this.
COLUMN_DOCS = {
    "trial": "Optuna trial number",
    "state": "COMPLETE (trained and scored), PRUNED (stopped early, or infeasible: over a limit) or FAIL",
    "arch_id": "12-hex content hash of the architecture (`ArchConfig.arch_id`); equal ids, equal networks",
    "config_json": "the architecture as JSON: `ArchConfig.from_json` rebuilds it (`rife_core.train --config`)",
    "psnr": "PSNR (dB) on the validation triplets at the end of the proxy training; compare with the "
    "`blend (baseline)` and `DIS (baseline)` rows of the same table (`baselines.json`)",
    "ssim": "SSIM on the same triplets (equal to skimage's, data range 1)",
    "lpips": "LPIPS (AlexNet, genuine weights) on the same triplets, lower is better; empty with --no-lpips",
    "macs": "multiply-accumulates of one forward pass at --size (fvcore; grid_sample counted at 4 per value)",
    "params": "trainable parameters (analytic count, equal to the built network's)",
    "latency_ms": "median forward time in ms at --latency-size (default 480x640), batch 1, on this machine's CPU "
    "(--latency-backend); the median of 3 rounds timed in turn with DIS-medium",
    "latency_dis": "`latency_ms` over DIS-medium interpolation's time (OpenCV, the evaluation's DIS) at the same size, "
    "the median of the rounds' ratios: below 1 is faster than DIS; `baselines.json` holds each DIS preset's",
    "macs_warp": "the part of `macs` spent in warping (grid_sample)",
    "ie": "interpolation error: mean absolute difference in grey levels (0-255), as Middlebury reports it",
    "pareto": "True when no other complete trial is at least as good in every objective and better in one "
    "(the study's own front over all its objectives)",
    "pruned_by": "why the trial was stopped: the pruner's decision (step, PSNR, the better trial it was compared with)",
    "curve": "validation PSNR by step during the proxy training, as JSON",
    "reused_from": "the trial whose scores this one reuses (same arch_id and settings fingerprint)",
    "fail_reason": "why a trial failed (diverged loss, an error, 'interrupted')",
    "overhead_s": "seconds spent building the network and measuring its cost",
    "train_s": "seconds of proxy training and scoring",
    "duration_s": "wall-clock seconds of the whole trial",
}


def columns_markdown() -> str:
    """The results-table reference page: every column of ``TABLE_COLUMNS`` and what it holds."""
    rows = [f"| `{c}` | {COLUMN_DOCS[c]} |" for c in TABLE_COLUMNS]
    return "\n".join(
        [
            "# Results-table columns",
            "",
            "`trials.csv` and `pareto_front.csv` of a search (and `python -m reports.build` on any study) hold one",
            "row per trial with these columns, in this order. Generated from `results/schema.py` by",
            "`python -m search.docs`; a test fails when this page and the schema disagree.",
            "",
            "| column | what it holds |",
            "|---|---|",
            *rows,
            "",
        ]
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
