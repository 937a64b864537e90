"""Pareto fronts from a results table (one row per trial), split into computation and rendering.

Depends only on pandas and plotly: a dashboard can be rebuilt from a CSV without torch.

Each chart draws the front of its own two axes, computed from the plotted columns: a line through the
study's (PSNR, MACs) front drawn on (SSIM, latency) axes would zigzag and be no front. Where the table has a
``pareto`` column (the search writes Optuna's N-dimensional ``best_trials`` there), the study's own front is
marked as well, so a trial on it through an objective the chart does not plot is still seen.
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
    front: pd.DataFrame  # the non-dominated ones in (x, y), sorted by x
    study_front: pd.DataFrame  # the study's own front (its ``pareto`` column); empty without one
    x: str
    y: str


def front_info(df: pd.DataFrame, x: str = "macs", y: str = "psnr") -> FrontInfo:
    """Finished trials with ``x`` and ``y`` known, and the front among them (see the module docstring)."""
    done = df[df["state"] == "COMPLETE"].dropna(subset=[x, y])
    if done.empty:
        return FrontInfo(done, done, done, x, y)
    cols = [x, y]
    mask = pareto_mask(done, [c for c in cols if higher_is_better(c)], [c for c in cols if not higher_is_better(c)])
    study = done[done["pareto"].astype(bool)] if "pareto" in done.columns else done.iloc[0:0]
    return FrontInfo(done, done[mask].sort_values(x), study.sort_values(x), x, y)


def front_figure(
    df: pd.DataFrame,
    x: str,
    y: str,
    baselines: dict[str, float] | None = None,
    title: str = "",
    baseline_latency: dict[str, dict[str, float]] | None = None,
) -> go.Figure:
    """Every finished trial (dominated ones faded), the front of (x, y) as a line, the study's own front
    ringed (see the module docstring), and for PSNR the baselines as dotted lines; hover names each trial's
    architecture. On a latency axis each timed baseline (``baseline_latency``: name -> its ``latency_ms`` and
    ``latency_dis``) is a labelled point where its PSNR is known, else a dotted vertical line."""
    info = front_info(df, x, y)
    t, f = info.trials, info.front
    dominated = t[~t["trial"].isin(f["trial"])] if len(t) else t

    def hover(rows: pd.DataFrame) -> list[str]:
        return [
            f"trial {r.trial}<br>arch {r.arch_id}<br>{int(r.params):,} params<br>{label(y)} {getattr(r, y):.4g}"
            for r in rows.itertuples()
        ]

    fig = go.Figure()
    dominated_style = {"mode": "markers", "marker": {"size": 8, "color": "#8fa8c8", "opacity": 0.35}}
    front_style = {"mode": "lines+markers", "marker": {"size": 11, "color": "#d1495b"}}
    study_style = {"mode": "markers", "marker": {"size": 17, "symbol": "circle-open", "color": "#30343f"}}
    traces = [
        (dominated, f"dominated in ({label(y)}, {label(x)})", dominated_style),
        (f, f"Pareto front of ({label(y)}, {label(x)})", front_style),
        (info.study_front, "on the study's front (all its objectives)", study_style),
    ]
    for rows, name, style in traces:
        if len(rows) or name.startswith("Pareto front"):  # the front's legend entry even when empty
            fig.add_trace(go.Scatter(x=rows[x], y=rows[y], name=name, text=hover(rows), hoverinfo="text", **style))
    timed = {name: t[x] for name, t in (baseline_latency or {}).items() if x in t}
    if y == "psnr":  # the baselines are PSNR values
        for name, value in (baselines or {}).items():
            if name not in timed:
                fig.add_hline(y=value, line_dash="dot", annotation_text=name, annotation_position="bottom right")
    points = {name: cost for name, cost in timed.items() if y == "psnr" and name in (baselines or {})}
    if points:
        ys = [baselines[name] for name in points]  # type: ignore[index]
        fig.add_trace(
            go.Scatter(
                x=list(points.values()),
                y=ys,
                mode="markers+text",
                text=[n.removesuffix(" (baseline)") for n in points],
                textposition="top center",
                name="baselines, timed in turn",
                marker={"size": 10, "symbol": "diamond", "color": "#30343f"},
            )
        )
    for name, cost in timed.items():
        if name not in points:
            fig.add_vline(x=cost, line_dash="dot", annotation_text=name, annotation_position="top")
    fig.update_layout(
        title=title or f"{label(y)} vs {label(x)}", xaxis_title=label(x), yaxis_title=label(y), template="plotly_white"
    )
    if x in ("macs", "params", "latency_ms", "latency_dis"):
        fig.update_xaxes(type="log")
    return fig
