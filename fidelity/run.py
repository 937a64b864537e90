"""``python -m fidelity.run``: how well does the search's proxy rank architectures?

The architectures of the reference table (``fidelity.reference``: trained by one recipe with several seeds)
are scored by the proxy (the search's per-trial training, set with the same ``--proxy-*`` options as
``search.run``) through the candidate pipeline, started as the search starts them (sliced from the space's
parent). The agreement of the two rankings - Kendall's tau and Spearman's rho with 95% bootstrap intervals -
is the proxy's fidelity; the table's own seed-vs-seed tau, printed beside it, is a loose ceiling (proxies
are ranked against the mean of the seeds). ``--reference train`` trains a reference here instead
(``--ref-*``) on a fixed-seed spread sample. Every (architecture, settings) result is cached in
``OUT/results.jsonl``, so an interrupted run resumes.

A reference that does not rise clearly above the 50/50 blend ranks noise; the command says how many
reference models did.

Examples:
    python -m fidelity.run --budget 0.5M                      # against the shipped reference table
    python -m fidelity.run --budget 0.5M --proxy-seeds 0,1 --proxy-statistic tail
    python -m fidelity.run --budget 0.5M --reference-split test --val-data default --val-items 44
    python -m fidelity.run --budget 0.5M --reference train --n 8   # a reference trained here (--ref-*)
    python -m fidelity.run --budget 0.5M --reference train --n 8 --jobs 8 --device cuda   # several at once
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from fidelity.rank_stats import Agreement, rank_agreement, seed_agreement
from fidelity.reference import default_recipe, evaluation_sets, read_table, recipe_of
from fidelity.rows import result_cache, row_key, train_rows
from fidelity.sampling import spread_sample
from fidelity.settings import SPLIT_COLUMNS, TAIL, FidelitySettings, build_parser, settings_from
from reports.fidelity import write_fidelity_page
from results.files import content_key, write_csv, write_text
from results.schema import ABOVE_BLEND_DB
from rife_core.cli.args import configure_output
from rife_core.cost.params import count_params
from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.parents import ParentUnavailable, resolve_parent
from search.proxy import ProxySettings
from search.tracking import MlflowWriter
from space.budget import BudgetError
from space.space import SearchSpace, SpaceError

log = logging.getLogger("fidelity")


def describe_proxy(proxy: ProxySettings) -> str:
    return (
        f"proxy {proxy.steps} steps at {proxy.crop}px, lr {proxy.lr:g}, synthetic {proxy.synthetic_ratio:g}, "
        f"loss {proxy.loss}"
    )


def log_to_mlflow(
    settings: FidelitySettings, agreements: list[Agreement], files: list[Path], keys: tuple[str, str]
) -> None:
    """The fidelity of one (proxy, reference) pair as one run, found again when the same pair is re-run."""

    def describe(client: Any, run_id: str) -> None:
        for k, v in settings.to_dict().items():
            client.log_param(run_id, k, str(v)[:500])

    tags = {"kind": "fidelity", "proxy_key": keys[0], "reference_key": keys[1], "n": str(settings.n)}
    writer = MlflowWriter(
        settings.tracking_uri,
        "rife-nas-fidelity",
        tags,
        f"fidelity n={settings.n}",
        artifacts=settings.out / "mlartifacts",
        on_new_parent_run=describe,
    )
    for a in agreements:
        for suffix, v in (("", a.value), ("_low", a.low), ("_high", a.high)):
            writer.client.log_metric(writer.parent_run_id, a.name + suffix, v)
    for f in files:
        writer.client.log_artifact(writer.parent_run_id, str(f))
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


def reference_from_table(settings: FidelitySettings, space: SearchSpace) -> tuple[pd.DataFrame, str]:
    """The table's rows of the asked recipe (default: the one ``fidelity.reference`` builds by default)."""
    table = read_table(settings.table)
    key = settings.reference_recipe or default_recipe(space).key()
    rows = table[table["recipe"] == key]
    if rows.empty:
        known = ", ".join(sorted(set(table["recipe"]))) or "none"
        raise ValueError(
            f"{settings.table} has no rows of recipe {key} (recipes there: {known}); build them with "
            "python -m fidelity.reference, or pass --reference-recipe"
        )
    return rows, key


def architectures(settings: FidelitySettings, space: SearchSpace) -> tuple[list[ArchConfig], pd.DataFrame | None, str]:
    """The ranked architectures, the table's rows (None for a reference trained here) and the reference key."""
    n = settings.arch_count
    if settings.reference == "table":
        ref_rows, ref_key = reference_from_table(settings, space)
        by_id = {a: ArchConfig.from_json(j) for a, j in zip(ref_rows["arch_id"], ref_rows["config_json"], strict=True)}
        archs = sorted(by_id.values(), key=lambda c: (count_params(c), c.arch_id))
        return (archs[:n] if n is not None else archs), ref_rows, ref_key
    assert n is not None
    return spread_sample(space, settings.budget, n, settings.proxy.seed), None, settings.ref.key()


def main(argv: list[str] | None = None) -> int:
    p = build_parser(__doc__)
    args = p.parse_args(argv)
    configure_output()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the space sampler's in-memory study
    try:
        settings = settings_from(args)
        space = SearchSpace.load(settings.space).fix(list(settings.fixes))
        archs, ref_rows, ref_key = architectures(settings, space)
    except (BudgetError, SpaceError, ValueError) as e:
        p.error(str(e))
    try:
        parent = resolve_parent(space.parent) if space.parent is not None else None  # once per run
    except ParentUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return run(settings, space, archs, ref_rows, ref_key, parent)


