"""An ablation spec: one base configuration, one factor that varies, everything else fixed and recorded.

A spec is a YAML file::

    name: upsample
    idea: light deconvolutions instead of bilinear resampling
    base: lite_s                 # a preset, or an ArchConfig dict
    control: deconv              # the variant the others are compared with
    variants:                    # name -> overrides of the base: arch fields, train fields, data
      deconv: {arch: {upsample: deconv}}
      bilinear: {arch: {upsample: bilinear}}
    train: {steps: 1000, crop: 128, batch: 8, lr: 1.0e-3, synthetic_ratio: 0.5, loss: {l1: 1.0}}
    data: [default]
    eval: [large_motion:default, default]   # the first set decides the verdicts
    eval_items: 48
    seeds: 3
    parent: rife_v3_hd           # optional: the base is a child of this pretrained parent...
    start: sliced                # ...and every variant starts from it: sliced (the default with a parent)
                                 # or seeded (the default without one)

Arch overrides may give ``blocks`` as ``{scales: [...], widths: [...], depths: [...]}``. Train overrides
may give ``stages`` (a list of ``{steps, crop, batch, lr, p_resize, loss}``) for progressive training or a
fine-tune with another loss.

A spec on a parent may write its base as a child of the parent's space (``experiments.parent_child``)::

    parent: rife_v3_hd
    base: v3_child               # a shipped child (experiments/bases.yaml), or {scales: [4, 2, 1], width: [...], ...}
    variants:
      half_width: {arch: {width: [24, 16, 12]}}      # changes of the base's space choices
      dsconv: {arch: {conv_type: dsconv}, seeds: 8}    # more seeds where an interval is too wide

A variant's ``seeds`` overrides the spec's; the control runs at the most seeds of any variant, so every
variant's runs have a paired control run.

and name its eval sets with their split and crop (whole frames where ``crop`` is null)::

    eval:
      - {name: lm, data: "large_motion:default", crop: 192}
      - {name: test, data: default, split: test, crop: null, items: null}
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from experiments.parent_child import base_choices, child_config
from results.files import content_key
from rife_core.model.config import ArchConfig, ConfigError, uniform_blocks
from rife_core.model.parents import ParentUnavailable, parent_config
from rife_core.model.presets import PRESETS, get_config
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.losses import PARENT_TERMS
from rife_core.training.start import IMPORTANCES, SEEDED_KIND, SLICED, START_KINDS

SPECS_DIR = Path(__file__).parent / "specs"
TRAIN_KEYS = {
    "steps",
    "crop",
    "batch",
    "lr",
    "synthetic_ratio",
    "loss",
    "p_resize",
    "resize_range",
    "stages",
    "collapse_margin_db",
    "val_every",
    "warmup_steps",
    "ema_decay",
    "weight_decay",
}
VARIANT_KEYS = {"arch", "train", "data", "seeds"}
EVAL_CROP = 256  # centre crop of an eval set written as a plain data spec
SPLITS = ("val", "test")


@dataclass(frozen=True)
class EvalEntry:
    """One set a run is scored on: ``name`` (the column suffix), the triplets of ``data``'s ``split``,
    cropped at the centre to ``crop`` (None: whole frames), ``items`` of them evenly spread (None: all)."""

    name: str
    data: str
    split: str = "val"
    crop: int | None = EVAL_CROP
    items: int | None = 48


def read_eval(raw: Any, items: int, where: str) -> EvalEntry:
    """An ``eval`` item: a data spec (its validation, centre ``EVAL_CROP``, ``items`` triplets) or a mapping."""
    if isinstance(raw, str):
        return EvalEntry(raw, raw, items=items)
    if not isinstance(raw, dict) or "data" not in raw:
        raise SpecError(f"{where}: eval item {raw!r}: give a data spec or {{name, data, split, crop, items}}")
    if unknown := set(raw) - {"name", "data", "split", "crop", "items"}:
        raise SpecError(f"{where}: eval item {raw!r}: unknown keys {sorted(unknown)}")
    split = raw.get("split", "val")
    if split not in SPLITS:
        raise SpecError(f"{where}: eval item {raw!r}: split {split!r}: choose {' or '.join(SPLITS)}")
    crop, n = raw.get("crop", EVAL_CROP), raw.get("items", items)
    return EvalEntry(
        str(raw.get("name", raw["data"])), str(raw["data"]), split, None if crop is None else int(crop), n and int(n)
    )


@dataclass(frozen=True)
class StartSpec:
    """How every variant of a spec starts: ``kind`` (``rife_core.training.start``) from ``parent``."""

    kind: str = SEEDED_KIND
    parent: str | None = None  # a parent reference (rife_core.model.parents); also what a ``parent`` loss reads
    importance: str = "taylor"  # how a sliced child's channels are ranked

    def key_fields(self) -> dict[str, Any]:
        """What enters a run's key: nothing for a seeded start without a parent (keys made before starts
        existed read as before)."""
        if self.kind == SEEDED_KIND and self.parent is None:
            return {}
        d: dict[str, Any] = {"start": self.kind, "parent": self.parent}
        if self.kind == SLICED:
            d["importance"] = self.importance
        return d


METRICS = ("psnr", "ssim", "lpips")


class SpecError(ValueError):
    """A spec that cannot run; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class Variant:
    name: str
    arch: ArchConfig
    train: dict[str, Any]
    data: tuple[str, ...]
    seeds: int = 3  # runs 0..seeds-1; not part of a run's key

    def train_config(
        self, seed: int, val_data: tuple[str, ...], scale: float = 1.0, parent: str | None = None
    ) -> TrainConfig:
        """The training run of this variant at ``seed``; ``scale`` multiplies every stage's steps; ``parent``:
        what a ``parent`` loss term reads (the spec's)."""
        t = self.train
        stages = t.get("stages") or [
            {k: t[k] for k in ("steps", "crop", "batch", "lr", "p_resize", "resize_range") if k in t}
        ]
        built = []
        for s in stages:
            s = dict(s)
            if "batch" in s:
                s["batch_size"] = s.pop("batch")
            if "resize_range" in s:
                s["resize_range"] = tuple(s["resize_range"])
            s["steps"] = max(1, round(int(s.get("steps", 1000)) * scale))
            built.append(Stage(**s))
        total = sum(s.steps for s in built)
        loss = dict(t.get("loss", {"l1": 1.0}))
        reads_parent = any(t in lo for lo in [loss, *(s.loss or {} for s in built)] for t in PARENT_TERMS)
        return TrainConfig(
            parent=parent if reads_parent else None,
            data=self.data,
            val_data=val_data,
            synthetic_ratio=float(t.get("synthetic_ratio", 0.0)),
            stages=tuple(built),
            loss=loss,
            warmup_steps=int(t["warmup_steps"]) if "warmup_steps" in t else min(50, total // 10),
            ema_decay=float(t["ema_decay"]) if t.get("ema_decay") is not None else None,
            weight_decay=float(t.get("weight_decay", TrainConfig.weight_decay)),
            seed=seed,
            val_every=int(t.get("val_every", max(100, total // 5))),
            val_items=24,
            val_crop=192,
            collapse_margin_db=t.get("collapse_margin_db", TrainConfig.collapse_margin_db),
        )

    def key(self, seed: int, settings: dict[str, Any]) -> str:
        """Hash of everything that decides this run's result: results cached under it are reused."""
        d = {"arch": self.arch.to_dict(), "train": self.train, "data": list(self.data), "seed": seed, **settings}
        return content_key(d)


@dataclass(frozen=True)
class AblationSpec:
    name: str
    idea: str
    control: str
    variants: tuple[Variant, ...]
    eval: tuple[str, ...]
    seeds: int
    size: tuple[int, int] = (256, 256)  # resolution of MACs and latency
    eval_items: int = 48  # triplets per eval set (evenly spread; the embedded large-motion subset has 15)
    source: dict[str, Any] = field(default_factory=dict)  # the spec as read, logged with the runs
    start: StartSpec = field(default_factory=StartSpec)
    # ``eval`` read: the first deciding the verdicts (and the trainings' validation); ``eval`` as written
    # enters the run keys
    evals: tuple[EvalEntry, ...] = ()

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)

    def jobs(self) -> list[tuple[Variant, int]]:
        """Every (variant, seed) run, seed-major: the early seeds give pairs first."""
        return [(v, s) for s in range(max(v.seeds for v in self.variants)) for v in self.variants if s < v.seeds]

    @property
    def on_parent_space(self) -> bool:
        """Whether the base is written as a child of the parent's space (``experiments.parent_child``)."""
        return is_child_base(self.source.get("base"), self.start)

    @classmethod
    def read(cls, path: str | Path, overrides: list[str] | None = None) -> AblationSpec:
        """Read a spec file (a path, or the name of a shipped spec) and apply ``key=value`` overrides."""
        path = resolve(path)
        try:
            raw = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            raise SpecError(f"{path}: not valid YAML ({e})") from e
        if not isinstance(raw, dict):
            raise SpecError(f"{path}: a spec is a mapping with name, base, control, variants, train")
        for item in overrides or []:
            apply_override(raw, item)
        return cls.from_dict(raw, str(path))

    @classmethod
    def from_dict(cls, raw: dict[str, Any], where: str = "spec") -> AblationSpec:
        for key in ("name", "base", "control", "variants", "train"):
            if key not in raw:
                raise SpecError(f"{where}: missing '{key}'")
        train = dict(raw["train"])
        if unknown := set(train) - TRAIN_KEYS:
            raise SpecError(f"{where}: unknown train keys {sorted(unknown)}; use {sorted(TRAIN_KEYS)}")
        data = tuple(raw.get("data", ["default"]))
        start = read_start(raw, where)
        child_of = start.parent if is_child_base(raw["base"], start) else None
        variants = []
        for name, over in dict(raw["variants"]).items():
            over = over or {}
            if unknown := set(over) - VARIANT_KEYS:
                raise SpecError(
                    f"{where}: variant {name!r} has unknown keys {sorted(unknown)}; use arch, train, data, seeds"
                )
            try:
                if child_of is not None:
                    arch = child_config(child_of, {**base_choices(raw["base"]), **over.get("arch", {})})
                else:
                    arch = build_arch(raw["base"], over.get("arch", {}))
            except (ConfigError, TypeError) as e:
                raise SpecError(f"{where}: variant {name!r}: {e}") from e
            v_train = {**train, **over.get("train", {})}
            if unknown := set(v_train) - TRAIN_KEYS:
                raise SpecError(f"{where}: variant {name!r}: unknown train keys {sorted(unknown)}")
            v_seeds = read_seeds(over.get("seeds", raw.get("seeds", 3)), f"{where}: variant {name!r}")
            variants.append(Variant(str(name), arch, v_train, tuple(over.get("data", data)), v_seeds))
        if raw["control"] not in {v.name for v in variants}:
            raise SpecError(
                f"{where}: control {raw['control']!r} is not one of the variants {[v.name for v in variants]}"
            )
        if len(variants) < 2:
            raise SpecError(f"{where}: an ablation needs at least two variants")
        seeds = read_seeds(raw.get("seeds", 3), where)
        most = max(v.seeds for v in variants)  # the control pairs with every variant's every seed
        variants = [replace(v, seeds=most) if v.name == raw["control"] else v for v in variants]
        eval_raw = raw.get("eval", ["large_motion:default", "default"])
        evals = tuple(read_eval(e, int(raw.get("eval_items", 48)), where) for e in eval_raw)
        if len({e.name for e in evals}) < len(evals):
            raise SpecError(f"{where}: eval sets need distinct names: {[e.name for e in evals]}")
        return cls(
            name=str(raw["name"]),
            idea=str(raw.get("idea", "")),
            control=str(raw["control"]),
            variants=tuple(variants),
            eval=tuple(eval_raw),
            seeds=seeds,
            size=tuple(raw.get("size", (256, 256))),
            eval_items=int(raw.get("eval_items", 48)),
            source=copy.deepcopy(raw),
            start=start,
            evals=evals,
        )


def read_seeds(value: Any, where: str) -> int:
    try:
        seeds = int(value)
    except (TypeError, ValueError):
        raise SpecError(f"{where}: seeds must be a whole number, not {value!r}") from None
    if seeds < 1:
        raise SpecError(f"{where}: seeds must be at least 1")
    return seeds


def read_start(raw: dict[str, Any], where: str) -> StartSpec:
    """The spec's ``parent`` and ``start`` keys (``start`` may also be ``{kind, importance}``)."""
    parent = raw.get("parent")
    if parent is not None:
        try:
            parent_config(str(parent))  # a name of PARENTS, or PRESET:PATH for a release file
        except ParentUnavailable as e:
            raise SpecError(f"{where}: {e}") from e
    start = raw.get("start") or {}
    if isinstance(start, str):
        start = {"kind": start}
    kind = start.get("kind") or (SLICED if parent is not None else SEEDED_KIND)
    importance = start.get("importance", "taylor")
    if kind not in START_KINDS:
        raise SpecError(f"{where}: start {kind!r}: choose {' or '.join(START_KINDS)}")
    if importance not in IMPORTANCES:
        raise SpecError(f"{where}: start importance {importance!r}: choose {' or '.join(IMPORTANCES)}")
    if kind == SLICED and parent is None:
        raise SpecError(f"{where}: a sliced start needs a parent: add e.g. parent: rife_v3_hd")
    return StartSpec(kind, parent, importance)


def is_child_base(base: Any, start: StartSpec) -> bool:
    """Whether a spec's ``base`` is a child of its parent's space (a preset name or blocks are not)."""
    preset = isinstance(base, str) and base in PRESETS
    return start.parent is not None and not preset and not (isinstance(base, dict) and "blocks" in base)


def build_arch(base: str | dict[str, Any], over: dict[str, Any]) -> ArchConfig:
    over = dict(over)
    if isinstance(over.get("blocks"), dict):
        b = over["blocks"]
        over["blocks"] = uniform_blocks(list(b["scales"]), list(b["widths"]), b["depths"])
    if isinstance(base, str) and base not in PRESETS:
        raise ConfigError(f"unknown base preset {base!r}; choose one of {', '.join(PRESETS)} or give a config")
    return get_config(base, **over)


def resolve(path: str | Path) -> Path:
    """A spec path, or the name of a shipped spec (``upsample`` -> experiments/specs/upsample.yaml,
    ``parent/kinds`` -> experiments/specs/parent/kinds.yaml)."""
    p = Path(path)
    if p.is_file():
        return p
    shipped = SPECS_DIR / p.with_suffix(".yaml")
    if shipped.is_file() and not p.is_absolute():
        return shipped
    names = ", ".join(sorted(str(s.relative_to(SPECS_DIR).with_suffix("")) for s in SPECS_DIR.rglob("*.yaml")))
    raise SpecError(f"no spec file {path}; give a path or one of the shipped specs: {names}")


def apply_override(raw: dict[str, Any], item: str) -> None:
    """``train.steps=2000`` or ``seeds=5``: set a (dotted) key of the raw spec to a YAML value."""
    key, sep, value = item.partition("=")
    if not sep or not key:
        raise SpecError(f"--set {item!r}: write KEY=VALUE, e.g. train.steps=2000")
    *parents, leaf = key.strip().split(".")
    node = raw
    for k in parents:
        node = node.setdefault(k, {})
        if not isinstance(node, dict):
            raise SpecError(f"--set {item!r}: {k} is not a mapping")
    node[leaf] = yaml.safe_load(value)
