"""An offline HTML dashboard from a results table (plotly.js stored beside it, no network needed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports.page import write_page
from reports.pareto import front_figure, front_info
from results.schema import label

TABLE_COLUMNS = ["trial", "state", "arch_id", "params", "macs", "latency_ms", "latency_dis", "psnr", "ssim", "pareto"]


def write_dashboard(
    df: pd.DataFrame,
    path: str | Path,
    *,
    x: str = "macs",
    y: str = "psnr",
    baselines: dict[str, float] | None = None,
    title: str = "rife-nas search",
    baseline_latency: dict[str, dict[str, float]] | None = None,
) -> Path:
    """``y`` against ``x``, against parameters and against the time over DIS-medium's (the baselines as
    points there), each with the front of its axes, and the trial table."""
    figs = []
    for cost in dict.fromkeys((x, "params", "latency_dis")):
        if cost in df.columns and (cost == x or len(front_info(df, cost, y).trials)):
            figs.append(
                front_figure(df, cost, y, baselines, f"Pareto front: {label(y)} vs {label(cost)}", baseline_latency)
            )
    cols = [c for c in TABLE_COLUMNS if c in df.columns]
    return write_page(path, title, figures=figs, tables={"Trials": df[cols].sort_values("trial")})
