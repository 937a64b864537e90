"""``python -m reports.build SOURCE``: a self-contained report folder from a search or an ablation.

SOURCE is a search's output folder (``trials.csv``, ``baselines.json``), an ablation's folder
(``runs.jsonl``, ``differences.csv``), a ``fidelity.run`` folder (``summary.json``, ``fidelity_*.csv``),
an ``experiments.samplers`` folder (``samplers.json``, hypervolume tables), or a results CSV in the
search's table format. Instead of SOURCE, a study is found by name in any Optuna storage (``--storage URL
--study NAME``) and an ablation by name in an MLflow store (``--mlflow-uri URI --ablation NAME``: its
parent run's logged tables). The report folder holds ``index.html`` (works offline:
plotly.js is written beside it once), and every table as CSV and Markdown. Needs pandas and plotly (and
Optuna or MLflow to read those stores); no torch.

Examples:
    python -m reports.build runs/search                  # -> runs/search/report/index.html
    python -m reports.build runs/ablations/upsample --out report_upsample
    python -m reports.build trials.csv
    python -m reports.build --storage postgresql://host/db --study rife-nas-0.5M --out report_study
    python -m reports.build --mlflow-uri sqlite:///runs/ablations/mlflow.db --ablation upsample --out report_up
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go

from reports import figures
from reports.fidelity import fidelity_figure
from reports.hypervolume import hypervolume_over_trials
from reports.page import write_page
from reports.pareto import front_figure
from results.files import read_jsonl, write_csv, write_text
from results.schema import ABOVE_BLEND_DB
from results.study_table import StorageError, open_storage, results_table

REF_BELOW_BLEND_DB = 1.0  # hypervolume reference point: blend PSNR minus this ...
REF_MACS_FACTOR = 1.1  # ... and the largest MACs of the study times this


class ReportError(ValueError):
    """A source the builder cannot read; the message says what it expected."""


def study_report(
    trials: pd.DataFrame, baselines: dict[str, float], baseline_latency: dict[str, dict[str, float]] | None = None
) -> tuple[list[go.Figure], dict[str, pd.DataFrame]]:
    df = trials.copy()
    figs = []
    for cost in ("macs", "latency_ms", "latency_dis"):
        for quality in figures.QUALITY:
            if {cost, quality} <= set(df.columns) and df[quality].notna().any() and df[cost].notna().any():
                figs.append(front_figure(df, cost, quality, baselines, baseline_latency=baseline_latency))
    done = df[df["state"] == "COMPLETE"].dropna(subset=["psnr", "macs"]).sort_values("trial")
    blend = next((v for k, v in baselines.items() if k.startswith("blend")), None)
    if len(done) and blend is not None:
        ref = (blend - REF_BELOW_BLEND_DB, float(done["macs"].max()) / 1e9 * REF_MACS_FACTOR)
        points = list(zip(-done["psnr"], done["macs"] / 1e9, strict=True))
        hv = hypervolume_over_trials(points, (-ref[0], ref[1]))
        curve = pd.DataFrame({"study": "this study", "trial": range(1, len(hv) + 1), "hypervolume": hv})
        figs.append(figures.hypervolume_figure(curve, ref))
    if "curve" in df and df["curve"].notna().any():
        figs.append(figures.search_curves_figure(df, baselines))
    effects = figures.dimension_effects(df)
    if len(effects):
        figs.append(figures.effects_figure(effects))
    if (df["state"] == "COMPLETE").sum() >= 2 and "config_json" in df:
        figs.append(figures.parallel_figure(df))
    table = df.drop(columns=[c for c in ("config_json", "curve") if c in df])
    if "macs" in table:
        table.insert(table.columns.get_loc("macs"), "GMACs", (table.pop("macs") / 1e9).round(3))
    tables = {"trials": table, "front": table[table["pareto"].astype(bool)] if "pareto" in table else table.iloc[0:0]}
    if len(effects):
        tables["dimension_effects"] = effects.rename_axis("dimension").reset_index(name="share_of_variance")
    return figs, tables


def ablation_report(folder: Path) -> tuple[list[go.Figure], dict[str, pd.DataFrame], str]:
    runs = pd.DataFrame(read_jsonl(folder / "runs.jsonl"))
    diffs = pd.read_csv(folder / "differences.csv") if (folder / "differences.csv").is_file() else pd.DataFrame()
    variants = pd.read_csv(folder / "variants.csv") if (folder / "variants.csv").is_file() else pd.DataFrame()
    control = next((v.replace(" (control)", "") for v in variants.get("variant", []) if "(control)" in v), "")
    metrics = [c for c in runs.columns if "@" in c]
    figs = [figures.ablation_figure(runs, m, control) for m in metrics]
    if "history" in runs and runs["history"].notna().any():
        figs.append(figures.ablation_curves_figure(runs, control))
    if len(diffs):
        figs += [figures.differences_figure(diffs, m) for m in diffs["metric"].unique()]
    notes = (folder / "summary.md").read_text() if (folder / "summary.md").is_file() else ""
    return (
        figs,
        {"variants": variants, "differences": diffs, "runs": runs.drop(columns=["history"], errors="ignore")},
        notes,
    )


def fidelity_report(folder: Path) -> tuple[list[go.Figure], dict[str, pd.DataFrame], str]:
    """The latest fidelity table of a ``fidelity.run`` folder, scatter and agreement lines."""

    summary = json.loads((folder / "summary.json").read_text())
    name = f"fidelity_{summary['proxy_key']}_" if "proxy_key" in summary else "fidelity_"
    csv = max(folder.glob(f"{name}*.csv"), key=lambda p: p.stat().st_mtime)
    df = pd.read_csv(csv)
    notes = (
        "\n".join(
            f"{a['name']} {a['value']:+.2f} [{a['low']:+.2f}, {a['high']:+.2f}] (95% bootstrap, n={a['n']})"
            for a in summary.get("agreement", [])
        )
        + f"\nreference models > {ABOVE_BLEND_DB} dB above the blend: "
        + f"{summary.get('references_above_blend')} of {summary.get('n')}"
    )
    fig = fidelity_figure(df, summary.get("blend_psnr"), f"Proxy vs reference ({csv.name})")
    return [fig], {"architectures": df.drop(columns=["config_json"], errors="ignore")}, notes


def sampler_report(folder: Path) -> tuple[list[go.Figure], dict[str, pd.DataFrame], str]:
    """An ``experiments.samplers`` folder: hypervolume over trials of every study, final hypervolumes."""
    meta = json.loads((folder / "samplers.json").read_text())
    reference = tuple(meta["reference"])
    curves = pd.read_csv(folder / "hypervolume_over_trials.csv")
    curves["study"] = curves["sampler"] + " seed " + curves["seed"].astype(str)
    final = pd.read_csv(folder / "hypervolume_final.csv")
    figs = [figures.hypervolume_figure(curves, reference), figures.sampler_figure(final, reference)]
    notes = (folder / "summary.md").read_text() if (folder / "summary.md").is_file() else ""
    return figs, {"final_hypervolume": final}, notes


def write_report(
    figs: list[go.Figure], tables: dict[str, pd.DataFrame], out: Path, title: str, notes: str = ""
) -> Path:
    """``out/index.html`` with the figures and tables, and every table as CSV and Markdown beside it."""
    out.mkdir(parents=True, exist_ok=True)
    for name, t in tables.items():
        write_csv(t, out / f"{name}.csv")
        write_text(out / f"{name}.md", t.to_markdown(index=False, floatfmt=".4g") + "\n")
    return write_page(out / "index.html", title, figures=figs, tables=tables, notes=notes)


def build(source: Path, out: Path | None = None) -> Path:
    """Write the report of ``source`` (see the module docstring); returns its ``index.html``."""
    if source.is_dir() and (source / "runs.jsonl").is_file():
        figs, tables, notes = ablation_report(source)
        return write_report(figs, tables, out or source / "report", f"rife-nas ablation: {source.name}", notes)
    if source.is_dir() and (source / "summary.json").is_file() and list(source.glob("fidelity_*.csv")):
        figs, tables, notes = fidelity_report(source)
        return write_report(figs, tables, out or source / "report", f"rife-nas proxy fidelity: {source.name}", notes)
    if source.is_dir() and (source / "samplers.json").is_file():
        figs, tables, notes = sampler_report(source)
        title = f"rife-nas sampler comparison: {source.name}"
        return write_report(figs, tables, out or source / "report", title, notes)
    if source.is_dir() and (source / "trials.csv").is_file():
        trials = pd.read_csv(source / "trials.csv")
        baselines, timing = (_json(source / f) for f in ("baselines.json", "baseline_latency.json"))
        figs, tables = study_report(trials, baselines, timing)
        if (source / "retrain.csv").is_file() and (source / "retrain_baselines.csv").is_file():
            members, retrain_base = (pd.read_csv(source / f) for f in ("retrain.csv", "retrain_baselines.csv"))
            figs += [
                figures.time_quality_figure(members, retrain_base, c) for c in members if c.startswith("test_psnr ")
            ]
            tables.update(retrained=members, retrain_baselines=retrain_base)
        return write_report(figs, tables, out or source / "report", f"rife-nas search: {source.name}")
    if source.is_file() and source.suffix == ".csv":
        trials = pd.read_csv(source)
        if not {"trial", "state", "psnr", "macs"} <= set(trials.columns):
            raise ReportError(f"{source}: not a search results table (needs trial, state, psnr, macs columns)")
        figs, tables = study_report(trials, {})
        return write_report(figs, tables, out or source.with_suffix(""), f"rife-nas search: {source.stem}")
    raise ReportError(
        f"{source}: give a search folder (with trials.csv), an ablation folder (with runs.jsonl) or a results CSV"
    )


ABLATION_TABLES = ("runs.jsonl", "summary.md", "variants.csv", "differences.csv")


def study_from_storage(url: str, name: str, folder: Path) -> Path:
    """Write the study's results table and baselines into ``folder`` (a search folder for ``build``)."""
    import optuna

    try:
        storage = open_storage(url)
    except StorageError as e:
        raise ReportError(str(e)) from e
    try:
        study = optuna.load_study(study_name=name, storage=storage)
    except KeyError as e:
        names = optuna.get_all_study_names(storage)
        raise ReportError(f"no study {name!r} in {url}; studies there: {', '.join(names) or 'none'}") from e
    folder.mkdir(parents=True, exist_ok=True)
    write_csv(results_table(study), folder / "trials.csv")
    write_text(folder / "baselines.json", json.dumps(study.user_attrs.get("baselines", {})))
    write_text(folder / "baseline_latency.json", json.dumps(study.user_attrs.get("baseline_latency", {})))
    return folder


