"""Figures of a search or an ablation from its tables (pandas + plotly only; no torch, Optuna or MLflow)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from results.schema import label

QUALITY = ("psnr", "ssim", "lpips")
COSTS = ("macs", "latency_ms", "params")
TEMPLATE = "plotly_white"


def hypervolume_figure(curves: pd.DataFrame, reference: tuple[float, float]) -> go.Figure:
    """Hypervolume of the PSNR/MACs front after each trial (one line per study in ``curves``)."""
    fig = go.Figure()
    for name, g in curves.groupby("study"):
        fig.add_trace(go.Scatter(x=g["trial"], y=g["hypervolume"], mode="lines+markers", name=str(name)))
    fig.update_layout(
        title=f"Hypervolume over trials (reference: PSNR {reference[0]:.2f} dB, {reference[1]:.3g} GMACs)",
        xaxis_title="completed trials",
        yaxis_title="hypervolume (dB x GMACs)",
        template=TEMPLATE,
    )
    return fig


def sampler_figure(final: pd.DataFrame, reference: tuple[float, float]) -> go.Figure:
    """Final hypervolume of each sampler: every seed as a point, the mean as a bar."""
    fig = go.Figure()
    means = final.groupby("sampler", sort=False)["hypervolume"].mean()
    fig.add_trace(go.Bar(x=means.index, y=means.values, name="mean over seeds", marker_color="#8ab6d6"))
    seeds = [f"seed {s}" for s in final["seed"]]
    fig.add_trace(
        go.Scatter(
            x=final["sampler"],
            y=final["hypervolume"],
            mode="markers",
            name="one seed",
            text=seeds,
            marker={"size": 10, "color": "#d1495b"},
        )
    )
    fig.update_layout(
        title=f"Final hypervolume per sampler (reference: PSNR {reference[0]:.2f} dB, {reference[1]:.3g} GMACs)",
        xaxis_title="sampler",
        yaxis_title="hypervolume (dB x GMACs)",
        template=TEMPLATE,
    )
    return fig


DEFAULT = "default"  # a dimension's value in a config that leaves it out


def space_columns(df: pd.DataFrame) -> pd.DataFrame:
    """The architecture dimensions of each trial, read from its ``config_json``."""
    rows = []
    for text in df["config_json"]:
        c = json.loads(text)
        blocks = c.get("blocks", [])
        row = {k: v for k, v in c.items() if k != "blocks" and not isinstance(v, (list, dict))}
        row.update(
            levels=len(blocks),
            top_scale=max((b["scale"] for b in blocks), default=0),
            mean_width=float(np.mean([b["width"] for b in blocks])) if blocks else 0.0,
            mean_depth=float(np.mean([b["depth"] for b in blocks])) if blocks else 0.0,
        )
        rows.append(row)
    out = pd.DataFrame(rows, index=df.index)
    # A config leaves out a field at its default (written only when set, so that stored ids stay stable):
    # where other trials set it, the absent value is that default.
    for col in out.columns[out.isna().any()]:
        out[col] = out[col].astype(object).where(out[col].notna(), DEFAULT)
    return out


def dimension_effects(df: pd.DataFrame, y: str = "psnr") -> pd.Series:
    """Share of the variance of ``y`` explained by each dimension on its own (eta squared, one-way).

    A plain description of the finished trials, not Optuna's fANOVA importance: dimensions are not
    independent in a sampled study, and few trials make every share noisy.
    """
    done = df[df["state"] == "COMPLETE"].dropna(subset=[y])
    if len(done) < 3 or "config_json" not in done:
        return pd.Series(dtype=float)
    dims = space_columns(done)
    total = float(((done[y] - done[y].mean()) ** 2).sum())
    out = {}
    for col in dims.columns:
        if dims[col].nunique() < 2 or total == 0.0:
            continue
        groups = done[y].groupby(dims[col].astype(str))
        between = float((groups.count() * (groups.mean() - done[y].mean()) ** 2).sum())
        out[col] = between / total
    return pd.Series(out).sort_values(ascending=False)


def effects_figure(effects: pd.Series, y: str = "psnr") -> go.Figure:
    fig = go.Figure(go.Bar(x=effects.to_numpy(), y=effects.index.tolist(), orientation="h", marker_color="#5b8def"))
    fig.update_layout(
        title=f"Share of {label(y)} variance explained by each dimension alone (eta squared)",
        xaxis_title="share of variance",
        template=TEMPLATE,
        yaxis={"autorange": "reversed"},
    )
    return fig


def parallel_figure(df: pd.DataFrame, y: str = "psnr") -> go.Figure:
    """Parallel coordinates over the space's dimensions, coloured by ``y``."""
    done = df[df["state"] == "COMPLETE"].dropna(subset=[y])
    dims = space_columns(done)
    axes = []
    for col in dims.columns:
        v = dims[col]
        if v.dtype == object or v.dtype == bool:
            cats = sorted(v.astype(str).unique())
            axes.append(
                {
                    "label": col,
                    "values": v.astype(str).map(cats.index),
                    "tickvals": list(range(len(cats))),
                    "ticktext": cats,
                }
            )
        else:
            axes.append({"label": col, "values": v})
    axes.append({"label": label(y), "values": done[y]})
    fig = go.Figure(go.Parcoords(line={"color": done[y], "colorscale": "Viridis", "showscale": True}, dimensions=axes))
    fig.update_layout(title=f"Dimensions of the finished trials, coloured by {label(y)}", template=TEMPLATE)
    return fig


