"""The reference table: architectures of the default space trained by the deployment recipe, several seeds.

In the spirit of NAS-Bench-201: ``fidelity/shipped/reference.csv`` holds, per (arch_id, recipe, seed), the
scores of an architecture trained by a recipe, and ``fidelity.run`` ranks proxies against it, so
measuring a new proxy costs only the proxy's trainings. A recipe is a training (``ProxySettings``' training
fields) and a start (``rife_core.training.start``): weights sliced from the space's parent (the default for
a space with one, e.g. the default space), or seeded ones. Its hash (``Recipe.key``) is the table's second
key; rows are appended as each training ends, so the command
that builds the table also extends it (more architectures, more seeds) and resumes it after a kill:

    python -m fidelity.reference --budget 0.5M --n 12 --seeds 0,1

The architectures are ``fidelity.sampling.spread_sample(space, budget, n, seed=0)``: a larger ``--n`` draws a
different spread, so grow a table with more seeds, or build a new one with a new ``--n``.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from fidelity.rank_stats import Agreement, seed_agreement
from fidelity.sampling import spread_sample
from results.files import content_key
from rife_core.cli.args import configure_output
from rife_core.cost.macs import count_macs
from rife_core.cost.params import count_params
from rife_core.data.spec import load
from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.parents import ParentUnavailable, resolve_parent
from rife_core.model.presets import create_model
from rife_core.training.start import SEEDED_KIND, SLICED, START_KINDS, Start, make_start
from search.candidate import EvalSet, run_candidate
from search.proxy import ProxySettings, large_motion
from search.settings import add_options, from_options
from space.budget import BudgetError, parse_count
from space.space import SearchSpace, SpaceError

log = logging.getLogger("fidelity.reference")

TABLE = Path(__file__).parent / "shipped" / "reference.csv"
TRAINING = {"steps", "crop", "batch", "lr", "synthetic_ratio", "loss"}
# The deployment recipe at half its length (search.run --retrain-steps 2000), to fit a CPU: a fine-tune of the
# weights sliced from the parent at the proxy's rate.
DEFAULTS = {"steps": 1000}
RECIPE_START = {"fit": "full"}  # the rows' starts: the full fits, not the search proxy's fast ones
SCORES = ("psnr_lm", "ssim_lm", "psnr_val", "ssim_val", "psnr_test", "ssim_test")
COLUMNS = ("arch_id", "recipe", "seed", "params", "macs", *SCORES, "train_seconds", "device", "config_json")
MAC_SIZE = (256, 256)


@dataclass(frozen=True)
class Recipe:
    """How a reference architecture is trained: ``training`` from ``start`` ("sliced": weights sliced from
    ``parent``; "seeded": the candidate pipeline's seeded weights)."""

    training: ProxySettings
    start: str = SLICED
    score_items: int | None = None  # triplets of each scored split, evenly spread (None: all)
    parent: str | None = None  # sliced: the parent reference (the space's)

    def __post_init__(self) -> None:
        if self.start not in START_KINDS:
            raise ValueError(f"recipe start {self.start!r}: choose one of {', '.join(START_KINDS)}")
        if self.start == SLICED and self.parent is None:
            raise ValueError("a sliced recipe needs a parent: use a space that names one (the default space)")

    def describe(self) -> dict[str, Any]:
        d = {k: v for k, v in self.training.result_settings().items() if k != "seed"}
        d["start"] = self.start
        if self.score_items is not None:
            d["score_items"] = self.score_items
        if self.start == SLICED:
            d["parent"] = self.parent
        else:
            d.pop("importance", None)  # how a child is sliced; nothing is sliced here
        return d

    def key(self) -> str:
        """The recipe hash: every setting of the training and the start, the seed excepted."""
        return content_key(self.describe())


def make_recipe(
    space: SearchSpace, training: ProxySettings | None = None, start: str | None = None, score_items: int | None = None
) -> Recipe:
    """The recipe of ``space``'s architectures: ``training`` (default: the deployment recipe at half length)
    from ``start`` (default: sliced from the space's parent where it names one, else seeded)."""
    if training is None:
        data = ProxySettings.data
        training = ProxySettings(data=data, val_data=large_motion(data), lpips=False, **DEFAULTS, **RECIPE_START)
    training = replace(training, val_every=max(100, training.steps // 5))
    start = start or (SLICED if space.parent is not None else SEEDED_KIND)
    return Recipe(training, start, score_items, space.parent if start == SLICED else None)


def default_recipe(space: SearchSpace) -> Recipe:
    """The recipe ``python -m fidelity.reference`` builds without options: the deployment recipe."""
    return make_recipe(space)


def load_recipe_parent(recipe: Recipe) -> IFNet | None:
    """The parent a sliced recipe starts from, loaded (once per command); None for a seeded one."""
    return resolve_parent(recipe.parent) if recipe.parent is not None else None


def evaluation_sets(training: ProxySettings, items: int | None = None) -> dict[str, EvalSet]:
    """What a reference row is scored on: the search's validation (large motion, as trials are scored),
    every validation triplet and the test split, these two at full frames; ``items`` caps each."""
    first = training.data[0]
    lm = replace(training.evaluation(), lpips=False)
    if items is not None:
        lm = replace(lm, max_items=min(items, lm.max_items or items))
    return {
        "lm": lm,
        "val": EvalSet(load(first, "val"), max_items=items),
        "test": EvalSet(load(first, "test"), max_items=items),
    }


def recipe_start(recipe: Recipe, parent: IFNet | None) -> Start:
    """The start of every row of ``recipe``; ``parent``: ``load_recipe_parent(recipe)``, loaded once."""
    return make_start(
        parent if recipe.start == SLICED else None,
        recipe.start,
        importance=recipe.training.importance,
        fit=recipe.training.fit,
    )


def train_reference_row(cfg: ArchConfig, recipe: Recipe, seed: int, start: Start) -> dict[str, Any]:
    """One row: ``cfg`` trained by ``recipe`` with ``seed`` from ``start`` (``recipe_start``), scored on
    ``evaluation_sets``."""
    training = replace(recipe.training, seed=seed)
    run = training.train_config(parent=recipe.parent)
    t0 = time.perf_counter()
    res = run_candidate(
        cfg, run, start=start, evals=evaluation_sets(training, recipe.score_items), device=training.device
    )
    seconds = time.perf_counter() - t0
    row: dict[str, Any] = {
        "arch_id": cfg.arch_id,
        "recipe": recipe.key(),
        "seed": seed,
        "params": count_params(cfg),
        "macs": count_macs(res.model.cpu().eval(), MAC_SIZE).total,
    }
    for name, m in res.scores.items():
        row[f"psnr_{name}"], row[f"ssim_{name}"] = round(m["psnr"], 4), round(m["ssim"], 5)
    row.update(train_seconds=round(seconds, 1), device=str(next(res.model.parameters()).device))
    row["config_json"] = cfg.to_json()
    return row


def read_table(path: Path = TABLE) -> pd.DataFrame:
    """The table's rows (an empty frame with its columns when there is none)."""
    if not path.is_file():
        return pd.DataFrame(columns=list(COLUMNS))
    return pd.read_csv(path, dtype={"arch_id": str, "recipe": str})


def append_row(path: Path, row: dict[str, Any]) -> None:
    new = not path.is_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(COLUMNS))
        if new:
            writer.writeheader()
        writer.writerow(row)


def recipes_path(table: Path) -> Path:
    """``recipes.json`` beside the table: each recipe hash with what it means."""
    return table.with_name(table.stem + "_recipes.json")


def record_recipe(table: Path, key: str, described: dict[str, Any], argv: list[str] | None) -> None:
    """Write what ``key`` means, and the options that build it, beside the table (once)."""
    path = recipes_path(table)
    known = json.loads(path.read_text()) if path.is_file() else {}
    if key not in known:
        known[key] = {**described, "argv": argv}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(known, indent=1, sort_keys=True) + "\n")


def recipe_of(table: Path, key: str) -> Recipe:
    """The recipe ``key`` of ``table``, rebuilt from the options recorded with it."""
    known = json.loads(recipes_path(table).read_text())
    if key not in known:
        raise KeyError(f"recipe {key} is not described in {recipes_path(table)}")
    return recipe_from(parser().parse_args(known[key]["argv"]))


def build(
    archs: list[ArchConfig],
    recipe: Recipe,
    seeds: list[int],
    table: Path,
    argv: list[str] | None = None,
    parent: IFNet | None = None,
) -> pd.DataFrame:
    """Train every (arch, seed) the table lacks for ``recipe``, appending each row as it ends; ``argv``: the
    options that give ``recipe``, recorded with it; ``parent``: the loaded parent of a sliced recipe."""
    key = recipe.key()
    record_recipe(table, key, recipe.describe(), argv)
    have = read_table(table)
    mine = have[have["recipe"] == key]
    done = {(a, int(s)) for a, s in zip(mine["arch_id"], mine["seed"], strict=True)}
    # Cheapest child first (MACs), every seed of a child before the next: a table cut short holds whole
    # pairs (what the seed-vs-seed ceiling reads) for as many children as the time allowed.
    pending = [c for c in archs if any((c.arch_id, s) not in done for s in seeds)]
    cost = {c.arch_id: count_macs(create_model(c).eval(), MAC_SIZE).total for c in pending}
    order = sorted(pending, key=lambda c: (cost[c.arch_id], c.arch_id))
    todo = [(c, s) for c in order for s in seeds if (c.arch_id, s) not in done]
    start = recipe_start(recipe, parent) if todo else None
    t0 = time.perf_counter()
    for k, (cfg, seed) in enumerate(todo, 1):
        assert start is not None
        row = train_reference_row(cfg, recipe, seed, start)
        append_row(table, row)
        elapsed = time.perf_counter() - t0
        log.info(
            "%d/%d  %s seed %d (%s params): LM %.2f dB, val %.2f, test %.2f  elapsed %.0fs  ETA %.0fs",
            k,
            len(todo),
            cfg.arch_id,
            seed,
            f"{row['params']:,}",
            row["psnr_lm"],
            row["psnr_val"],
            row["psnr_test"],
            elapsed,
            elapsed / k * (len(todo) - k),
        )
    out = read_table(table)
    return out[out["recipe"] == key]


def seed_ceilings(rows: pd.DataFrame) -> dict[str, Agreement]:
    """The table's own seed-vs-seed Kendall tau per PSNR score, over the children with two seeds or more."""
    out = {}
    for col in ("psnr_lm", "psnr_val", "psnr_test"):
        wide = rows.pivot_table(index="arch_id", columns="seed", values=col).dropna()
        if wide.shape[0] >= 3 and wide.shape[1] >= 2:
            out[col] = seed_agreement(wide.to_numpy())
    return out


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m fidelity.reference", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--budget", required=True, help="parameter budget, e.g. 0.5M")
    p.add_argument("--n", type=int, default=12, help="architectures, spread over the parameter range (default 12)")
    p.add_argument("--seeds", default="0,1", help="comma-separated training seeds (default 0,1)")
    p.add_argument("--space", type=Path, default=None, help="a search-space YAML (default: the built-in space)")
    p.add_argument("--table", type=Path, default=None, help=f"the CSV to extend (default: the shipped {TABLE.name})")
    p.add_argument(
        "--start",
        default=None,
        choices=START_KINDS,
        help="the recipe's start (default: sliced from the space's parent, else seeded)",
    )
    p.add_argument("--device", default="auto", help="cpu, cuda or auto")
    p.add_argument("--score-items", type=int, default=None, help="triplets scored per split (default: all)")
    add_options(p.add_argument_group("the recipe's training"), ProxySettings, "ref", only=TRAINING, defaults=DEFAULTS)
    add_options(p, ProxySettings, "ref", only={"importance", "fit"}, defaults=RECIPE_START)
    return p


