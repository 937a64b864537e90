"""Pareto fronts from a results table (one row per trial), split into computation and rendering.

Depends only on pandas and plotly: a dashboard can be rebuilt from a CSV without torch.

The front shown is the study's own: when the table has a ``pareto`` column (the search writes Optuna's
N-dimensional ``best_trials`` there), those rows are the front, also in 2-D views of a study with more
objectives; only a table without it gets a front computed from the two plotted columns.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from results.schema import higher_is_better, label


def pareto_mask(df: pd.DataFrame, maximize: list[str], minimize: list[str]) -> np.ndarray:
    """True for rows no other row dominates (>= on every maximised, <= on every minimised, > somewhere)."""
    vals = np.column_stack([df[c].to_numpy(float) for c in maximize] + [-df[c].to_numpy(float) for c in minimize])
    n = len(vals)
    mask = np.ones(n, dtype=bool)
    for i in range(n):
        dominated_by = np.all(vals >= vals[i], axis=1) & np.any(vals > vals[i], axis=1)
        mask[i] = not dominated_by.any()
    return mask


class FrontInfo(NamedTuple):
    trials: pd.DataFrame  # all finished trials
    front: pd.DataFrame  # the non-dominated ones, sorted by cost
    x: str
    y: str


def front_info(df: pd.DataFrame, x: str = "macs", y: str = "psnr") -> FrontInfo:
    """Finished trials with ``x`` and ``y`` known, and the front among them (see the module docstring)."""
    done = df[df["state"] == "COMPLETE"].dropna(subset=[x, y])
    if done.empty:
        return FrontInfo(done, done, x, y)
    if "pareto" in done.columns:
        mask = done["pareto"].astype(bool).to_numpy()
    else:
        cols = [x, y]
        mask = pareto_mask(done, [c for c in cols if higher_is_better(c)], [c for c in cols if not higher_is_better(c)])
    return FrontInfo(done, done[mask].sort_values(x), x, y)


def pareto_figure(info: FrontInfo, baselines: dict[str, float] | None = None, title: str = "") -> go.Figure:
    """Scatter of every finished trial, the front as a step line, baselines as horizontal lines."""
    fig = go.Figure()
    t = info.trials
    hover = (
        t.apply(lambda r: f"trial {r['trial']}<br>arch {r['arch_id']}<br>{r['params']:,} params", axis=1)
        if len(t)
        else []
    )
    fig.add_trace(
        go.Scatter(
            x=t[info.x], y=t[info.y], mode="markers", name="trials", text=hover, marker={"size": 8, "color": "#8fa8c8"}
        )
    )
    f = info.front
    fig.add_trace(
        go.Scatter(
            x=f[info.x],
            y=f[info.y],
            mode="lines+markers",
            name="Pareto front",
            line_shape="hv",
            marker={"size": 11, "color": "#d1495b"},
        )
    )
    for name, value in (baselines or {}).items():
        fig.add_hline(y=value, line_dash="dot", annotation_text=name, annotation_position="bottom right")
    fig.update_layout(
        title=title,
        xaxis_title=label(info.x),
        yaxis_title=label(info.y),
        template="plotly_white",
    )
    if info.x in ("macs", "params"):
        fig.update_xaxes(type="log")
    return fig
