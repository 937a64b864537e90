"""``python -m search.supernet``: train, extend, inspect and ship the one-shot search's shared network.

    python -m search.supernet train --budget 0.5M --supernet-steps 40000   # trains on from where it is
    python -m search.supernet list --budget 0.5M                            # snapshots kept and shipped
    python -m search.supernet ship --budget 0.5M --supernet-steps 12000     # copy a snapshot into search/shipped
    python -m search.supernet curve --budget 0.5M                           # inherited subnets' PSNR per snapshot

``train`` resumes its running checkpoint exactly (kill it any time; rerun the same command), else continues
the latest snapshot (shipped or cached) below the asked step. The options are ``search.run``'s
``--supernet-*`` options, so a search with the same options inherits from what this trains.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
from pathlib import Path

import pandas as pd

from results.files import JsonlCache, write_csv
from rife_core.cli.args import configure_output
from rife_core.cost.params import count_params
from rife_core.data.cache import cache_dir
from rife_core.training.checkpoint import read_checkpoint
from search.candidate import Inherited, run_candidate
from search.oneshot import (
    SupernetSettings,
    find_snapshot,
    load_snapshot,
    running_path,
    snapshots,
    train_supernet,
)
from search.proxy import ProxySettings, large_motion
from search.sampling import spread_sample
from search.settings import add_options, from_options
from search.shipped import MANIFEST, SHIPPED_DIR, sha256, shipped_entries, shipped_steps
from space.budget import BudgetError, parse_count
from space.space import SearchSpace, SpaceError

log = logging.getLogger("search.supernet")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m search.supernet", description=__doc__.split("\n\n")[0])
    p.add_argument("command", choices=("train", "list", "ship", "curve"))
    p.add_argument("--budget", required=True, help="parameter budget of the subnets, e.g. 0.5M")
    p.add_argument("--space", default=None, help="search-space YAML (default: the default space)")
    p.add_argument("--cache", type=Path, default=None, help="folder of checkpoints (default: the cache's supernet/)")
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument("--seed", type=int, default=0, help="the search's --seed (seeds the supernet too)")
    p.add_argument("--n", type=int, default=12, help="curve: architectures (the reference table's spread sample)")
    p.add_argument("--every", type=int, default=1000, help="curve: evaluate every this many steps of snapshots")
    p.add_argument(
        "--csv", type=Path, default=None, help="curve: where the table goes (default: search/shipped/curve_KEY.csv)"
    )
    add_options(p, SupernetSettings, "supernet")
    return p


def curve(space: SearchSpace, budget: int, settings: SupernetSettings, cache: Path, n: int, every: int) -> pd.DataFrame:
    """Validation PSNR of the reference architectures' inherited weights (no fine-tune) at each kept snapshot
    whose step is a multiple of ``every``, as the search scores a trial; rows cached beside the snapshots."""
    key = settings.key(space, budget)
    proxy = ProxySettings(lpips=False, val_data=large_motion(ProxySettings.data))
    val = proxy.evaluation()
    rows = JsonlCache(cache / f"supernet_{key}_curve.jsonl", lambda r: (r["step"], r["arch_id"], r["val"]))
    done = rows.load()
    archs = spread_sample(space, budget, n, seed=0)
    blend_psnr = val.blend_psnr()
    steps = sorted({*snapshots(cache, key), *shipped_steps(key)})
    for step in (s for s in steps if s % every == 0):
        net = None
        for cfg in archs:
            if (step, cfg.arch_id, proxy.key()) in done:
                continue
            if net is None:
                path = find_snapshot(cache, key, step)
                assert path is not None
                net = load_snapshot(path, space)
            res = run_candidate(cfg, proxy.train_config(), start=Inherited(net), validation=val)
            row = {"step": step, "arch_id": cfg.arch_id, "params": count_params(cfg), "val": proxy.key()}
            row.update(psnr=round(res.metrics["psnr"], 4), blend=round(blend_psnr, 4))
            rows.append(row)
            done[(step, cfg.arch_id, proxy.key())] = row
            log.info(
                "step %d  %s (%s params): %.2f dB (blend %.2f)",
                step,
                cfg.arch_id,
                f"{row['params']:,}",
                row["psnr"],
                blend_psnr,
            )
    ids = {c.arch_id for c in archs}
    df = pd.DataFrame([r for r in done.values() if r["arch_id"] in ids and r["step"] % every == 0])
    if df.empty:
        return df
    seconds = {}
    for step in df["step"].unique():
        path = find_snapshot(cache, key, int(step))
        seconds[step] = read_checkpoint(path)["meta"].get("train_seconds") if path is not None else None
    df["train_seconds"] = df["step"].map(seconds).round(0)
    df["key"], df["rule"] = key, settings.rule
    return df


def ship(space: SearchSpace, budget: int, settings: SupernetSettings, cache: Path, command: str) -> Path:
    """Copy the snapshot of (settings, settings.steps) into ``search/shipped`` and list it in the manifest
    (replacing the entries of the same training)."""
    key = settings.key(space, budget)
    src = find_snapshot(cache, key, settings.steps)
    if src is None:
        kept = ", ".join(map(str, snapshots(cache, key))) or "none"
        raise FileNotFoundError(f"no snapshot of step {settings.steps} in {cache} (kept: {kept}); train it first")
    dst = MANIFEST.parent / src.name
    if src.resolve() != dst.resolve():
        shutil.copyfile(src, dst)
    entries = [e for e in shipped_entries() if e["key"] != key]
    for old in {e["file"] for e in shipped_entries() if e["key"] == key} - {dst.name}:
        (MANIFEST.parent / old).unlink(missing_ok=True)
    entries.append(
        {
            "file": dst.name,
            "key": key,
            "step": settings.steps,
            "sha256": sha256(dst),
            "budget": budget,
            "rule": settings.rule,
            "continue": command.replace(f"--supernet-steps {settings.steps}", "--supernet-steps N"),
        }
    )
    MANIFEST.write_text(json.dumps({"supernets": entries}, indent=1) + "\n")
    return dst


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    configure_output()
    try:
        budget = parse_count(args.budget)
        space = SearchSpace.load(args.space)
    except (BudgetError, SpaceError) as e:
        p.error(str(e))
    settings = from_options(SupernetSettings, args, "supernet", device=args.device, seed=args.seed)
    cache = args.cache or cache_dir() / "supernet"
    key = settings.key(space, budget)
    if args.command == "list":
        running = running_path(cache, key)
        print(f"training {key} (rule {settings.rule}, lr {settings.lr:g}, crop {settings.crop}) in {cache}")
        print(f"running checkpoint: {running if running.is_file() else 'none'}")
        print(f"snapshots at steps: {', '.join(map(str, snapshots(cache, key))) or 'none'}")
        shipped = [e["step"] for e in shipped_entries() if e["key"] == key]
        print(f"shipped: {', '.join(map(str, shipped)) or 'none'}")
    elif args.command == "train":
        train_supernet(space, budget, settings, cache)
    elif args.command == "curve":
        df = curve(space, budget, settings, cache, args.n, args.every)
        if df.empty:
            print("no snapshots to evaluate")
            return 0
        df = df.sort_values(["step", "params"])
        csv_path = args.csv or SHIPPED_DIR / f"curve_{key}.csv"
        write_csv(df, csv_path)
        table = df.pivot_table(index="step", columns="params", values="psnr")
        table["min - blend"] = table.min(axis=1) - df["blend"].iloc[0]
        table["median - blend"] = df.groupby("step")["psnr"].median() - df["blend"].iloc[0]
        table["train s"] = df.groupby("step")["train_seconds"].first()
        print(f"inherited PSNR (dB) on the large-motion validation, blend {df['blend'].iloc[0]:.2f}:")
        print(table.round(2).to_string())
        print(f"table: {csv_path}")
    else:
        command = "python -m search.supernet train " + " ".join(a for a in (argv or sys.argv[1:])[1:])
        print(f"shipped {ship(space, budget, settings, cache, command)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
