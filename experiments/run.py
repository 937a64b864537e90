"""``python -m experiments.run SPEC``: a controlled ablation of one lightweight-RIFE idea.

Every variant of the spec is trained with each seed under the same recipe, data and evaluation; the
summary gives each variant's mean +- std (PSNR, SSIM, LPIPS on each eval set; parameters, MACs with the
warp share, latency) and each variant's paired difference to the control with its 95% interval and a
verdict. Re-running the command skips finished runs. Several specs run one after another, every one of
them checked before the first trains.

Examples:
    python -m experiments.run upsample                      # a shipped spec (experiments/specs/upsample.yaml)
    python -m experiments.run parent/trunk parent/warp --out experiments/shipped   # in turn
    python -m experiments.run my_spec.yaml --seeds 5 --set train.steps=2000
    python -m experiments.run warp --budget-scale 3 --device cuda
    python -m experiments.run my_spec.yaml --set parent=rife_v3_hd --set base=rife_v3_hd   # children of a parent
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from experiments.latency import measure_ratios
from experiments.runner import RunSettings, Tracker, baselines, check_served, load_spec_parent, run_ablation
from experiments.spec import AblationSpec, SpecError
from experiments.summary import summarize
from reports.build import ABLATION_TABLES, build
from results.files import write_csv, write_text
from rife_core.cli.args import configure_output, require_backbones
from rife_core.cost import measure_cost
from rife_core.data.frames import DataError
from rife_core.data.spec import parse_spec
from rife_core.model.parents import ParentUnavailable
from search.tracking import ui_hint

log = logging.getLogger("experiments")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m experiments.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("spec", nargs="+", help="spec YAMLs or names of shipped specs (experiments/specs/), run in turn")
    p.add_argument("--seeds", type=int, default=None, help="seeds of variants without their own (default: the spec's)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a spec key; repeatable")
    p.add_argument("--budget-scale", type=float, default=1.0, help="multiply every training budget (default 1)")
    p.add_argument("--out", type=Path, default=Path("runs/ablations"), help="output folder (runs/ablations)")
    p.add_argument("--no-lpips", action="store_true", help="skip LPIPS (needs the backbone weights)")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument("--mlflow-uri", default=None, help="MLflow tracking URI (default: SQLite in --out)")
    p.add_argument(
        "--costs", action="store_true", help="only print each variant's params, MACs and latency (torch, onnxruntime)"
    )
    p.add_argument("--threads", type=int, default=2, help="intra-op threads for --costs latencies (2)")
    return p


def print_costs(spec, threads: int) -> None:
    """Each variant's params, MACs and latency on both backends at the spec's size, measured in one run."""

    h, w = spec.size
    head = f"{'variant':<24}{'params':>10}{'GMACs':>8}{'warp%':>7}{'torch ms':>10}{'ort ms':>9}"
    print(f"{head}  ({h}x{w}, {threads} threads)")
    for v in spec.variants:
        t = measure_cost(v.arch, spec.size, repeats=10, threads=threads)
        o = measure_cost(v.arch, spec.size, repeats=10, threads=threads, backend="onnxruntime")
        print(
            f"{v.name:<24}{t.params:>10,}{t.macs / 1e9:>8.3f}{100 * t.warp_share:>6.1f}%{t.latency_ms:>10.1f}"
            f"{o.latency_ms:>9.1f}"
        )


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    configure_output()
    if args.budget_scale <= 0:
        p.error("--budget-scale must be positive")
    overrides = list(args.set) + ([f"seeds={args.seeds}"] if args.seeds is not None else [])
    specs = [checked_spec(p, path, overrides) for path in args.spec]  # every spec checked before any trains
    if not args.no_lpips:
        require_backbones(p, {"alex"}, "pass --no-lpips")
    for spec, served in specs:
        require_backbones(
            p,
            {b for v in spec.variants for b in v.train_config(0, (), parent=spec.start.parent).backbones()},
            f"change the loss of {spec.name}",
        )
        for name, how in served.items():
            log.info("%s: variant %s: %s", spec.name, name, how)
    if args.costs:
        for spec, _ in specs:
            print_costs(spec, args.threads)
        return 0
    settings = RunSettings(budget_scale=args.budget_scale, lpips=not args.no_lpips, device=args.device)
    for k, (spec, _) in enumerate(specs, 1):
        if len(specs) > 1:
            log.info("spec %d/%d: %s", k, len(specs), spec.name)
        code = run_spec(spec, args, settings)
        if code:
            return code
    return 0


def checked_spec(p: argparse.ArgumentParser, path: str, overrides: list[str]) -> tuple[AblationSpec, dict[str, str]]:
    """The spec read, its data parsed and its variants served by its parent (or ``p.error``: exit 2)."""
    try:
        spec = AblationSpec.read(path, overrides)
        for v in spec.variants:
            for s in v.data:
                parse_spec(s)
        for e in spec.evals:
            parse_spec(e.data)
        return spec, check_served(spec)
    except (SpecError, DataError, ParentUnavailable) as e:
        p.error(str(e))


def run_spec(spec: AblationSpec, args: argparse.Namespace, settings: RunSettings) -> int:
    """Train what ``args.out`` lacks of ``spec``, time it side by side, write its summary and report."""
    log.info(
        "ablation %s: %d variants, %s seeds = %d runs; control %s",
        spec.name,
        len(spec.variants),
        "/".join(str(v.seeds) for v in spec.variants),
        len(spec.jobs()),
        spec.control,
    )
    try:
        parent = load_spec_parent(spec)  # once per spec
        blend = baselines(spec)
        rows = run_ablation(spec, args.out, settings, tracking_uri=args.mlflow_uri, parent=parent)
    except (DataError, ParentUnavailable) as e:
        log.error("%s", e)
        return 2
    folder = args.out / spec.name
    latency = measure_ratios(spec, folder)  # side by side, after the trainings: nothing else shares the cores
    summary = summarize(spec, rows, blend, latency)
    write_csv(summary.variants, folder / "variants.csv")
    write_csv(summary.differences, folder / "differences.csv")
    text = (
        f"# Ablation: {spec.name}\n\n{spec.idea}\n\nblend: "
        + ", ".join(f"{s} {b:.2f} dB" for s, b in blend.items())
        + "\n\n"
        + summary.markdown()
        + "\n"
    )
    write_text(folder / "summary.md", text)
    write_text(folder / "blend.json", json.dumps(blend))

    uri = args.mlflow_uri or f"sqlite:///{(args.out / 'mlflow.db').resolve()}"

    report = build(folder)
    tracker = Tracker(uri, spec, args.out / "mlartifacts")
    tracker.finish([folder / name for name in ABLATION_TABLES], report.parent)
    print(text)
    print(f"summary: {folder / 'summary.md'}\nreport:  {report}\nMLflow:  {ui_hint(uri, tracker.exp_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
