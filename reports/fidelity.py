"""Proxy fidelity figure: proxy score against reference score per architecture (pandas -> Plotly)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from reports.page import write_page


def fidelity_figure(
    df: pd.DataFrame, blend: float | None = None, title: str = "", reference_blend: float | None = None
) -> go.Figure:
    """One point per architecture: x = proxy PSNR, y = reference PSNR; the blend on the proxy's triplets
    (``blend``) and on the reference's (``reference_blend``, default the same) as dotted lines."""
    hover = df.apply(lambda r: f"arch {r['arch_id']}<br>{int(r['params']):,} params", axis=1) if len(df) else []
    fig = go.Figure(
        go.Scatter(
            x=df["proxy_psnr"],
            y=df["reference_psnr"],
            mode="markers",
            text=hover,
            marker={"size": 10, "color": df["params"], "colorscale": "Viridis", "colorbar": {"title": "params"}},
            name="architectures",
        )
    )
    reference_blend = blend if reference_blend is None else reference_blend
    if reference_blend is not None:
        fig.add_hline(y=reference_blend, line_dash="dot", annotation_text="blend", annotation_position="bottom right")
    if blend is not None:
        fig.add_vline(x=blend, line_dash="dot")
    fig.update_layout(
        title=title,
        xaxis_title="proxy validation PSNR (dB)",
        yaxis_title="reference PSNR (dB), the split ranked",
        template="plotly_white",
    )
    return fig


def write_fidelity_page(
    df: pd.DataFrame,
    path: str | Path,
    summary: list[str],
    blend: float | None = None,
    title: str = "Proxy fidelity",
    reference_blend: float | None = None,
) -> Path:
    """The figure, the agreement lines and the table as one offline page (plotly.js beside it)."""
    fig = fidelity_figure(df, blend, title, reference_blend)
    shown = df.drop(columns=["config_json"], errors="ignore")  # in the CSV beside it; unreadable in a table
    return write_page(path, title, items=summary, figures=[fig], tables={"Architectures": shown})
