"""``python -m search.fidelity``: how well does the search's proxy rank architectures?

A fixed-seed sample of feasible architectures, spread evenly over the parameter range under the budget,
is scored twice through the candidate pipeline: by the proxy (the search's per-trial training, set with
the same ``--proxy-*`` options as ``search.run``) and by a reference training several times longer
(``--ref-*``). The agreement of the two rankings - Kendall's tau and Spearman's rho with 95% bootstrap
intervals - is the proxy's fidelity. Every (architecture, settings) result is cached in
``OUT/results.jsonl``, so an interrupted run resumes and several proxies share one reference.

A reference that does not rise clearly above the 50/50 blend ranks noise; the command says how many
reference models did.

Examples:
    python -m search.fidelity --budget 0.5M --n 8
    python -m search.fidelity --budget 0.5M --n 8 --proxy-steps 1000 --proxy-crop 128 --proxy-synthetic-ratio 0.5
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from rife_core.cli.args import configure_output, parse_loss
from rife_core.cost.params import count_params
from rife_core.model.config import ArchConfig
from search.proxy import ProxySettings
from search.rank_stats import Agreement, rank_agreement
from space.budget import BudgetError, parse_count
from space.space import SearchSpace, SpaceError

log = logging.getLogger("search.fidelity")

CANDIDATES_PER_PICK = 20  # sample this many times N architectures, then pick N spread over the parameter range
ABOVE_BLEND_DB = 0.3  # a reference model "left the blend plateau" when this far above it (run-to-run noise)


def spread_sample(space: SearchSpace, budget: int, n: int, seed: int) -> list[ArchConfig]:
    """``n`` distinct feasible architectures at evenly spaced quantiles of parameter count (deterministic)."""
    pool: dict[str, ArchConfig] = {}
    for cfg in space.enumerate_sample(CANDIDATES_PER_PICK * n, seed=seed):
        if count_params(cfg) < budget:
            pool.setdefault(cfg.arch_id, cfg)
    if len(pool) < n:
        raise ValueError(f"only {len(pool)} distinct feasible architectures sampled; raise --budget or lower --n")
    ranked = sorted(pool.values(), key=lambda c: (count_params(c), c.arch_id))
    picks = sorted({round(i * (len(ranked) - 1) / (n - 1)) for i in range(n)}) if n > 1 else [len(ranked) // 2]
    return [ranked[i] for i in picks]


@dataclass
class ResultCache:
    """One JSON line per (arch_id, settings key): the PSNR and what it cost; appended as results arrive."""

    path: Path

    def load(self) -> dict[tuple[str, str], dict]:
        out = {}
        if self.path.is_file():
            for line in self.path.read_text().splitlines():
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:  # a line cut short by a kill: recomputed
                    continue
                out[(row["arch_id"], row["settings"])] = row
        return out

    def append(self, row: dict) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as f:
            f.write(json.dumps(row) + "\n")


def score(cfg: ArchConfig, settings: ProxySettings, cache: ResultCache, done: dict) -> dict:
    """Cached validation PSNR of ``cfg`` trained under ``settings`` (diverged runs are recorded as such)."""
    from search.candidate import CandidateFailed, run_candidate

    key = (cfg.arch_id, settings.key())
    if key in done:
        return done[key]
    t0 = time.perf_counter()
    try:
        result = run_candidate(cfg, settings)
        row = {"psnr": result.metrics["psnr"], "ssim": result.metrics["ssim"], "status": "completed"}
    except CandidateFailed as e:
        row = {"psnr": float("nan"), "ssim": float("nan"), "status": "diverged", "reason": str(e)}
    row.update(arch_id=cfg.arch_id, settings=key[1], seconds=time.perf_counter() - t0, params=count_params(cfg))
    cache.append(row)
    done[key] = row
    return row


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m search.fidelity", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--budget", required=True, help="parameter budget: 0.5M, 500k, 500000 or 5e5")
    p.add_argument("--n", type=int, default=8, help="architectures (default 8; at least 3)")
    p.add_argument("--out", type=Path, default=Path("runs/fidelity"))
    p.add_argument("--space", type=Path, default=None)
    p.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--data", action="append", default=None, metavar="SPEC")
    p.add_argument("--val-data", action="append", default=None, metavar="SPEC", help="e.g. large_motion:default")
    p.add_argument("--val-items", type=int, default=24)
    p.add_argument("--device", default="auto")
    for prefix, steps, crop, lr, syn in (("proxy", 300, 96, 2e-3, 0.0), ("ref", 1500, 128, 1e-3, 0.5)):
        what = "the proxy (as search.run)" if prefix == "proxy" else "the reference"
        p.add_argument(f"--{prefix}-steps", type=int, default=steps, help=f"training steps of {what} ({steps})")
        p.add_argument(f"--{prefix}-crop", type=int, default=crop, help=f"training crop ({crop})")
        p.add_argument(f"--{prefix}-batch", type=int, default=8)
        p.add_argument(f"--{prefix}-lr", type=float, default=lr, help=f"peak learning rate ({lr:g})")
        p.add_argument(f"--{prefix}-synthetic-ratio", type=float, default=syn, help=f"synthetic share ({syn:g})")
        p.add_argument(f"--{prefix}-loss", type=parse_loss, default={"l1": 1.0}, help="e.g. l1=1,distill=0.01")
    p.add_argument("--mlflow-uri", default=None, help="MLflow tracking URI (default: SQLite in --out)")
    return p


def settings_from(args: argparse.Namespace, prefix: str) -> ProxySettings:
    steps = getattr(args, f"{prefix}_steps")
    return ProxySettings(
        data=tuple(args.data or ("default",)),
        val_data=tuple(args.val_data) if args.val_data else None,
        steps=steps,
        crop=getattr(args, f"{prefix}_crop"),
        batch=getattr(args, f"{prefix}_batch"),
        lr=getattr(args, f"{prefix}_lr"),
        synthetic_ratio=getattr(args, f"{prefix}_synthetic_ratio"),
        loss=getattr(args, f"{prefix}_loss"),
        val_every=max(100, steps // 5),
        val_items=args.val_items,
        seed=args.seed,
        device=args.device,
    )


def log_to_mlflow(uri: str, args: argparse.Namespace, agreements: list[Agreement], files: list[Path]) -> None:
    from mlflow.tracking import MlflowClient

    from rife_core.cli.args import quiet_third_party_loggers

    quiet_third_party_loggers()  # MLflow sets its logger to INFO when imported
    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name("rife-nas-fidelity")
    exp_id = exp.experiment_id if exp else client.create_experiment("rife-nas-fidelity")
    run = client.create_run(exp_id, run_name=f"fidelity n={args.n}", tags={"kind": "fidelity"})
    for k, v in vars(args).items():
        client.log_param(run.info.run_id, k, str(v)[:500])
    for a in agreements:
        for suffix, v in (("", a.value), ("_low", a.low), ("_high", a.high)):
            client.log_metric(run.info.run_id, a.name + suffix, v)
    for f in files:
        client.log_artifact(run.info.run_id, str(f))
    client.set_terminated(run.info.run_id, "FINISHED")


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    configure_output()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the space sampler's in-memory study
    if args.n < 3:
        p.error("--n must be at least 3 (a rank correlation of fewer points says nothing)")
    try:
        budget = parse_count(args.budget)
        space = SearchSpace.load(args.space).fix(args.fix)
        proxy, ref = settings_from(args, "proxy"), settings_from(args, "ref")
        archs = spread_sample(space, budget, args.n, args.seed)
    except (BudgetError, SpaceError, ValueError) as e:
        p.error(str(e))
    from rife_core.evaluation.baselines import blend
    from rife_core.evaluation.evaluate import evaluate

    cache = ResultCache(args.out / "results.jsonl")
    done = cache.load()
    blend_psnr = evaluate(blend, proxy.val_set(), max_items=proxy.val_items, center=proxy.val_crop)["psnr"]
    log.info("%d architectures; blend %.2f dB on the validation triplets", len(archs), blend_psnr)
    rows, t0, jobs = [], time.perf_counter(), 2 * len(archs)
    for i, cfg in enumerate(archs):
        r = {"arch_id": cfg.arch_id, "params": count_params(cfg), "config_json": cfg.to_json()}
        for j, (name, settings) in enumerate((("proxy", proxy), ("reference", ref))):
            k = 2 * i + j + 1
            res = score(cfg, settings, cache, done)
            r[f"{name}_psnr"], r[f"{name}_seconds"] = res["psnr"], res["seconds"]
            elapsed = time.perf_counter() - t0
            log.info(
                "%d/%d  %s %s (%s params): %.2f dB  elapsed %.0fs  ETA %.0fs",
                k, jobs, name, cfg.arch_id, f"{r['params']:,}", res["psnr"], elapsed, elapsed / k * (jobs - k),
            )  # fmt: skip
        rows.append(r)
    df = pd.DataFrame(rows)
    ok = df.dropna(subset=["proxy_psnr", "reference_psnr"])
    agreements = rank_agreement(ok["proxy_psnr"], ok["reference_psnr"], seed=args.seed)
    above = int((ok["reference_psnr"] > blend_psnr + ABOVE_BLEND_DB).sum())
    summary = [
        *(str(a) for a in agreements),
        f"proxy {proxy.steps} steps at {proxy.crop}px, lr {proxy.lr:g}, synthetic {proxy.synthetic_ratio:g}, "
        f"loss {proxy.loss}: "
        f"PSNR {ok['proxy_psnr'].min():.2f}-{ok['proxy_psnr'].max():.2f} dB, "
        f"{ok['proxy_seconds'].sum() / len(ok):.0f} s per architecture",
        f"reference {ref.steps} steps at {ref.crop}px, lr {ref.lr:g}, synthetic {ref.synthetic_ratio:g}, "
        f"loss {ref.loss}: "
        f"PSNR {ok['reference_psnr'].min():.2f}-{ok['reference_psnr'].max():.2f} dB, "
        f"{ok['reference_seconds'].sum() / len(ok):.0f} s per architecture",
        f"{above} of {len(ok)} reference models are > {ABOVE_BLEND_DB} dB above the blend ({blend_psnr:.2f} dB)",
    ]
    if len(ok) < len(df):
        summary.append(f"{len(df) - len(ok)} architecture(s) diverged and are left out")
    args.out.mkdir(parents=True, exist_ok=True)
    csv = args.out / f"fidelity_{proxy.key()}_{ref.key()}.csv"
    df.to_csv(csv, index=False)
    (args.out / "summary.json").write_text(
        json.dumps({"proxy": proxy.result_settings(), "reference": ref.result_settings(), "blend_psnr": blend_psnr,
                    "agreement": [vars(a) for a in agreements], "references_above_blend": above, "n": len(ok)},
                   indent=1)
    )  # fmt: skip
    from reports.fidelity import write_fidelity_page

    page = write_fidelity_page(df, args.out / "fidelity.html", summary, blend_psnr)
    print("\n".join(summary))
    if above < len(ok):
        log.warning("some reference models did not leave the blend plateau: their ranks are noise; train longer")
    uri = args.mlflow_uri or f"sqlite:///{(args.out / 'mlflow.db').resolve()}"
    log_to_mlflow(uri, args, agreements, [csv, page])
    print(f"table: {csv}\npage:  {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