def run(
    settings: FidelitySettings,
    space: SearchSpace,
    archs: list[ArchConfig],
    ref_rows: pd.DataFrame | None,
    ref_key: str,
    parent: IFNet | None,
) -> int:
    """Score ``archs`` by the proxy (and a reference trained here), rank, write the table, page and summary."""
    proxy, ref, seeds = settings.proxy, settings.ref, settings.seeds
    cache = result_cache(settings.out / "results.jsonl")
    done = cache.load()
    blend_psnr = proxy.evaluation().blend_psnr()
    log.info("%d architectures; blend %.2f dB on the validation triplets", len(archs), blend_psnr)
    ref_blend = reference_blend(settings, ref_key)
    proxies = [replace(proxy, seed=x) for x in seeds]
    if settings.reference == "train":
        train_rows([(c, ref) for c in archs], cache, done, settings.jobs, space.parent, parent)
        ref_key = row_key(ref, space.parent)
    train_rows([(c, pr) for pr in proxies for c in archs], cache, done, settings.jobs, space.parent, parent)
    proxy_keys = [row_key(pr, space.parent) for pr in proxies]
    one_score = len(proxy_keys) == 1 and settings.proxy_statistic == "final"  # the row's own key names it
    proxy_key = proxy_keys[0] if one_score else content_key([*proxy_keys, settings.proxy_statistic])
    rows = []
    for cfg in archs:
        r = {"arch_id": cfg.arch_id, "params": count_params(cfg), "config_json": cfg.to_json()}
        mine = [done[(cfg.arch_id, k)] for k in proxy_keys]
        r["proxy_psnr"] = proxy_score(mine, settings.proxy_statistic)
        r["proxy_seconds"] = sum(m["seconds"] for m in mine)
        if ref_rows is not None:
            own = ref_rows[ref_rows["arch_id"] == cfg.arch_id]
            column = SPLIT_COLUMNS[settings.reference_split]
            r["reference_psnr"], r["reference_seconds"] = own[column].mean(), own["train_seconds"].mean()
            for _, x in own.iterrows():
                r[f"reference_seed{int(x['seed'])}"] = x[column]
        else:
            row = done[(cfg.arch_id, ref_key)]
            r["reference_psnr"], r["reference_seconds"] = row["psnr"], row["seconds"]
        rows.append(r)
    df = pd.DataFrame(rows)
    ok = df.dropna(subset=["proxy_psnr", "reference_psnr"])
    agreements = rank_agreement(ok["proxy_psnr"], ok["reference_psnr"], seed=proxy.seed)
    seed_cols = sorted(c for c in ok.columns if c.startswith("reference_seed"))
    ceiling = seed_agreement(ok[seed_cols].to_numpy(), seed=proxy.seed) if len(seed_cols) >= 2 else None
    above = int((ok["reference_psnr"] > ref_blend + ABOVE_BLEND_DB).sum()) if ref_blend is not None else None
    what = f"K={len(seeds)} seed(s) {','.join(map(str, seeds))}, {settings.proxy_statistic} validation"
    summary = [
        *(str(a) for a in agreements),
        f"{describe_proxy(proxy)} ({what}): "
        f"PSNR {ok['proxy_psnr'].min():.2f}-{ok['proxy_psnr'].max():.2f} dB, "
        f"{ok['proxy_seconds'].sum() / len(ok):.0f} s per architecture",
        f"{describe_reference(settings, ref_key)}: "
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
    out = settings.out
    out.mkdir(parents=True, exist_ok=True)
    table_split = settings.reference == "table" and settings.reference_split != "lm"
    csv = out / f"fidelity_{proxy_key}_{ref_key}{f'_{settings.reference_split}' if table_split else ''}.csv"
    write_csv(df, csv)
    write_text(
        out / "summary.json",
        json.dumps(
            {
                "proxy": proxy.result_settings(),
                "proxy_key": proxy_key,
                "proxy_seeds": seeds,
                "proxy_statistic": settings.proxy_statistic,
                "reference": settings.reference,
                "reference_split": settings.reference_split if settings.reference == "table" else None,
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

    page = write_fidelity_page(df, out / "fidelity.html", summary, blend_psnr, reference_blend=ref_blend)
    print("\n".join(summary))
    if above is not None and above < len(ok):
        log.warning("some reference models did not leave the blend plateau: their ranks are noise; train longer")
    log_to_mlflow(settings, agreements, [csv, page], (proxy_key, ref_key))
    print(f"table: {csv}\npage:  {page}")
    return 0


def reference_blend(settings: FidelitySettings, ref_key: str) -> float | None:
    """PSNR of the 50/50 blend on the triplets the reference scores are measured on (the table's split, as
    its recipe scores it; a trained reference's validation); None where the table does not describe it."""
    if settings.reference != "table":
        return settings.ref.evaluation().blend_psnr()
    try:
        recipe = recipe_of(settings.table, ref_key)
    except (KeyError, OSError) as e:
        log.warning("the blend on the reference's triplets is unknown (%s): the plateau check is skipped", e)
        return None
    return evaluation_sets(recipe.training, recipe.score_items)[settings.reference_split].blend_psnr()


def describe_reference(settings: FidelitySettings, key: str) -> str:
    if settings.reference == "table":
        return f"reference table {settings.table.name}, recipe {key}, {SPLIT_COLUMNS[settings.reference_split]}"
    ref = settings.ref
    return (
        f"reference {ref.steps} steps at {ref.crop}px, lr {ref.lr:g}, synthetic {ref.synthetic_ratio:g}, "
        f"loss {ref.loss}"
    )


if __name__ == "__main__":
    sys.exit(main())
