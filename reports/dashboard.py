"""An offline HTML dashboard from a results table (plotly.js stored beside it, no network needed)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from reports.page import write_page
from reports.pareto import front_figure, front_info
from results.schema import label

TABLE_COLUMNS = ["trial", "state", "arch_id", "params", "macs", "latency_ms", "psnr", "ssim", "pareto"]


def write_dashboard(
    df: pd.DataFrame,
    path: str | Path,
    *,
    x: str = "macs",
    y: str = "psnr",
    baselines: dict[str, float] | None = None,
    title: str = "rife-nas search",
) -> Path:
    """``y`` against ``x`` and against parameters, each with the front of its axes, and the trial table."""
    figs = [front_figure(df, x, y, baselines, title=f"Pareto front: {label(y)} vs {label(x)}")]
    if x != "params" and len(front_info(df, x, y).trials):
        figs.append(front_figure(df, "params", y, baselines, title=f"Pareto front: {label(y)} vs {label('params')}"))
    cols = [c for c in TABLE_COLUMNS if c in df.columns]
    return write_page(path, title, figures=figs, tables={"Trials": df[cols].sort_values("trial")})