def _json(path: Path) -> dict:
    """The JSON object in ``path``; empty where there is none (a search from before it was written)."""
    return json.loads(path.read_text()) if path.is_file() else {}


def ablation_from_mlflow(uri: str, name: str, folder: Path) -> Path:
    """Download an ablation's tables from its MLflow parent run into ``folder`` (an ablation folder)."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("rife-nas-ablations")
    found = (
        client.search_runs([exp.experiment_id], f"tags.kind = 'ablation' and tags.ablation = '{name}'")
        if exp is not None and "'" not in name
        else []
    )
    if not found:
        raise ReportError(f"no ablation {name!r} in the MLflow store {uri} (experiment rife-nas-ablations)")
    run_id = found[0].info.run_id
    logged = {a.path for a in client.list_artifacts(run_id)}
    if "runs.jsonl" not in logged:
        raise ReportError(
            f"ablation {name!r} in {uri} has no runs.jsonl logged (it finished before the runner logged it): "
            "build from its folder instead, or re-run the ablation command (finished runs are skipped)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    for table in ABLATION_TABLES:
        if table in logged:
            client.download_artifacts(run_id, table, str(folder))
    return folder


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m reports.build", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("source", type=Path, nargs="?", help="a search, ablation or fidelity folder, or a results CSV")
    p.add_argument("--out", type=Path, default=None, help="report folder (default: SOURCE/report)")
    p.add_argument("--storage", help="Optuna storage URL holding the study named by --study")
    p.add_argument("--study", help="study name in --storage")
    p.add_argument("--mlflow-uri", help="MLflow tracking URI holding the ablation named by --ablation")
    p.add_argument("--ablation", help="ablation name in --mlflow-uri")
    args = p.parse_args(argv)
    by_study, by_ablation = bool(args.storage or args.study), bool(args.mlflow_uri or args.ablation)
    if sum((args.source is not None, by_study, by_ablation)) != 1:
        p.error("give one of: SOURCE, --storage URL --study NAME, or --mlflow-uri URI --ablation NAME")
    if (by_study and not (args.storage and args.study)) or (by_ablation and not (args.mlflow_uri and args.ablation)):
        p.error("--storage needs --study (and --mlflow-uri needs --ablation): a store and a name in it")
    try:
        if by_study:
            out = args.out or Path("runs") / "reports" / args.study
            index = build(study_from_storage(args.storage, args.study, out / args.study), out)
        elif by_ablation:
            out = args.out or Path("runs") / "reports" / args.ablation
            index = build(ablation_from_mlflow(args.mlflow_uri, args.ablation, out / args.ablation), out)
        else:
            index = build(args.source, args.out)
    except ReportError as e:
        p.error(str(e))
    print(f"report: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
