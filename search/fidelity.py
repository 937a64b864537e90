"""``python -m search.fidelity``: how well does the search's proxy rank architectures?

The architectures of the reference table (``search.reference``: trained by one recipe with several seeds)
are scored by the proxy (the search's per-trial training, set with the same ``--proxy-*`` options as
``search.run``, or inherited supernet weights) through the candidate pipeline. The agreement of the two
rankings - Kendall's tau and Spearman's rho with 95% bootstrap intervals - is the proxy's fidelity; the
table's own seed-vs-seed tau, printed beside it, is the ceiling no proxy can pass. ``--reference train``
trains a reference here instead (``--ref-*``) on a fixed-seed spread sample. Every (architecture, settings)
result is cached in ``OUT/results.jsonl``, so an interrupted run resumes.

A reference that does not rise clearly above the 50/50 blend ranks noise; the command says how many
reference models did.

Examples:
    python -m search.fidelity --budget 0.5M                      # against the shipped reference table
    python -m search.fidelity --budget 0.5M --proxy-seeds 0,1 --proxy-statistic tail
    python -m search.fidelity --budget 0.5M --proxy-strategy oneshot --finetune-steps 200
    python -m search.fidelity --budget 0.5M --reference train --n 8   # a reference trained here (--ref-*)
    python -m search.fidelity --budget 0.5M --reference train --n 8 --jobs 8 --device cuda   # several trainings at once
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from reports.fidelity import write_fidelity_page
from results.files import JsonlCache, content_key, write_csv, write_text
from results.schema import ABOVE_BLEND_DB
from rife_core.cli.args import configure_output
from rife_core.cost.params import count_params
from rife_core.data.cache import cache_dir
from rife_core.data.torch_data import default_workers
from rife_core.model.config import ArchConfig
from rife_core.model.parents import resolve_parent
from search.candidate import SEEDED, CandidateFailed, Inherited, Sliced, Start, run_candidate
from search.oneshot import SupernetSettings, supernet_path, train_supernet
from search.proxy import ProxySettings, large_motion
from search.rank_stats import Agreement, rank_agreement, seed_agreement
from search.reference import TABLE, default_recipe, evaluation_sets, read_table, recipe_of
from search.sampling import spread_sample
from search.settings import add_options, from_options
from search.tracking import MlflowWriter
from space.budget import BudgetError, parse_count
from space.space import SearchSpace, SpaceError

log = logging.getLogger("search.fidelity")

TRAINING = {"steps", "crop", "batch", "lr", "synthetic_ratio", "loss"}  # the proxy/reference options
REFERENCE_STEPS = 2000
TAIL = 3  # validations averaged by --proxy-statistic tail
# --reference-split: the reference table's column that ranks the architectures
SPLIT_COLUMNS = {"lm": "psnr_lm", "val": "psnr_val", "test": "psnr_test"}


def result_cache(path: Path) -> JsonlCache:
    """``results.jsonl``: one line per (arch_id, settings key), the PSNR and what it cost."""
    return JsonlCache(path, lambda row: (row["arch_id"], row["settings"]))


def row_key(settings: ProxySettings, parent: str | None) -> str:
    """What a cached row was scored under: the settings, and the parent its candidate was sliced from."""
    return settings.key() if parent is None else content_key([settings.key(), parent])


@cache
def _sliced(parent: str, importance: str) -> Sliced:
    """One start per process and parent: the parent is loaded and its importance computed once."""
    return Sliced(resolve_parent(parent), importance=importance)


def train_row(cfg: ArchConfig, settings: ProxySettings, parent: str | None = None) -> dict:
    """Train ``cfg`` under ``settings`` from weights sliced from ``parent`` (None: its seeded initialisation):
    the row to cache (a worker's job). The search's candidate pipeline, without the cost probes.
    """
    t0 = time.perf_counter()
    start: Start = SEEDED if parent is None else _sliced(parent, settings.importance)
    try:
        res = run_candidate(cfg, settings.train_config(parent=parent), start=start, device=settings.device)
        row = {"psnr": res.metrics["psnr"], "ssim": res.metrics["ssim"], "status": "completed"}
        history = res.history
    except CandidateFailed as e:
        assert e.trained is not None
        row = {"psnr": float("nan"), "ssim": float("nan"), "status": e.trained.status, "reason": str(e)}
        history = e.trained.history
    row["history"] = [[h["step"], round(h["psnr"], 3)] for h in history]
    row.update(
        arch_id=cfg.arch_id,
        settings=row_key(settings, parent),
        seconds=time.perf_counter() - t0,
        params=count_params(cfg),
    )
    return row


def _init_worker(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    configure_output()


def train_rows(
    jobs: list[tuple[ArchConfig, ProxySettings]],
    cache: JsonlCache,
    done: dict,
    n_jobs: int,
    parent: str | None = None,
) -> None:
    """Train every (arch, settings) not yet in ``done``, ``n_jobs`` at a time, sliced from ``parent`` where
    there is one; cache each row as it arrives."""
    todo = [(c, s) for c, s in jobs if (c.arch_id, row_key(s, parent)) not in done]
    t0 = time.perf_counter()

    def record(k: int, row: dict) -> None:
        cache.append(row)
        done[(row["arch_id"], row["settings"])] = row
        elapsed = time.perf_counter() - t0
        log.info(
            "%d/%d  %s (%s params, settings %s): %.2f dB  elapsed %.0fs  ETA %.0fs",
            k,
            len(todo),
            row["arch_id"],
            f"{row['params']:,}",
            row["settings"],
            row["psnr"],
            elapsed,
            elapsed / k * (len(todo) - k),
        )

    if n_jobs <= 1:
        for k, (cfg, settings) in enumerate(todo, 1):
            record(k, train_row(cfg, settings, parent))
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    cores = os.cpu_count() or 2
    loader_workers = max(0, min(default_workers(), cores // n_jobs - 1))
    with ProcessPoolExecutor(n_jobs, mp.get_context("spawn"), _init_worker, (max(1, cores // n_jobs),)) as pool:
        futures = [pool.submit(train_row, c, replace(s, workers=loader_workers), parent) for c, s in todo]
        for k, f in enumerate(as_completed(futures), 1):
            record(k, f.result())


def oneshot_rows(
    archs: list[ArchConfig],
    space: SearchSpace,
    budget: int,
    sn: SupernetSettings,
    proxy: ProxySettings,
    finetune_steps: int,
    cache: JsonlCache,
    done: dict,
) -> tuple[str, str]:
    """Score ``archs`` with weights inherited from the supernet of ``sn`` (trained once, cached).

    Returns the results' settings key and what the supernet's training cost.
    """

    key = f"oneshot-{sn.key(space, budget)}-s{sn.steps}-ft{finetune_steps}-{proxy.key()}"
    supernet = None
    for cfg in archs:
        if (cfg.arch_id, key) in done:
            continue
        if supernet is None:
            supernet = train_supernet(space, budget, sn, cache_dir() / "supernet")
        t0 = time.perf_counter()
        finetune = proxy.train_config(finetune_steps) if finetune_steps else None
        try:
            res = run_candidate(
                cfg,
                proxy.train_config(),
                start=Inherited(supernet, finetune),
                validation=proxy.evaluation(),
                device=proxy.device,
            )
            row = {"psnr": res.metrics["psnr"], "ssim": res.metrics["ssim"], "status": "completed"}
            row["history"] = [[h["step"], round(h["psnr"], 3)] for h in res.history]
        except CandidateFailed as e:
            row = {"psnr": float("nan"), "ssim": float("nan"), "status": "diverged", "reason": str(e)}
        row.update(arch_id=cfg.arch_id, settings=key, seconds=time.perf_counter() - t0, params=count_params(cfg))
        cache.append(row)
        done[(cfg.arch_id, key)] = row
        log.info("oneshot %s (%s params): %.2f dB", cfg.arch_id, f"{row['params']:,}", row["psnr"])
    return key, supernet_cost(space, budget, sn)


def supernet_cost(space: SearchSpace, budget: int, sn: SupernetSettings) -> str:
    """Training time and device recorded in the cached supernet."""
    import torch

    path = supernet_path(cache_dir() / "supernet", space, budget, sn)
    meta = torch.load(path, map_location="cpu", weights_only=True)["meta"] if path.is_file() else {}
    if "train_seconds" not in meta:
        return "training time not recorded"
    return f"{meta['train_seconds']:.0f} s once, on {meta['settings'].get('device', '?')}"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m search.fidelity", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--budget", required=True, help="parameter budget: 0.5M, 500k, 500000 or 5e5")
    p.add_argument(
        "--n",
        type=int,
        default=None,
        help="architectures (default: the table's, or 8 with --reference train)",
    )
    p.add_argument(
        "--reference",
        default="table",
        choices=("table", "train"),
        help="table: rank against the shipped reference table (default); train: train a reference with --ref-*",
    )
    p.add_argument("--table", type=Path, default=None, help="the reference table (default: the shipped one)")
    p.add_argument("--reference-recipe", default=None, help="the table's recipe hash (default: search.reference's)")
    p.add_argument(
        "--reference-split",
        default="lm",
        choices=tuple(SPLIT_COLUMNS),
        help="the table's score that ranks: lm (the large-motion validation, what the proxy validates on; "
        "default), val (the whole validation split) or test (the test split)",
    )
    p.add_argument(
        "--proxy-seeds", default=None, help="comma-separated seeds whose proxy scores are averaged (default: --seed)"
    )
    p.add_argument(
        "--proxy-statistic",
        default="final",
        choices=("final", "tail"),
        help=f"a proxy score: the final validation, or the mean of the last {TAIL} (default final)",
    )
    p.add_argument(
        "--out", type=Path, default=Path("runs/fidelity"), help="output folder (its results.jsonl is the cache)"
    )
    p.add_argument("--space", type=Path, default=None, help="a search-space YAML (default: the built-in space)")
    p.add_argument("--fix", action="append", default=[], metavar="NAME=VALUE", help="fix a dimension; repeatable")
    add_options(p, ProxySettings, only={"data", "val_data", "val_items", "seed", "device"})
    add_options(p.add_argument_group("the proxy (as search.run)"), ProxySettings, "proxy", only=TRAINING)
    ref = p.add_argument_group("the reference the proxy is ranked against")
    add_options(ref, ProxySettings, "ref", only=TRAINING, defaults={"steps": REFERENCE_STEPS})
    p.add_argument(
        "--proxy-strategy",
        default="train",
        choices=("train", "oneshot"),
        help="train: each architecture from scratch with --proxy-*; oneshot: weights inherited from a supernet",
    )
    add_options(p.add_argument_group("one-shot (as search.run)"), SupernetSettings, "supernet")
    p.add_argument("--finetune-steps", type=int, default=0, help="oneshot: proxy steps from inherited weights (0)")
    p.add_argument("--jobs", type=int, default=1, help="trainings at once, in worker processes (default 1)")
    p.add_argument("--mlflow-uri", default=None, help="MLflow tracking URI (default: SQLite in --out)")
    return p


def settings_from(args: argparse.Namespace, prefix: str) -> ProxySettings:
    """The proxy (``prefix`` "proxy") or the reference ("ref") the options describe; PSNR only (no LPIPS)."""
    data = tuple(args.data or ProxySettings.data)
    val_data = tuple(args.val_data) if args.val_data else large_motion(data)
    settings = from_options(ProxySettings, args, prefix, data=data, val_data=val_data, lpips=False)
    return replace(settings, val_every=max(100, settings.steps // 5))


def supernet_from(args: argparse.Namespace, proxy: ProxySettings) -> SupernetSettings:
    """The supernet ``search.run --strategy oneshot`` trains with the same options (batch and loss: the proxy's)."""
    return from_options(SupernetSettings, args, "supernet").following(proxy)


def describe_proxy(args: argparse.Namespace, proxy: ProxySettings, sn_cost: str) -> str:
    if args.proxy_strategy == "oneshot":
        return (
            f"one-shot: supernet {args.supernet_rule}, step {args.supernet_steps} at {args.supernet_crop}px, "
            f"lr {args.supernet_lr:g}, synthetic {args.supernet_synthetic_ratio:g} ({sn_cost}), "
            f"inherited weights + {args.finetune_steps} fine-tune steps"
        )
    return (
        f"proxy {proxy.steps} steps at {proxy.crop}px, lr {proxy.lr:g}, synthetic {proxy.synthetic_ratio:g}, "
        f"loss {proxy.loss}"
    )


def log_to_mlflow(
    uri: str, args: argparse.Namespace, agreements: list[Agreement], files: list[Path], keys: tuple[str, str]
) -> None:
    """The fidelity of one (proxy, reference) pair as one run, found again when the same pair is re-run."""

    def describe(client: Any, run_id: str) -> None:
        for k, v in vars(args).items():
            client.log_param(run_id, k, str(v)[:500])

    tags = {"kind": "fidelity", "proxy_key": keys[0], "reference_key": keys[1], "n": str(args.n)}
    writer = MlflowWriter(
        uri,
        "rife-nas-fidelity",
        tags,
        f"fidelity n={args.n}",
        artifacts=args.out / "mlartifacts",
        on_new_parent=describe,
    )
    for a in agreements:
        for suffix, v in (("", a.value), ("_low", a.low), ("_high", a.high)):
            writer.client.log_metric(writer.parent_id, a.name + suffix, v)
    for f in files:
        writer.client.log_artifact(writer.parent_id, str(f))
    writer.finish()


def proxy_score(rows: list[dict], statistic: str) -> float:
    """An architecture's proxy score: the mean over its seeds' rows of the final validation ("final") or
    of the mean of the last ``TAIL`` validations ("tail")."""
    values = []
    for row in rows:
        if statistic == "tail" and row.get("history"):
            values.append(sum(h[1] for h in row["history"][-TAIL:]) / len(row["history"][-TAIL:]))
        else:
            values.append(row["psnr"])
    return float(sum(values) / len(values))


def reference_from_table(args: argparse.Namespace, space: SearchSpace, budget: int) -> tuple[pd.DataFrame, str]:
    """The table's rows of the asked recipe (default: the one ``search.reference`` builds by default)."""
    args.table = args.table or TABLE
    table = read_table(args.table)
    key = args.reference_recipe or default_recipe().key(space, budget)
    rows = table[table["recipe"] == key]
    if rows.empty:
        known = ", ".join(sorted(set(table["recipe"]))) or "none"
        raise ValueError(
            f"{args.table} has no rows of recipe {key} (recipes there: {known}); build them with "
            "python -m search.reference, or pass --reference-recipe"
        )
    return rows, key


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    configure_output()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the space sampler's in-memory study
    n = args.n or (None if args.reference == "table" else 8)
    if n is not None and n < 3:
        p.error("--n must be at least 3 (a rank correlation of fewer points says nothing)")
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    try:
        budget = parse_count(args.budget)
        space = SearchSpace.load(args.space).fix(args.fix)
        proxy, ref = settings_from(args, "proxy"), settings_from(args, "ref")
        if args.proxy_strategy == "oneshot" and space.parent is not None:
            raise ValueError(
                f"--proxy-strategy oneshot: no supernet holds the children of the parent {space.parent}; pass "
                "--space space/v4_space.yaml for the v4-style supernet"
            )
        seeds = [int(x) for x in args.proxy_seeds.split(",")] if args.proxy_seeds else [proxy.seed]
        if args.reference == "table":
            ref_rows, ref_key = reference_from_table(args, space, budget)
            by_id = {
                a: ArchConfig.from_json(j) for a, j in zip(ref_rows["arch_id"], ref_rows["config_json"], strict=True)
            }
            archs = sorted(by_id.values(), key=lambda c: (count_params(c), c.arch_id))
            if n is not None:
                archs = archs[:n]
        else:
            assert n is not None
            archs = spread_sample(space, budget, n, args.seed)
            ref_key = ref.key()
    except (BudgetError, SpaceError, ValueError) as e:
        p.error(str(e))

    cache = result_cache(args.out / "results.jsonl")
    done = cache.load()
    blend_psnr = proxy.evaluation().blend_psnr()
    log.info("%d architectures; blend %.2f dB on the validation triplets", len(archs), blend_psnr)
    ref_blend = reference_blend(args, ref, ref_key)
    proxies = [replace(proxy, seed=x) for x in seeds]
    if args.reference == "train":
        train_rows([(c, ref) for c in archs], cache, done, args.jobs, space.parent)
        ref_key = row_key(ref, space.parent)
    sn_cost = ""
    if args.proxy_strategy == "train":
        train_rows([(c, pr) for pr in proxies for c in archs], cache, done, args.jobs, space.parent)
        proxy_keys = [row_key(pr, space.parent) for pr in proxies]
    else:
        sn = supernet_from(args, proxy)  # one supernet, whatever the fine-tune's seed
        proxy_keys = []
        for pr in proxies:
            # the supernet of the space before --fix: its subnets include the fixed space's
            base = SearchSpace.load(args.space)
            key, sn_cost = oneshot_rows(archs, base, budget, sn, pr, args.finetune_steps, cache, done)
            proxy_keys.append(key)
    one_score = len(proxy_keys) == 1 and args.proxy_statistic == "final"  # the row's own key names it
    proxy_key = proxy_keys[0] if one_score else content_key([*proxy_keys, args.proxy_statistic])
    rows = []
    for cfg in archs:
        r = {"arch_id": cfg.arch_id, "params": count_params(cfg), "config_json": cfg.to_json()}
        mine = [done[(cfg.arch_id, k)] for k in proxy_keys]
        r["proxy_psnr"] = proxy_score(mine, args.proxy_statistic)
        r["proxy_seconds"] = sum(m["seconds"] for m in mine)
        if args.reference == "table":
            own = ref_rows[ref_rows["arch_id"] == cfg.arch_id]
            column = SPLIT_COLUMNS[args.reference_split]
            r["reference_psnr"], r["reference_seconds"] = own[column].mean(), own["train_seconds"].mean()
            for _, x in own.iterrows():
                r[f"reference_seed{int(x['seed'])}"] = x[column]
        else:
            row = done[(cfg.arch_id, ref_key)]
            r["reference_psnr"], r["reference_seconds"] = row["psnr"], row["seconds"]
        rows.append(r)
    df = pd.DataFrame(rows)
    ok = df.dropna(subset=["proxy_psnr", "reference_psnr"])
    agreements = rank_agreement(ok["proxy_psnr"], ok["reference_psnr"], seed=args.seed)
    seed_cols = sorted(c for c in ok.columns if c.startswith("reference_seed"))
    ceiling = seed_agreement(ok[seed_cols].to_numpy(), seed=args.seed) if len(seed_cols) >= 2 else None
    above = int((ok["reference_psnr"] > ref_blend + ABOVE_BLEND_DB).sum()) if ref_blend is not None else None
    what = f"K={len(seeds)} seed(s) {','.join(map(str, seeds))}, {args.proxy_statistic} validation"
    summary = [
        *(str(a) for a in agreements),
        f"{describe_proxy(args, proxy, sn_cost)} ({what}): "
        f"PSNR {ok['proxy_psnr'].min():.2f}-{ok['proxy_psnr'].max():.2f} dB, "
        f"{ok['proxy_seconds'].sum() / len(ok):.0f} s per architecture",
        f"{describe_reference(args, ref, ref_key)}: "
        f"PSNR {ok['reference_psnr'].min():.2f}-{ok['reference_psnr'].max():.2f} dB, "
        f"{ok['reference_seconds'].sum() / len(ok):.0f} s per architecture and seed",
    ]
    if ref_blend is not None:
        summary.append(
            f"{above} of {len(ok)} reference models are > {ABOVE_BLEND_DB} dB above the blend on their own "
            f"triplets ({ref_blend:.2f} dB)"
        )
    if ceiling is not None:
        summary.insert(len(agreements), f"ceiling: the reference's own seed-vs-seed {ceiling}")
    if len(ok) < len(df):
        summary.append(f"{len(df) - len(ok)} architecture(s) diverged and are left out")
    args.out.mkdir(parents=True, exist_ok=True)
    split = f"_{args.reference_split}" if args.reference == "table" and args.reference_split != "lm" else ""
    csv = args.out / f"fidelity_{proxy_key}_{ref_key}{split}.csv"
    write_csv(df, csv)
    write_text(
        args.out / "summary.json",
        json.dumps(
            {
                "proxy": proxy.result_settings(),
                "proxy_key": proxy_key,
                "proxy_seeds": seeds,
                "proxy_statistic": args.proxy_statistic,
                "reference": args.reference,
                "reference_split": args.reference_split if args.reference == "table" else None,
                "reference_key": ref_key,
                "blend_psnr": blend_psnr,
                "reference_blend_psnr": ref_blend,
                "agreement": [vars(a) for a in agreements],
                "ceiling": vars(ceiling) if ceiling is not None else None,
                "references_above_blend": above,
                "n": len(ok),
            },
            indent=1,
        ),
    )

    page = write_fidelity_page(df, args.out / "fidelity.html", summary, blend_psnr, reference_blend=ref_blend)
    print("\n".join(summary))
    if above is not None and above < len(ok):
        log.warning("some reference models did not leave the blend plateau: their ranks are noise; train longer")
    uri = args.mlflow_uri or f"sqlite:///{(args.out / 'mlflow.db').resolve()}"
    log_to_mlflow(uri, args, agreements, [csv, page], (proxy_key, ref_key))
    print(f"table: {csv}\npage:  {page}")
    return 0


def reference_blend(args: argparse.Namespace, ref: ProxySettings, ref_key: str) -> float | None:
    """PSNR of the 50/50 blend on the triplets the reference scores are measured on (the table's split, as
    its recipe scores it; a trained reference's validation); None where the table does not describe it."""
    if args.reference != "table":
        return ref.evaluation().blend_psnr()
    try:
        recipe = recipe_of(args.table, ref_key)
    except (KeyError, OSError) as e:
        log.warning("the blend on the reference's triplets is unknown (%s): the plateau check is skipped", e)
        return None
    return evaluation_sets(recipe.training, recipe.score_items)[args.reference_split].blend_psnr()


def describe_reference(args: argparse.Namespace, ref: ProxySettings, key: str) -> str:
    if args.reference == "table":
        return f"reference table {args.table.name}, recipe {key}, {SPLIT_COLUMNS[args.reference_split]}"
    return (
        f"reference {ref.steps} steps at {ref.crop}px, lr {ref.lr:g}, synthetic {ref.synthetic_ratio:g}, "
        f"loss {ref.loss}"
    )


if __name__ == "__main__":
    sys.exit(main())
