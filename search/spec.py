"""SearchSpec: every setting of one search as one tree, resolved once from the CLI and written next to the
results.

The tree: the search's own options here, and the groups ``proxy`` (``ProxySettings``: how a candidate is
trained and scored), ``retrain`` and ``tracking``. Each group's fields declare their options
(``search.settings.option``): ``search.run``'s argparse groups, the study fingerprint and the generated
option table all read them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from results.files import content_key, write_text
from results.schema import COST, OBJECTIVES, objective_info
from results.study_table import redact_url
from rife_core.cli.args import parse_loss
from rife_core.model.layer_starts import choices_need_fit
from rife_core.training.config import TrainConfig
from rife_core.training.start import START_KINDS
from search.proxy import ProxySettings
from search.settings import fingerprint_items, flat_keys, option

# The deployment recipe's weight of the parent's frame (a space with a parent); measured against L1 alone in
# docs/results/parent-search.md ("retraining").
PARENT_WEIGHT = 0.5
# Settings of the retired one-shot strategy (tag shared-supernet-final): a study's fingerprint still holds
# them at the values every proxy search had, so studies recorded before it was retired resume.
RETIRED_FINGERPRINT = {"strategy": "proxy", "finetune_steps": 0}
RETIRED_KEYS = ("strategy", "finetune_steps", "supernet")


@dataclass(frozen=True)
class RetrainSettings:
    """``--retrain-top``: the best front members trained longer, then scored on the test split."""

    top: int = option(0, prefixed=True, fingerprint=False, help="retrain the K best front members longer (0: none)")
    steps: int = option(2000, prefixed=True, fingerprint=False, help="training steps of each retraining")
    init: str | None = option(
        None,
        prefixed=True,
        fingerprint=False,
        choices=START_KINDS,
        help="start from weights sliced from the space's parent or from seeded weights (default: as the search "
        "started them)",
    )
    loss: dict[str, float] | None = option(
        None,
        prefixed=True,
        fingerprint=False,
        parse=parse_loss,
        help="loss terms of the retraining, e.g. l1=1 (default: the proxy's, plus the parent's frame at 0.5 where "
        "the space has a parent)",
    )
    eval: tuple[str, ...] = option(
        (),
        prefixed=True,
        fingerprint=False,
        repeat=True,
        metavar="SPEC",
        help="more data whose test split the retrained members are scored on, repeatable "
        "(e.g. ucf101:../shared/data/ucf101_adacof)",
    )


@dataclass(frozen=True)
class TrackingSettings:
    """Where the study and its MLflow runs are stored (never a score)."""

    storage: str | None = option(
        None,
        flag="--storage",
        fingerprint=False,
        help="Optuna storage URL (default: SQLite in --out); postgresql://... for several machines, journal:///file",
    )
    study_name: str = option(
        "rife-nas",
        flag="--study-name",
        fingerprint=False,
        help="the study in --storage (several studies may share one)",
    )
    mlflow_uri: str | None = option(
        None, flag="--mlflow-uri", fingerprint=False, help="MLflow tracking URI (default: SQLite in --out)"
    )


@dataclass(frozen=True)
class SearchSpec:
    budget: int  # parameters; an architecture must have strictly fewer
    out: Path = Path("runs/search")
    trials: int = 12  # trials that train (infeasible samples do not count)
    objectives: tuple[str, ...] = ("psnr", "macs")
    sampler: str = "tpe"
    # The sampler's own seed when it should differ from ``proxy.seed`` (which also seeds the scoring); None:
    # ``proxy.seed``. Not part of the fingerprint: it changes which architectures are proposed, never a score.
    sampler_seed: int | None = None
    space: str | None = None  # YAML file; None = the default space
    fixes: tuple[str, ...] = ()
    max_macs: int | None = None
    max_latency_ms: float | None = None
    max_latency_dis: float | None = None  # latency over DIS-medium's, timed in turn (1.0: no slower than DIS)
    n_jobs: int = 1
    pruning: bool = True
    prune_margin_db: float = 0.5
    proxy: ProxySettings = field(default_factory=ProxySettings)
    retrain: RetrainSettings = field(default_factory=RetrainSettings)
    tracking: TrackingSettings = field(default_factory=TrackingSettings)

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        for name in ("objectives", "fixes"):  # lists when read back from search_spec.json
            object.__setattr__(self, name, tuple(getattr(self, name)))
        unknown = [o for o in self.objectives if o not in OBJECTIVES]
        if unknown or not self.objectives:
            raise ValueError(f"objectives {unknown or '(none)'}: choose from {', '.join(OBJECTIVES)}")
        if "lpips" in self.objectives and not self.proxy.lpips:
            object.__setattr__(self, "proxy", replace(self.proxy, lpips=True))

    def retrain_config(self, parent: str | None = None) -> TrainConfig:
        """The deployment recipe's training: the proxy's, ``retrain.steps`` long, with ``retrain.loss``;
        ``parent``: the one a ``parent`` loss term pulls towards."""
        run = self.proxy.train_config(self.retrain.steps, parent)
        loss = self.retrain.loss
        if loss is None:
            loss = {**run.loss, "parent": PARENT_WEIGHT} if parent is not None else run.loss
        return replace(run, loss=dict(loss), parent=parent if "parent" in loss else None)

    @property
    def directions(self) -> list[str]:
        return [objective_info(o).direction for o in self.objectives]

    @property
    def shared_storage(self) -> bool:
        """Whether other processes may work on the study: an explicit ``--storage`` (the default SQLite file
        in ``out`` is this search's own)."""
        return self.tracking.storage is not None

    @property
    def storage_url(self) -> str:
        return self.tracking.storage or f"sqlite:///{(self.out / 'optuna.db').resolve()}"

    @property
    def tracking_uri(self) -> str:
        return self.tracking.mlflow_uri or f"sqlite:///{(self.out / 'mlflow.db').resolve()}"

    @property
    def cost_objective(self) -> str:
        """The cost the Pareto pruner compares against: the first cost objective, else params."""
        return next((o for o in self.objectives if o in COST), "params")

    @property
    def uses_latency(self) -> bool:
        """Whether latency decides anything here: an objective or a limit (else it is only reported)."""
        limits = (self.max_latency_ms, self.max_latency_dis)
        return bool({"latency", "latency_dis"} & set(self.objectives)) or any(v is not None for v in limits)

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as written to ``search_spec.json`` and MLflow: URLs with their passwords masked."""
        d = asdict(self)
        d["out"] = str(self.out)
        d["tracking"]["storage"] = redact_url(self.tracking.storage)
        d["tracking"]["mlflow_uri"] = redact_url(self.tracking.mlflow_uri)
        return d

    def fingerprint_settings(self, space_choices: dict[str, list]) -> dict[str, Any]:
        """The settings that change results (the tree's fingerprinted fields under their flat keys), plus
        the space (after --fix), as plain JSON data."""
        settings = {**fingerprint_items(self.proxy, "proxy"), **RETIRED_FINGERPRINT}
        if "parent" in space_choices:  # how a child is sliced changes its score only where it has a parent
            settings["proxy_importance"] = self.proxy.importance
        if "parent" in space_choices and choices_need_fit(space_choices):  # studies without such kinds resume
            settings["proxy_fit"] = self.proxy.fit
        if self.proxy.latency_backend != "torch":  # latency values from another backend are not comparable
            settings["latency_backend"] = self.proxy.latency_backend
        if self.uses_latency and tuple(self.proxy.latency_size) != tuple(self.proxy.size):  # nor other sizes
            settings["latency_size"] = list(self.proxy.latency_size)
        settings["space"] = space_choices
        return json.loads(json.dumps(settings, default=list))  # tuples -> lists, as stored

    @classmethod
    def read(cls, path: str | Path) -> SearchSpec:
        """The spec a search wrote to ``search_spec.json`` (nested, or flat as written before the tree)."""
        raw = json.loads(Path(path).read_text())
        if not isinstance(raw.get("proxy"), dict):
            raw = nest_flat(raw)
        if raw.get("strategy", "proxy") != "proxy":
            raise ValueError(
                f"{path}: a {raw['strategy']} search; that strategy is retired (tag shared-supernet-final holds it)"
            )
        for key in [k for k in raw if k in RETIRED_KEYS or k.startswith("supernet_")]:  # flat files: supernet_*
            raw.pop(key)
        groups = {
            "proxy": ProxySettings,
            "retrain": RetrainSettings,
            "tracking": TrackingSettings,
        }
        for name, group in groups.items():
            values = raw.get(name, {})
            for f in fields(group):
                if isinstance(values.get(f.name), list):
                    values[f.name] = tuple(values[f.name])
            raw[name] = group(**values)
        return cls(**raw)

    def write(self) -> Path:
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "search_spec.json"
        write_text(path, json.dumps(self.to_dict(), indent=1, sort_keys=True))
        return path


def nest_flat(flat: dict[str, Any]) -> dict[str, Any]:
    """A flat ``search_spec.json`` (``proxy_steps``, ``retrain_top``, ...) as the tree's nested dicts."""
    maps = {
        "proxy": {**flat_keys(ProxySettings, "proxy"), "workers": "workers"},
        "retrain": flat_keys(RetrainSettings, "retrain"),
        "tracking": flat_keys(TrackingSettings),
    }
    out: dict[str, Any] = {g: {} for g in maps}
    for key, value in flat.items():
        group = next((g for g, m in maps.items() if key in m), None)
        if group is None:
            out[key] = value
        else:
            out[group][maps[group][key]] = value
    return out


def fingerprint_keys() -> set[str]:
    """The flat names of every setting in a study's fingerprint (the generated option table marks them)."""
    spec = SearchSpec(budget=1)
    # with a parent and a kind it lacks: how children are sliced and fitted
    return set(spec.fingerprint_settings({"parent": "any", "conv_type": ["standard", "dsconv"]}))


def fingerprint(settings: dict[str, Any]) -> str:
    """Short hash of ``fingerprint_settings``: equal settings give equal fingerprints everywhere."""
    return content_key(settings)


def settings_diff(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``name: stored -> current`` for every setting that differs."""
    keys = sorted(set(stored) | set(current))
    return [f"{k}: {stored.get(k)!r} -> {current.get(k)!r}" for k in keys if stored.get(k) != current.get(k)]
