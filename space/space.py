"""The search space as data: loading, fixing dimensions, sampling an Optuna trial into an ArchConfig.

A space file may name a ``parent`` (a pretrained member of the family, ``rife_core.model.parents``): its
architectures are then the parent's children, every choice the file leaves out is the parent's, and the
search starts each candidate from weights sliced from the parent. A file without one (``v4_space.yaml``)
describes v4-style networks that start seeded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from rife_core.model.config import ArchConfig, BlockConfig, ConfigError
from rife_core.model.parents import ParentUnavailable, parent_config

PARENT_SPACE = Path(__file__).with_name("parent_space.yaml")
V4_SPACE = Path(__file__).with_name("v4_space.yaml")
DEFAULT_SPACE = PARENT_SPACE
PER_LEVEL = ("width", "depth")
GLOBAL = (
    "conv_type",
    "downsample",
    "upsample",
    "warp_every",
    "warp_resolution",
    "encoder_width",
    "encoder_ch",
    "passed_feat_ch",
    "corr_radius",
    "flow_resolution",
    "flow_init",
    "both_orders",
)
# Dimensions a space file without a parent may leave out, and the one choice they then have (spaces written
# before them). A space with a parent may leave out any dimension but the pyramid's: it is the parent's.
OPTIONAL = {"corr_radius": (0,), "flow_resolution": ("full",), "flow_init": ("none",), "both_orders": (False,)}
DIMENSIONS = ("scales", *PER_LEVEL, *GLOBAL)
PARENT_KEY = "parent"


class SpaceError(ValueError):
    """A space file or a --fix that cannot be used; the message says what to change."""


def _scales_key(scales: list[int] | tuple[int, ...]) -> str:
    return ",".join(str(s) for s in scales)


@dataclass(frozen=True)
class SearchSpace:
    """Choices per dimension; ``scales`` choices are lists of ints, the rest scalars. ``parent``: the parent
    reference (``rife_core.model.parents.resolve_parent``) whose children these are, or None."""

    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    parent: str | None = None

    @classmethod
    def load(cls, path: str | Path | None = None) -> SearchSpace:
        path = Path(path) if path is not None else DEFAULT_SPACE
        if not path.is_file():
            raise SpaceError(f"{path}: no such space file")
        try:
            data = yaml.safe_load(path.read_text())
        except yaml.YAMLError as e:
            raise SpaceError(f"{path}: not valid YAML ({e})") from e
        if not isinstance(data, dict):
            raise SpaceError(f"{path}: expected a mapping of dimension -> list of choices")
        parent = data.pop(PARENT_KEY, None)
        if parent is not None and not isinstance(parent, str):
            raise SpaceError(f"{path}: parent must be a name (e.g. rife_v3_hd) or PRESET:PATH")
        unknown = sorted(set(data) - set(DIMENSIONS))
        may_omit = set(DIMENSIONS) - {"scales", *PER_LEVEL} if parent else set(OPTIONAL)
        missing = sorted(set(DIMENSIONS) - set(data) - may_omit)
        if unknown or missing:
            raise SpaceError(
                f"{path}: unknown dimensions {unknown}, missing {missing}; see {PARENT_SPACE.name} (a parent's "
                f"children) or {V4_SPACE.name}"
            )
        for k, v in data.items():
            if not isinstance(v, list) or not v:
                raise SpaceError(f"{path}: {k} must be a non-empty list of choices")
        try:
            space = cls.of(data, parent)
        except ParentUnavailable as e:
            raise SpaceError(f"{path}: {e}") from e
        space.check()
        return space

    @classmethod
    def of(cls, data: dict[str, list], parent: str | None = None) -> SearchSpace:
        """A space from plain choices (as a file's); dimensions left out take their default (the parent's)."""
        base = _base(parent)
        implied = {k: (getattr(base, k),) for k in GLOBAL} if parent else dict(OPTIONAL)
        choices: dict[str, tuple[Any, ...]] = {k: v for k, v in implied.items() if k not in data}
        for k, v in data.items():
            choices[k] = tuple(tuple(x) for x in v) if k == "scales" else tuple(v)
        return cls(choices, parent)

    @property
    def base(self) -> ArchConfig:
        """What a sampled architecture is before the space's choices: the parent's, else RIFE v4's defaults."""
        return _base(self.parent)

    def _implied(self, name: str) -> bool:
        """Whether dimension ``name`` holds only the value it has when left out (then it is never asked)."""
        if self.parent is not None:
            return name in GLOBAL and self.choices[name] == (getattr(self.base, name),)
        return OPTIONAL.get(name) == self.choices[name]

    def check(self) -> None:
        """Every choice must give a valid block/config on its own."""
        for scales in self.choices["scales"]:
            if not scales or any(not isinstance(s, int) or s < 1 or s & (s - 1) for s in scales):
                raise SpaceError(f"scales choice {list(scales)}: use powers of two, coarsest first, e.g. [8, 4, 2, 1]")
        c = self.choices
        try:
            # Each global choice is checked against the base's (the parent's or RIFE v4's) others.
            blocks = tuple(BlockConfig(s, c["width"][0], c["depth"][0]) for s in c["scales"][0])
            probe = self.base.replace(blocks=blocks)
        except (ConfigError, TypeError) as e:
            raise SpaceError(f"width/depth choices {c['width'][0]!r}/{c['depth'][0]!r}: {e}") from e
        for name in GLOBAL:
            for value in self.choices[name]:
                change = {name: value, "warp_resolution": "full"}
                if name == "warp_resolution":
                    change = {name: value, "downsample": "bilinear"}
                try:
                    probe.replace(**change)
                except (ConfigError, TypeError) as e:
                    raise SpaceError(f"{name} choice {value!r}: {e}") from e

    def fix(self, assignments: list[str]) -> SearchSpace:
        """Apply ``NAME=VALUE`` overrides (e.g. ``upsample=pixelshuffle``, ``scales=8,4,2,1``)."""
        choices = dict(self.choices)
        for a in assignments:
            name, sep, raw = a.partition("=")
            name = name.strip()
            if not sep or name not in DIMENSIONS:
                raise SpaceError(f"--fix {a!r}: write NAME=VALUE with NAME one of {', '.join(DIMENSIONS)}")
            if name == "scales":
                try:
                    value: Any = tuple(int(x) for x in raw.split(","))
                except ValueError as e:
                    raise SpaceError(f"--fix {a!r}: scales are comma-separated integers, e.g. scales=8,4,2,1") from e
            else:
                value = yaml.safe_load(raw)
            choices[name] = (value,)
        space = SearchSpace(choices, self.parent)
        space.check()
        return space

    def size(self) -> int:
        """Number of distinct architectures (before the block-resolution remapping merges a few)."""
        per_level = math.prod(len(self.choices[k]) for k in PER_LEVEL)
        pyramids = sum(per_level ** len(s) for s in self.choices["scales"])
        return pyramids * math.prod(len(self.choices[k]) for k in GLOBAL)

    def sample(self, trial: Any) -> ArchConfig:
        """Ask ``trial`` (an Optuna Trial or FixedTrial) for every dimension; returns the config."""
        c = self.choices
        keys = [_scales_key(s) for s in c["scales"]]
        scales = tuple(int(x) for x in trial.suggest_categorical("scales", keys).split(","))
        blocks = tuple(
            BlockConfig(
                s,
                trial.suggest_categorical(f"width_{i}", list(c["width"])),
                trial.suggest_categorical(f"depth_{i}", list(c["depth"])),
            )
            for i, s in enumerate(scales)
        )
        # A dimension at the only value it has when left out is not asked: the trial's parameters (and so
        # what a sampler draws) stay those of a space without it.
        g = {k: c[k][0] if self._implied(k) else trial.suggest_categorical(k, list(c[k])) for k in GLOBAL}
        if g["warp_resolution"] == "block":
            # Low-resolution warping hands blocks inputs already at their scale: no learned downsampler.
            g["downsample"] = "bilinear"
        return self.base.replace(blocks=blocks, **g)

    def enumerate_sample(self, n: int, seed: int = 0) -> list[ArchConfig]:
        """``n`` random configs (for dumping / inspection), deterministic for a seed."""
        import optuna

        sampler = optuna.samplers.RandomSampler(seed=seed)
        study = optuna.create_study(sampler=sampler)
        out = []
        for _ in range(n):
            trial = study.ask()
            out.append(self.sample(trial))
            study.tell(trial, 0.0)
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain data; a dimension left at the only value it has when left out is omitted, so that a space
        without it (and the study fingerprints made from it) reads as before it existed.
        A space with a parent names it."""
        out: dict[str, Any] = {PARENT_KEY: self.parent} if self.parent is not None else {}
        out.update(
            {
                k: [list(x) if isinstance(x, tuple) else x for x in v]
                for k, v in self.choices.items()
                if not self._implied(k)
            }
        )
        return out


def _base(parent: str | None) -> ArchConfig:
    if parent is None:
        return ArchConfig(blocks=(BlockConfig(1, 16, 1),))  # the blocks are always the space's
    return parent_config(parent)


__all__ = ["DEFAULT_SPACE", "DIMENSIONS", "PARENT_SPACE", "V4_SPACE", "SearchSpace", "SpaceError"]
