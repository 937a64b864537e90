"""SearchSpec: every setting of one search, resolved once from the CLI and written next to the results."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from results.files import content_key, write_text
from results.schema import COST, OBJECTIVES, objective_info
from results.study_table import redact_url
from search.oneshot import SupernetSettings
from search.proxy import ProxySettings

# The settings that change a trial's result: a study's fingerprint is their hash. Budget and the MAC and
# latency limits only decide which samples are feasible, the sampler only which samples come; none of
# them changes the score of an architecture, so a study may be resumed with others. The device is left
# out too: CPU and CUDA results differ only in float rounding.
RESULT_SETTINGS = (
    "data",
    "val_data",
    "proxy_steps",
    "proxy_crop",
    "proxy_batch",
    "proxy_lr",
    "proxy_synthetic_ratio",
    "proxy_loss",
    "proxy_val_every",
    "val_items",
    "val_crop",
    "lpips",
    "size",
    "seed",
    "strategy",
    "supernet_steps",
    "supernet_crop",
    "supernet_rule",
    "supernet_lr",
    "supernet_synthetic_ratio",
    "finetune_steps",
)


STRATEGIES = ("proxy", "oneshot")


@dataclass(frozen=True)
class SearchSpec:
    budget: int  # parameters; an architecture must have strictly fewer
    out: Path = Path("runs/search")
    trials: int = 12  # trials that train (infeasible samples do not count)
    objectives: tuple[str, ...] = ("psnr", "macs")
    sampler: str = "tpe"
    seed: int = 0
    # The sampler's own seed when it should differ from ``seed`` (which also seeds the scoring: proxy
    # weights, data order, the supernet); None = ``seed``. Not part of the fingerprint: it changes which
    # architectures are proposed, never how one is scored.
    sampler_seed: int | None = None
    space: str | None = None  # YAML file; None = the default space
    fixes: tuple[str, ...] = ()
    max_macs: int | None = None
    max_latency_ms: float | None = None
    latency_backend: str = "torch"  # what measures latency: torch (eager) or onnxruntime (the ONNX export)
    size: tuple[int, int] = (256, 256)  # resolution of MACs and latency
    data: tuple[str, ...] = ("default",)
    val_data: tuple[str, ...] | None = None
    proxy_steps: int = 1000
    proxy_crop: int = 128
    proxy_batch: int = 8
    proxy_lr: float = 1e-3
    proxy_synthetic_ratio: float = 0.5
    proxy_loss: dict[str, float] = field(default_factory=lambda: {"l1": 1.0})
    proxy_val_every: int = 200
    val_items: int = 24
    val_crop: int = 192
    lpips: bool = True  # also score LPIPS (AlexNet, genuine weights) at the end of each trial
    device: str = "auto"
    storage: str | None = None  # Optuna storage URL; None = SQLite file in ``out``
    study_name: str = "rife-nas"
    mlflow_uri: str | None = None  # None = SQLite file in ``out``
    n_jobs: int = 1
    pruning: bool = True
    prune_margin_db: float = 0.5
    strategy: str = "proxy"  # "proxy": train every candidate; "oneshot": inherit from a trained supernet
    supernet_steps: int = 3000
    supernet_crop: int = 128  # the motion signal needs larger crops than the per-trial proxy's 96
    supernet_rule: str = "sandwich"
    supernet_lr: float = 1e-3
    supernet_synthetic_ratio: float = 0.5
    finetune_steps: int = 0  # oneshot: proxy steps from the inherited weights before scoring (0: none)
    retrain_top: int = 0
    retrain_steps: int = 2000
    # Where --retrain-top starts: "seeded" (the trial's own initial weights) or "inherited" (the subnet's
    # weights in the one-shot supernet); None: inherited for the one-shot strategy, else seeded.
    retrain_init: str | None = None
    workers: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out))
        for name in ("objectives", "fixes", "data", "size"):  # lists when read back from search_spec.json
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if self.val_data is not None:
            object.__setattr__(self, "val_data", tuple(self.val_data))
        unknown = [o for o in self.objectives if o not in OBJECTIVES]
        if unknown or not self.objectives:
            raise ValueError(f"objectives {unknown or '(none)'}: choose from {', '.join(OBJECTIVES)}")
        if self.strategy not in STRATEGIES:
            raise ValueError(f"strategy {self.strategy!r}: choose {' or '.join(STRATEGIES)}")
        if "lpips" in self.objectives and not self.lpips:
            object.__setattr__(self, "lpips", True)

    @property
    def directions(self) -> list[str]:
        return [objective_info(o).direction for o in self.objectives]

    @property
    def proxy(self) -> ProxySettings:
        """How each trial's candidate is trained and scored."""
        return ProxySettings(
            data=self.data,
            val_data=self.val_data,
            steps=self.proxy_steps,
            crop=self.proxy_crop,
            batch=self.proxy_batch,
            lr=self.proxy_lr,
            synthetic_ratio=self.proxy_synthetic_ratio,
            loss=dict(self.proxy_loss),
            val_every=self.proxy_val_every,
            val_items=self.val_items,
            val_crop=self.val_crop,
            lpips=self.lpips,
            size=self.size,
            latency_backend=self.latency_backend,
            seed=self.seed,
            device=self.device,
            workers=self.workers,
        )

    @property
    def supernet(self) -> SupernetSettings:
        """How the one-shot strategy trains its supernet (batch and loss follow the proxy)."""
        return SupernetSettings.for_proxy(
            self.proxy,
            steps=self.supernet_steps,
            crop=self.supernet_crop,
            lr=self.supernet_lr,
            synthetic_ratio=self.supernet_synthetic_ratio,
            rule=self.supernet_rule,
        )

    @property
    def shared_storage(self) -> bool:
        """Whether other processes may work on the study: an explicit ``--storage`` (the default SQLite file
        in ``out`` is this search's own)."""
        return self.storage is not None

    @property
    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{(self.out / 'optuna.db').resolve()}"

    @property
    def tracking_uri(self) -> str:
        return self.mlflow_uri or f"sqlite:///{(self.out / 'mlflow.db').resolve()}"

    @property
    def cost_objective(self) -> str:
        """The cost the Pareto pruner compares against: the first cost objective, else params."""
        return next((o for o in self.objectives if o in COST), "params")

    def to_dict(self) -> dict[str, Any]:
        """Plain data, as written to ``search_spec.json`` and MLflow: URLs with their passwords masked."""
        d = asdict(self)
        d["out"] = str(self.out)
        d["storage"], d["mlflow_uri"] = redact_url(self.storage), redact_url(self.mlflow_uri)
        return d

    def fingerprint_settings(self, space_choices: dict[str, list]) -> dict[str, Any]:
        """The settings that change results, plus the space (after --fix), as plain JSON data."""
        d = self.to_dict()
        settings = {k: d[k] for k in RESULT_SETTINGS}
        if d["latency_backend"] != "torch":  # latency values from another backend are not comparable
            settings["latency_backend"] = d["latency_backend"]
        settings["space"] = space_choices
        return json.loads(json.dumps(settings))  # tuples -> lists, as stored

    @classmethod
    def read(cls, path: str | Path) -> SearchSpec:
        """The spec a search wrote to ``search_spec.json``."""
        return cls(**json.loads(Path(path).read_text()))

    def write(self) -> Path:
        self.out.mkdir(parents=True, exist_ok=True)
        path = self.out / "search_spec.json"
        write_text(path, json.dumps(self.to_dict(), indent=1, sort_keys=True))
        return path


def fingerprint(settings: dict[str, Any]) -> str:
    """Short hash of ``fingerprint_settings``: equal settings give equal fingerprints everywhere."""
    return content_key(settings)


def settings_diff(stored: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """``name: stored -> current`` for every setting that differs."""
    keys = sorted(set(stored) | set(current))
    return [f"{k}: {stored.get(k)!r} -> {current.get(k)!r}" for k in keys if stored.get(k) != current.get(k)]