def ablation_figure(runs: pd.DataFrame, metric: str, control: str) -> go.Figure:
    """Mean +- std of ``metric`` per variant (bars), each seed as a dot."""
    ok = runs[runs["status"] == "completed"]
    g = ok.groupby("variant", sort=False)[metric]
    means, stds = g.mean(), g.std(ddof=1).fillna(0.0)
    colors = ["#d1495b" if v == control else "#5b8def" for v in means.index]
    fig = go.Figure(
        go.Bar(
            x=means.index.tolist(),
            y=means.to_numpy(),
            error_y={"type": "data", "array": stds},
            marker_color=colors,
            name="mean +- std",
        )
    )
    fig.add_trace(
        go.Scatter(x=ok["variant"], y=ok[metric], mode="markers", name="seeds", marker={"color": "#333", "size": 6})
    )
    lo, hi = float(ok[metric].min()), float(ok[metric].max())
    pad = max(hi - lo, 1e-3) * 0.5
    fig.update_layout(
        title=f"{metric} per variant (control in red)", yaxis={"range": [lo - pad, hi + pad]}, template=TEMPLATE
    )
    return fig


def differences_figure(diffs: pd.DataFrame, metric: str) -> go.Figure:
    """Paired difference to the control with its 95% interval, per variant (a forest plot)."""
    d = diffs[diffs["metric"] == metric]
    fig = go.Figure(
        go.Scatter(
            x=d["difference"],
            y=d["variant"] + " (" + d["verdict"] + ")",
            mode="markers",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": d["ci_high"] - d["difference"],
                "arrayminus": d["difference"] - d["ci_low"],
            },
            marker={"size": 10, "color": "#d1495b"},
        )
    )
    fig.add_vline(x=0, line_dash="dot")
    fig.update_layout(title=f"{metric}: difference to the control, 95% interval", template=TEMPLATE)
    return fig


