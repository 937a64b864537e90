"""The one offline HTML page writer: a title, notes, Plotly figures and tables; plotly.js lies beside it.

Every page the project writes (the search's dashboard, a report's ``index.html``, the fidelity page) is
``write_page``; nothing is fetched when it opens.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from results.files import write_text

PLOTLY_JS = "plotly.min.js"
STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
    "td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}pre{background:#f6f6f6;padding:1em}"
)


def ensure_plotly_js(folder: Path) -> Path:
    """Write plotly.js (~4 MB) once into ``folder``; pages there load it from beside themselves.

    Still offline, and a search that refreshes its dashboard after every trial does not rewrite it each time.
    """
    js = folder / PLOTLY_JS
    if not js.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        write_text(js, get_plotlyjs())
    return js


def write_page(
    path: str | Path,
    title: str,
    *,
    figures: Sequence[go.Figure] = (),
    tables: dict[str, pd.DataFrame] | None = None,
    notes: str = "",
    items: Sequence[str] = (),
) -> Path:
    """``title``, ``items`` as a list, ``notes`` as preformatted text, the figures, then each table under its
    name; written atomically."""
    path = Path(path)
    ensure_plotly_js(path.parent)
    parts = [f"<h1>{html.escape(title)}</h1>", f'<script src="{PLOTLY_JS}"></script>']
    if items:
        parts.append("<ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in items) + "</ul>")
    if notes:
        parts.append(f"<pre>{html.escape(notes)}</pre>")
    parts += [f'<div class="figure">{f.to_html(full_html=False, include_plotlyjs=False)}</div>' for f in figures]
    for name, t in (tables or {}).items():
        table = t.to_html(index=False, float_format=lambda v: f"{v:.4g}", border=0)
        parts.append(f"<h2>{html.escape(name)}</h2>{table}")
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        f"<style>{STYLE}</style></head><body>" + "\n".join(parts) + "</body></html>"
    )
    return write_text(path, page)
