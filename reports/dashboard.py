"""An offline HTML dashboard from a results table (plotly.js stored beside it, no network needed)."""

from __future__ import annotations

import html
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from reports.pareto import front_info, pareto_figure
from results.files import write_text

PLOTLY_JS = "plotly.min.js"
TABLE_COLUMNS = ["trial", "state", "arch_id", "params", "macs", "latency_ms", "psnr", "ssim", "pareto"]


def ensure_plotly_js(folder: Path) -> Path:
    """Write plotly.js (~4 MB) once into ``folder``; pages there load it from beside themselves.

    Still offline, and a search that refreshes its dashboard after every trial does not rewrite it each time.
    """
    js = folder / PLOTLY_JS
    if not js.is_file():
        from plotly.offline import get_plotlyjs

        folder.mkdir(parents=True, exist_ok=True)
        write_text(js, get_plotlyjs())
    return js


def write_dashboard(
    df: pd.DataFrame,
    path: str | Path,
    *,
    x: str = "macs",
    y: str = "psnr",
    baselines: dict[str, float] | None = None,
    title: str = "rife-nas search",
) -> Path:
    """Pareto front, PSNR vs parameters, and the trial table; ``plotly.min.js`` is written beside it."""
    path = Path(path)
    info = front_info(df, x, y)
    figs = [pareto_figure(info, baselines, f"Pareto front: {y} vs {x}")]
    if x != "params" and len(info.trials):
        figs.append(pareto_figure(front_info(df, "params", y), baselines, f"{y} vs parameters"))
    ensure_plotly_js(path.parent)
    parts = [f'<script src="{PLOTLY_JS}"></script>']
    parts += [fig.to_html(full_html=False, include_plotlyjs=False) for fig in figs]
    cols = [c for c in TABLE_COLUMNS if c in df.columns]
    table = df[cols].sort_values("trial").to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)
    body = "\n".join(parts)
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}</style></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}<h2>Trials</h2>{table}</body></html>"
    )
    write_text(path, page)
    return path


__all__ = ["go", "write_dashboard"]
