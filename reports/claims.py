"""``python -m reports.claims``: the table that answers the article, from the stored runs of the specs on
the parent (no torch).

Each claim of ``experiments/claims.yaml`` names a spec, its variant and what the claim predicts
of the variant against the spec's control. The table gives, per claim, the paired PSNR difference with its
95% t interval on every eval set, the LPIPS difference, the parameter, MAC and latency changes (the
latency a ratio timed side by side with the control, ``experiments.latency``) and the verdict on the first
eval set. It is written into the results page between markers, as CSV beside it, and as an offline
page with the figure of quality change against latency change.

Examples:
    python -m reports.claims                    # experiments/shipped -> docs/results/ablations.md, runs/claims
    python -m reports.claims --check            # exit 1 when the page's table is out of date
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import yaml

from reports.page import write_page
from results.files import read_jsonl, write_csv, write_text
from results.paired import PairedDifference, paired_difference, paired_runs

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "experiments" / "specs" / "parent"
CLAIMS = ROOT / "experiments" / "claims.yaml"
RUNS = ROOT / "experiments" / "shipped"
PAGE = ROOT / "docs" / "results" / "ablations.md"
CSV = ROOT / "docs" / "results" / "data" / "claims.csv"
START, END = "<!-- claims:start (python -m reports.claims) -->", "<!-- claims:end -->"
EXPECTS = ("gain", "loss", "no_loss", "no_gain")


class ClaimsError(ValueError):
    """A claims file or a spec it names that cannot be read; the message names the fix."""


@dataclass(frozen=True)
class Claim:
    claim: str
    spec: str  # the spec file's stem in SPECS
    variant: str
    expect: str
    metric: str | None = None  # what decides, e.g. lpips@test; None: PSNR on the spec's first eval set


def read_claims(path: Path = CLAIMS) -> tuple[list[Claim], float]:
    """The claims and the margin of the ``no_loss`` / ``no_gain`` verdicts (dB)."""
    raw = yaml.safe_load(path.read_text())
    claims = [Claim(**c) for c in raw["claims"]]
    for c in claims:
        if c.expect not in EXPECTS:
            raise ClaimsError(f"{path}: claim {c.claim!r}: expect {c.expect!r}: choose one of {', '.join(EXPECTS)}")
    return claims, float(raw.get("margin_db", 0.3))


def verdict(expect: str, d: PairedDifference, margin: float) -> str:
    """What the paired difference (variant - control) says of a claim that predicts ``expect``."""
    if d.n < 2 or d.low != d.low:
        return f"too few seeds ({d.n})"
    low, high = (d.low, d.high) if d.higher_is_better else (-d.high, -d.low)  # the interval of the gain
    if expect in ("gain", "loss"):
        lo, hi = (low, high) if expect == "gain" else (-high, -low)  # of the predicted direction
        if lo > 0:
            return "supported"
        return "refuted" if hi < 0 else f"no difference detected at {d.n} seeds"
    if expect == "no_loss":
        if low > -margin:
            return "supported"
        return "refuted" if high < -margin else f"undecided at {d.n} seeds"
    if high < margin:  # no_gain
        return "supported"
    return "refuted" if low > margin else f"undecided at {d.n} seeds"


def spec_meta(name: str, specs: Path = SPECS) -> dict[str, Any]:
    """A spec's name, control and eval set names, read from its YAML (no torch)."""
    path = specs / f"{name}.yaml"
    if not path.is_file():
        raise ClaimsError(f"claim names spec {name!r}: no {path}")
    raw = yaml.safe_load(path.read_text())
    evals = [e if isinstance(e, str) else e.get("name", e["data"]) for e in raw.get("eval", [])]
    return {"name": raw["name"], "control": raw["control"], "evals": evals}


def claims_table(runs_dir: Path = RUNS, claims_path: Path = CLAIMS, specs: Path = SPECS) -> pd.DataFrame:
    """One row per claim: differences with intervals, cost changes, verdict ("not run yet" without runs)."""
    claims, margin = read_claims(claims_path)
    out, stored = [], {}
    for c in claims:
        meta = spec_meta(c.spec, specs)
        folder = runs_dir / meta["name"]
        if folder not in stored:  # several claims read one spec's runs
            stored[folder] = pd.DataFrame(read_jsonl(folder / "runs.jsonl"))
        runs = stored[folder]
        if runs.empty or c.variant not in set(runs["variant"]):
            out.append({"claim": c.claim, "spec": c.spec, "variant": c.variant, "verdict": "not run yet"})
            continue
        decides = c.metric or f"psnr@{meta['evals'][0]}"
        entry: dict[str, Any] = {"claim": c.claim, "spec": c.spec, "variant": c.variant, "expect": c.expect}
        entry["decided_by"] = decides
        first = None
        for e in meta["evals"]:
            for metric, higher in (("psnr", True), ("lpips", False)):
                v, ctl, _ = paired_runs(runs, c.variant, meta["control"], f"{metric}@{e}")
                if not v:
                    continue
                d = paired_difference(v, ctl, f"{metric}@{e}", higher)
                entry[f"d_{metric}_{e}"], entry[f"lo_{metric}_{e}"], entry[f"hi_{metric}_{e}"] = d.mean, d.low, d.high
                if f"{metric}@{e}" == decides:
                    first = d
                    entry["control_value"] = sum(ctl) / len(ctl)
                    entry["seeds"] = d.n
        ok = runs[runs["status"] == "completed"]
        mean = ok.groupby("variant")[["params", "macs"]].mean()
        for col in ("params", "macs"):
            entry[f"{col}_change"] = mean.loc[c.variant, col] / mean.loc[meta["control"], col] - 1
        lat = folder / "latency.json"
        if lat.is_file():
            entry["latency_ratio"] = json.loads(lat.read_text())["ratio"].get(c.variant)
        entry["verdict"] = verdict(c.expect, first, margin) if first is not None else "no completed pair"
        out.append(entry)
    return pd.DataFrame(out)


