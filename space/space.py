"""The search space as data: loading, fixing dimensions, sampling an Optuna trial into an ArchConfig."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from rife_core.model.config import ArchConfig, BlockConfig, ConfigError
from rife_core.model.supernet import SuperSpace

DEFAULT_SPACE = Path(__file__).with_name("default_space.yaml")
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
)
# Dimensions a space file may leave out, and the one choice they then have (spaces written before them).
OPTIONAL = {"corr_radius": (0,), "flow_resolution": ("full",), "flow_init": ("none",)}
DIMENSIONS = ("scales", *PER_LEVEL, *GLOBAL)


class SpaceError(ValueError):
    """A space file or a --fix that cannot be used; the message says what to change."""


def _scales_key(scales: list[int] | tuple[int, ...]) -> str:
    return ",".join(str(s) for s in scales)


@dataclass(frozen=True)
class SearchSpace:
    """Choices per dimension; ``scales`` choices are lists of ints, the rest scalars."""

    choices: dict[str, tuple[Any, ...]] = field(default_factory=dict)

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
        unknown = sorted(set(data) - set(DIMENSIONS))
        missing = sorted(set(DIMENSIONS) - set(data) - set(OPTIONAL))
        if unknown or missing:
            raise SpaceError(f"{path}: unknown dimensions {unknown}, missing {missing}; see {DEFAULT_SPACE.name}")
        choices: dict[str, tuple[Any, ...]] = {k: v for k, v in OPTIONAL.items() if k not in data}
        for k, v in data.items():
            if not isinstance(v, list) or not v:
                raise SpaceError(f"{path}: {k} must be a non-empty list of choices")
            choices[k] = tuple(tuple(x) for x in v) if k == "scales" else tuple(v)
        space = cls(choices)
        space.check()
        return space

    def check(self) -> None:
        """Every choice must give a valid block/config on its own."""
        for scales in self.choices["scales"]:
            if not scales or any(not isinstance(s, int) or s < 1 or s & (s - 1) for s in scales):
                raise SpaceError(f"scales choice {list(scales)}: use powers of two, coarsest first, e.g. [8, 4, 2, 1]")
        c = self.choices
        try:
            # Each global choice is checked against RIFE's defaults for the others.
            probe = ArchConfig(blocks=tuple(BlockConfig(s, c["width"][0], c["depth"][0]) for s in c["scales"][0]))
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

    def first(self) -> ArchConfig:
        c = self.choices
        scales = c["scales"][0]
        return ArchConfig(
            blocks=tuple(BlockConfig(s, c["width"][0], c["depth"][0]) for s in scales),
            **{k: c[k][0] for k in GLOBAL if k != "warp_resolution"},
            warp_resolution="full",
        )

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
        space = SearchSpace(choices)
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
        # An optional dimension at its only default is not asked: the trial's parameters (and so what
        # a sampler draws) stay those of a space without it.
        g = {k: trial.suggest_categorical(k, list(c[k])) if OPTIONAL.get(k) != c[k] else c[k][0] for k in GLOBAL}
        if g["warp_resolution"] == "block":
            # Low-resolution warping hands blocks inputs already at their scale: no learned downsampler.
            g["downsample"] = "bilinear"
        return ArchConfig(blocks=blocks, **g)

    def random_config(self, rng: np.random.Generator) -> ArchConfig:
        """One architecture with every dimension drawn uniformly from ``rng`` (no Optuna study needed)."""
        return self.sample(_RngTrial(rng))

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

    def super_space(self) -> SuperSpace:
        """What a weight-sharing supernet must cover to hold every architecture of this space."""
        c = self.choices
        return SuperSpace(
            scales=tuple(sorted({s for scales in c["scales"] for s in scales}, reverse=True)),
            max_width=max(c["width"]),
            max_depth=max(c["depth"]),
            conv_types=tuple(c["conv_type"]),
            downsamples=tuple(c["downsample"]),
            upsamples=tuple(c["upsample"]),
            max_encoder_width=max(c["encoder_width"]),
            encoder_ch=max(c["encoder_ch"]),
            max_passed_feat_ch=max(c["passed_feat_ch"]),
            max_corr_radius=max(c["corr_radius"]),
        )

    def to_dict(self) -> dict[str, list]:
        """Plain data; an optional dimension left at its only default choice is omitted, so that a space
        without it (and the study fingerprints and supernet keys made from it) reads as before it existed."""
        return {
            k: [list(x) if isinstance(x, tuple) else x for x in v]
            for k, v in self.choices.items()
            if OPTIONAL.get(k) != tuple(v)
        }


class _RngTrial:
    """The one Optuna Trial method ``SearchSpace.sample`` uses, answered from a NumPy generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng

    def suggest_categorical(self, name: str, choices: list[Any]) -> Any:
        return choices[int(self.rng.integers(len(choices)))]


__all__ = ["DEFAULT_SPACE", "DIMENSIONS", "SearchSpace", "SpaceError"]