PALETTE = ("#d1495b", "#5b8def", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#2e4057", "#f28f3b")


def search_curves_figure(df: pd.DataFrame, baselines: dict[str, float] | None = None) -> go.Figure:
    """Validation PSNR over training steps, one line per trial; pruned trials dashed and grey."""
    fig = go.Figure()
    for r in df.dropna(subset=["curve"]).itertuples():
        curve = sorted((int(k), v) for k, v in json.loads(r.curve).items())
        pruned = r.state == "PRUNED"
        fig.add_trace(
            go.Scatter(
                x=[s for s, _ in curve],
                y=[v for _, v in curve],
                mode="lines+markers",
                name=f"trial {r.trial}" + (" (pruned)" if pruned else ""),
                line={"dash": "dash", "color": "#aaaaaa"} if pruned else {},
                marker={"size": 4},
            )
        )
    for name, value in (baselines or {}).items():
        fig.add_hline(y=value, line_dash="dot", annotation_text=name, annotation_position="bottom right")
    fig.update_layout(
        title="Validation curves of the trials (pruned dashed)",
        xaxis_title="training step",
        yaxis_title="validation PSNR (dB)",
        template=TEMPLATE,
    )
    return fig


def ablation_curves_figure(runs: pd.DataFrame, control: str) -> go.Figure:
    """Validation PSNR over training steps per (variant, seed), coloured by variant; the blend of the same triplets."""
    ok = runs[(runs["status"] == "completed") & runs["history"].notna()]
    colors = {v: PALETTE[i % len(PALETTE)] for i, v in enumerate(ok["variant"].unique())}
    fig = go.Figure()
    for r in ok.itertuples():
        steps, psnr = zip(*r.history, strict=True)
        fig.add_trace(
            go.Scatter(
                x=steps,
                y=psnr,
                mode="lines+markers",
                legendgroup=r.variant,
                showlegend=bool(r.seed == ok["seed"].min()),
                name=r.variant + (" (control)" if r.variant == control else ""),
                line={"color": colors[r.variant], "width": 3 if r.variant == control else 1.5},
                marker={"size": 4},
                hovertext=f"{r.variant} seed {r.seed}",
            )
        )
    if "history_blend" in ok and ok["history_blend"].notna().any():
        fig.add_hline(
            y=float(ok["history_blend"].mean()),
            line_dash="dot",
            annotation_text="blend",
            annotation_position="bottom right",
        )
    fig.update_layout(
        title="Validation curves per run (first eval set, training-time validation)",
        xaxis_title="training step",
        yaxis_title="validation PSNR (dB)",
        template=TEMPLATE,
    )
    return fig


def time_quality_figure(members: pd.DataFrame, baselines: pd.DataFrame, column: str) -> go.Figure:
    """PSNR on one test set against time, from ``--retrain-top``'s tables: the retrained members
    (``retrain.csv``), DIS at each preset joined by a line, the blend, the parent and any other method the
    baselines (``retrain_baselines.csv``, indexed by ``data`` or with it as a column) score on that set;
    every time comes from the same in-turn rounds. ``column``: a members' column such as
    ``test_psnr default`` (its data name is the baselines' row)."""
    base = baselines.set_index("data") if "data" in baselines.columns else baselines
    timing = next(i for i in base.index if str(i).startswith("latency_ms "))
    data = column.removeprefix("test_psnr ")
    psnr, ms = base.loc[data], base.loc[timing]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=members[timing],
            y=members[column],
            mode="markers+text",
            text=members["arch_id"],
            textposition="top center",
            name="found members",
            marker={"size": 12, "color": "#d1495b"},
        )
    )
    dis = sorted((m for m in base.columns if m == "dis" or m.startswith("dis-")), key=lambda m: ms[m])
    fig.add_trace(
        go.Scatter(
            x=[ms[m] for m in dis],
            y=[psnr[m] for m in dis],
            mode="lines+markers+text",
            text=[m.removeprefix("dis-") if m != "dis" else "medium" for m in dis],
            textposition="bottom center",
            name="DIS",
            marker={"size": 9, "color": "#30343f"},
        )
    )
    for m in base.columns:
        if m not in dis and m in ms and pd.notna(ms[m]) and pd.notna(psnr.get(m)):
            fig.add_trace(
                go.Scatter(x=[ms[m]], y=[psnr[m]], mode="markers+text", text=[m], textposition="top center", name=m)
            )
    fig.update_layout(
        title=f"PSNR on {data} (test split) against time at {timing.removeprefix('latency_ms ')}, timed in turn",
        xaxis_title="ms per frame pair (log)",
        yaxis_title="PSNR (dB)",
        template=TEMPLATE,
    )
    fig.update_xaxes(type="log")
    return fig
