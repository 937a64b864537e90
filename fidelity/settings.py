"""``FidelitySettings``: every setting of one fidelity run as typed data, read once from the command line.

The proxy and the reference a proxy is trained against are ``ProxySettings`` (the search's), so a
``--proxy-*`` option means here what it means to ``search.run``; ``--ref-*`` set a reference trained here.
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from fidelity.reference import TABLE
from search.proxy import ProxySettings, large_motion
from search.settings import add_options, from_options
from space.budget import parse_count

TRAINING = {"steps", "crop", "batch", "lr", "synthetic_ratio", "loss"}  # the proxy/reference options
REFERENCE_STEPS = 2000
TAIL = 3  # validations averaged by --proxy-statistic tail
# --reference-split: the reference table's column that ranks the architectures
SPLIT_COLUMNS = {"lm": "psnr_lm", "val": "psnr_val", "test": "psnr_test"}
REFERENCES = ("table", "train")
STATISTICS = ("final", "tail")
MIN_ARCHS = 3  # a rank correlation of fewer points says nothing


@dataclass(frozen=True)
class FidelitySettings:
    budget: int
    proxy: ProxySettings = field(default_factory=ProxySettings)  # how each architecture is scored by the proxy
    ref: ProxySettings = field(default_factory=ProxySettings)  # the reference trained here (reference "train")
    out: Path = Path("runs/fidelity")  # its results.jsonl is the cache
    n: int | None = None  # architectures; None: the table's (or 8 with reference "train")
    reference: str = "table"  # "table": the reference table; "train": a reference trained here
    table: Path = TABLE
    reference_recipe: str | None = None  # the table's recipe hash; None: fidelity.reference's default
    reference_split: str = "lm"  # the table's score that ranks (SPLIT_COLUMNS)
    proxy_seeds: tuple[int, ...] = ()  # seeds whose proxy scores are averaged; empty: the proxy's seed
    proxy_statistic: str = "final"  # "final" validation, or the mean of the last TAIL ("tail")
    space: Path | None = None  # a search-space YAML; None: the built-in space
    fixes: tuple[str, ...] = ()
    jobs: int = 1  # trainings at once, in worker processes
    mlflow_uri: str | None = None  # None: SQLite in ``out``

    def __post_init__(self) -> None:
        if self.reference not in REFERENCES:
            raise ValueError(f"reference {self.reference!r}: choose {' or '.join(REFERENCES)}")
        if self.reference_split not in SPLIT_COLUMNS:
            raise ValueError(f"reference split {self.reference_split!r}: choose {', '.join(SPLIT_COLUMNS)}")
        if self.proxy_statistic not in STATISTICS:
            raise ValueError(f"proxy statistic {self.proxy_statistic!r}: choose {' or '.join(STATISTICS)}")
        if self.arch_count is not None and self.arch_count < MIN_ARCHS:
            raise ValueError(f"--n must be at least {MIN_ARCHS} (a rank correlation of fewer points says nothing)")
        if self.jobs < 1:
            raise ValueError("--jobs must be at least 1")

    @property
    def arch_count(self) -> int | None:
        """How many architectures are ranked (None: every one of the table's recipe)."""
        return self.n if self.n is not None or self.reference == "table" else 8

    @property
    def seeds(self) -> list[int]:
        return list(self.proxy_seeds) or [self.proxy.seed]

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_uri or f"sqlite:///{(self.out / 'mlflow.db').resolve()}"

    def to_dict(self) -> dict[str, Any]:
        """Plain data (logged with the MLflow run)."""
        d = asdict(self)
        return {k: str(v) if isinstance(v, Path) else v for k, v in d.items()}


def build_parser(doc: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m fidelity.run", description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--budget", required=True, help="parameter budget: 0.5M, 500k, 500000 or 5e5")
    p.add_argument(
        "--n", type=int, default=None, help="architectures (default: the table's, or 8 with --reference train)"
    )
    p.add_argument(
        "--reference",
        default="table",
        choices=REFERENCES,
        help="table: rank against the shipped reference table (default); train: train a reference with --ref-*",
    )
    p.add_argument("--table", type=Path, default=None, help="the reference table (default: the shipped one)")
    p.add_argument("--reference-recipe", default=None, help="the table's recipe hash (default: fidelity.reference's)")
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
        choices=STATISTICS,
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
    p.add_argument("--jobs", type=int, default=1, help="trainings at once, in worker processes (default 1)")
    p.add_argument("--mlflow-uri", default=None, help="MLflow tracking URI (default: SQLite in --out)")
    return p


def _scoring(args: argparse.Namespace, prefix: str) -> ProxySettings:
    """The proxy (``prefix`` "proxy") or the reference ("ref") the options describe; PSNR only (no LPIPS)."""
    data = tuple(args.data or ProxySettings.data)
    val_data = tuple(args.val_data) if args.val_data else large_motion(data)
    settings = from_options(ProxySettings, args, prefix, data=data, val_data=val_data, lpips=False)
    return replace(settings, val_every=max(100, settings.steps // 5))


def settings_from(args: argparse.Namespace) -> FidelitySettings:
    """The settings the parsed options give; raises ``ValueError`` (or ``BudgetError``) on bad values."""
    try:
        seeds = tuple(int(x) for x in args.proxy_seeds.split(",")) if args.proxy_seeds else ()
    except ValueError as e:
        raise ValueError(f"--proxy-seeds {args.proxy_seeds!r}: comma-separated integers, e.g. 0,1") from e
    return FidelitySettings(
        budget=parse_count(args.budget),
        proxy=_scoring(args, "proxy"),
        ref=_scoring(args, "ref"),
        out=args.out,
        n=args.n,
        reference=args.reference,
        table=args.table or TABLE,
        reference_recipe=args.reference_recipe,
        reference_split=args.reference_split,
        proxy_seeds=seeds,
        proxy_statistic=args.proxy_statistic,
        space=args.space,
        fixes=tuple(args.fix),
        jobs=args.jobs,
        mlflow_uri=args.mlflow_uri,
    )
