"""Dataset specs ``name:path`` as every CLI takes them, and the one function that loads a spec."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from rife_core.data import layouts
from rife_core.data.embedded import DOMAINS, default_dataset
from rife_core.data.frames import DataError
from rife_core.data.motion import LargeMotion
from rife_core.data.synthetic import SyntheticTriplets
from rife_core.data.triplets import Triplet, check_split

Loader = Callable[[Path, str, Sequence[int]], object]

LOADERS: dict[str, Loader] = {
    "vimeo_triplet": layouts.vimeo_triplet,
    "vimeo_septuplet": layouts.vimeo_septuplet,
    "frames": layouts.frame_folders,
    "adobe240": layouts.frame_folders,
    "atd12k": layouts.atd12k,
    "middlebury": layouts.middlebury,
    "davis": layouts.davis,
    "ucf101": layouts.ucf101,
    "video": layouts.videos,
}
NO_PATH = ("default", "synthetic")  # specs that need no path; synthetic takes an optional count
SYNTHETIC_DEFAULT_LENGTH = {"train": 2000, "val": 200, "test": 200}
EXAMPLE = "vimeo_triplet:/data/vimeo_triplet"


@dataclass(frozen=True)
class DataSpec:
    name: str
    path: Path | None = None
    count: int | None = None  # synthetic only: number of samples
    large_motion: bool = False  # only the triplets with large DIS flow (rife_core.data.motion)
    domain: str | None = None  # default only: "real" or "animation" clips

    def __str__(self) -> str:
        if self.large_motion:
            return f"{LARGE_MOTION}:{replace(self, large_motion=False)}"
        if self.domain is not None:
            return f"{self.name}:{self.domain}"
        if self.path is not None:
            return f"{self.name}:{self.path}"
        return f"{self.name}:{self.count}" if self.count else self.name


LARGE_MOTION = "large_motion"  # prefix: large_motion:SPEC


def known_names() -> list[str]:
    return [*NO_PATH, *LOADERS, LARGE_MOTION]


def parse_spec(text: str) -> DataSpec:
    """``"default"``, ``"synthetic"``, ``"synthetic:500"`` or ``"NAME:PATH"`` (e.g. ``vimeo_triplet:/data/v``);
    ``"large_motion:SPEC"`` keeps only SPEC's large-motion triplets."""
    name, sep, rest = text.strip().partition(":")
    if name.strip().lower() == LARGE_MOTION:
        if not rest.strip() or rest.strip().lower().startswith(LARGE_MOTION):
            raise DataError(f"{text!r}: write large_motion:SPEC, e.g. large_motion:default")
        return replace(parse_spec(rest), large_motion=True)
    name = name.strip().lower()
    if name not in known_names():
        raise DataError(
            f"unknown dataset {name!r} in {text!r}; choose one of {', '.join(known_names())} (e.g. {EXAMPLE})"
        )
    if name == "default":
        if not rest:
            return DataSpec(name)
        if rest.strip().lower() not in DOMAINS:
            raise DataError(f"{text!r}: write default, or default:DOMAIN with DOMAIN one of {', '.join(DOMAINS)}")
        return DataSpec(name, domain=rest.strip().lower())
    if name == "synthetic":
        if not rest:
            return DataSpec(name)
        if not rest.isdigit() or int(rest) < 1:
            raise DataError(f"{text!r}: write synthetic or synthetic:COUNT with a positive count, e.g. synthetic:500")
        return DataSpec(name, count=int(rest))
    if not sep or not rest.strip():
        raise DataError(f"dataset {name!r} needs a path: write {name}:/path/to/{name}")
    return DataSpec(name, path=Path(rest.strip()).expanduser())


def load(spec: DataSpec | str, split: str, spans: Sequence[int] = (2,), seed: int = 0):
    """The triplets of ``spec``'s ``split`` (train/val/test), as a map-style dataset of ``Triplet``."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    check_split(split)
    if spec.large_motion:
        return LargeMotion(load(replace(spec, large_motion=False), split, spans, seed))
    if spec.name == "default":
        return default_dataset(split, spans, spec.domain)
    if spec.name == "synthetic":
        return SyntheticTriplets(split, spec.count or SYNTHETIC_DEFAULT_LENGTH[split], seed=seed)
    if spec.path is None:
        raise DataError(f"{spec.name} needs a path: write {spec.name}:PATH")
    return LOADERS[spec.name](spec.path, split, spans)


class MixedTriplets:
    """``base`` followed by enough items of ``extra`` that they make up ``ratio`` of the whole."""

    def __init__(self, base, extra, ratio: float) -> None:
        if not 0.0 <= ratio < 1.0:
            raise DataError(f"mix ratio {ratio}: use a fraction in [0, 1), e.g. 0.5 for half synthetic")
        if ratio > 0 and not len(extra):
            raise DataError("cannot mix in an empty dataset")
        self.name = f"{base.name}+{ratio:.0%} {extra.name}"
        self.base, self.extra = base, extra
        self.n_extra = round(len(base) * ratio / (1 - ratio))

    def __len__(self) -> int:
        return len(self.base) + self.n_extra

    def __getitem__(self, idx: int) -> Triplet:
        if idx < len(self.base):
            return self.base[idx]
        if idx >= len(self):
            raise IndexError(idx)
        return self.extra[(idx - len(self.base)) % len(self.extra)]