def _interval(row: pd.Series, metric: str, e: str, fmt: str = "+.2f") -> str:
    d = row.get(f"d_{metric}_{e}")
    if d is None or d != d:
        return "-"
    lo, hi = row[f"lo_{metric}_{e}"], row[f"hi_{metric}_{e}"]
    return f"{d:{fmt}} [{lo:{fmt}}, {hi:{fmt}}]" if lo == lo else f"{d:{fmt}}"


def _number(row: pd.Series, key: str, fmt: str) -> str:
    v = row.get(key)
    return "-" if v is None or v != v else fmt.format(v)


def claims_markdown(table: pd.DataFrame, evals: list[str]) -> str:
    """The page's table: one row per claim."""
    head = ["claim", "variant (spec)", *(f"dB {e}" for e in evals), f"LPIPS {evals[-1]}"]
    head += ["params", "MACs", "latency", "seeds", "verdict"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, r in table.iterrows():
        cells = [r["claim"], f"`{r['variant']}` ({r['spec']})"]
        cells += [_interval(r, "psnr", e) for e in evals] + [_interval(r, "lpips", evals[-1], "+.3f")]
        cells += [_number(r, "params_change", "{:+.0%}"), _number(r, "macs_change", "{:+.0%}")]
        cells += [_number(r, "latency_ratio", "x{:.2f}"), _number(r, "seeds", "{:.0f}")]
        by = r.get("decided_by")
        shown = {f"psnr@{e}" for e in evals}
        if isinstance(by, str) and by not in shown:  # decided on a column the table does not show: its value
            metric, e = by.split("@", 1)
            fmt = "+.2f" if metric == "psnr" else "+.3f"
            cells.append(f"**{r['verdict']}** ({by} {_interval(r, metric, e, fmt)})")
        else:
            cells.append(f"**{r['verdict']}**")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def claims_figure(table: pd.DataFrame, e: str) -> go.Figure:
    """PSNR difference on eval set ``e`` (with its interval) against the latency change, one point a variant."""
    cols = [f"d_psnr_{e}", "latency_ratio"]
    t = table.dropna(subset=cols) if set(cols) <= set(table) else table.iloc[0:0]
    fig = go.Figure(
        go.Scatter(
            x=100 * (t["latency_ratio"] - 1) if len(t) else [],
            y=t[f"d_psnr_{e}"] if len(t) else [],
            mode="markers+text",
            text=t["variant"] if len(t) else [],
            textposition="top center",
            hovertext=t["claim"] if len(t) else [],
            error_y={
                "type": "data",
                "array": (t[f"hi_psnr_{e}"] - t[f"d_psnr_{e}"]) if len(t) else [],
                "arrayminus": (t[f"d_psnr_{e}"] - t[f"lo_psnr_{e}"]) if len(t) else [],
            },
        )
    )
    fig.add_hline(y=0, line_dash="dot")
    fig.add_vline(x=0, line_dash="dot")
    fig.update_layout(
        title=f"Each variant against its control: PSNR change on {e} (95% interval over seeds) vs latency change",
        xaxis_title="latency change vs the control, timed side by side (%)",
        yaxis_title=f"PSNR difference on {e} (dB)",
    )
    return fig


def page_with_table(page: str, table_md: str) -> str:
    """``page`` with the text between the markers replaced by ``table_md``."""
    if START not in page or END not in page:
        raise ClaimsError(f"the results page has no {START} ... {END} markers around its claims table")
    head, rest = page.split(START, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{START}\n{table_md}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m reports.claims", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=Path, default=RUNS, help="folder of the specs' runs (experiments/shipped)")
    p.add_argument("--page", type=Path, default=PAGE, help="results page holding the table between markers")
    p.add_argument("--report", type=Path, default=Path("runs/claims"), help="offline page with the figure")
    p.add_argument("--claims", type=Path, default=CLAIMS, help="the claims file (experiments/claims.yaml)")
    p.add_argument("--specs", type=Path, default=SPECS, help="the specs it names (experiments/specs/parent)")
    p.add_argument("--check", action="store_true", help="only check that the page's table is current (exit 1)")
    args = p.parse_args(argv)
    try:
        table = claims_table(args.runs, args.claims, args.specs)
        evals = next(spec_meta(s, args.specs)["evals"] for s in table["spec"])
        page = page_with_table(args.page.read_text(), claims_markdown(table, evals))
    except (ClaimsError, FileNotFoundError) as e:
        p.error(str(e))
    if args.check:
        current = args.page.read_text() == page
        print(f"{args.page}: {'current' if current else 'out of date: run python -m reports.claims'}")
        return 0 if current else 1
    write_text(args.page, page)
    write_csv(table, CSV if args.page == PAGE else args.page.with_suffix(".csv"))
    figures = [claims_figure(table, e) for e in evals]
    report = write_page(args.report / "index.html", "The article's claims on children of the parent", figures=figures)
    print(f"page:   {args.page}\nreport: {report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