def recipe_from(args: argparse.Namespace) -> Recipe:
    """The recipe this command's options describe."""
    data = ProxySettings.data
    training = from_options(
        ProxySettings, args, "ref", data=data, val_data=large_motion(data), lpips=False, device=args.device
    )
    return make_recipe(SearchSpace.load(args.space), training, args.start, args.score_items)


NOT_RECIPE = {"--n", "--seeds", "--table", "--device"}  # options that choose rows, not how they are trained


def _drop(options: list[str], i: int) -> bool:
    """Whether ``options[i]`` is one of ``NOT_RECIPE`` or its value."""
    flag = options[i].split("=")[0]
    return flag in NOT_RECIPE or (i > 0 and options[i - 1] in NOT_RECIPE)


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    configure_output()
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        budget = parse_count(args.budget)
        space = SearchSpace.load(args.space)
        seeds = [int(s) for s in args.seeds.split(",")]
        archs = spread_sample(space, budget, args.n, seed=0)
        recipe = recipe_from(args)
        args.table = args.table or TABLE
        parent = load_recipe_parent(recipe) if recipe.parent is not None else None
    except (BudgetError, SpaceError, ValueError) as e:
        p.error(str(e))
    except ParentUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    options = list(argv if argv is not None else sys.argv[1:])
    recipe_argv = [a for i, a in enumerate(options) if not _drop(options, i)]
    rows = build(archs, recipe, seeds, args.table, recipe_argv, parent)
    print(rows.drop(columns=["config_json"]).to_string(index=False))
    print(f"table: {args.table} (recipe {recipe.key()}: {recipes_path(args.table)})")
    for col, tau in seed_ceilings(rows).items():
        interval = f"[{tau.low:+.2f}, {tau.high:+.2f}]"
        print(f"{col}: seed-vs-seed Kendall tau {tau.value:+.2f} {interval} over {tau.n} children")
    return 0


if __name__ == "__main__":
    sys.exit(main())
