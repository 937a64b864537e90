"""Loaders for the standard VFI datasets in their official folder layouts, and for plain videos."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Sequence
from pathlib import Path

from rife_core.data.cache import cached_frames
from rife_core.data.frames import IMAGE_EXTS, VIDEO_EXTS, DataError
from rife_core.data.scenecut import detect_cuts
from rife_core.data.triplets import (
    ConcatTriplets,
    FileTriplets,
    SequenceTriplets,
    check_split,
    sequence_windows,
)

log = logging.getLogger(__name__)

VAL_FRACTION = 0.05  # share of a training list's top-level groups held out for validation


def _require_dir(path: Path, what: str) -> None:
    if not path.exists():
        raise DataError(f"{path}: does not exist; give the {what} folder")
    if not path.is_dir():
        raise DataError(f"{path}: is not a folder; give the {what} folder")


def _read_list(path: Path) -> list[str]:
    if not path.is_file():
        raise DataError(f"{path}: list file is missing; is this the dataset's root folder?")
    names = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    if not names:
        raise DataError(f"{path}: list file is empty")
    return names


def _hold_out(names: list[str], split: str) -> list[str]:
    """Split a training list into train and val by whole top-level groups (e.g. Vimeo's 00001)."""
    groups = sorted({n.split("/")[0] for n in names})
    if len(groups) < 2:
        held: set[str] = set()
    else:
        held = set(groups[-max(1, round(VAL_FRACTION * len(groups))) :])
    keep = [n for n in names if (n.split("/")[0] in held) == (split == "val")]
    return keep


def _check_folder(folder: Path, files: Sequence[str], listed_in: Path) -> None:
    if not folder.is_dir():
        raise DataError(f"{folder}: listed in {listed_in.name} but missing; check the dataset is complete")
    for f in files:
        if not (folder / f).is_file():
            raise DataError(f"{folder / f}: missing (listed in {listed_in.name})")


def _vimeo(root: Path, split: str, prefix: str, n_frames: int, triples: list[tuple[int, int, int]]) -> FileTriplets:
    """Vimeo-90K's official layout: ``{prefix}_trainlist.txt``, ``{prefix}_testlist.txt``,
    ``sequences/x/y/im1..imN.png``; validation holds out whole top-level groups of the training list."""
    name = "vimeo_triplet" if prefix == "tri" else "vimeo_septuplet"
    _require_dir(root, name)
    check_split(split)
    lst = root / f"{prefix}_{'test' if split == 'test' else 'train'}list.txt"
    names = _read_list(lst)
    if split != "test":
        names = _hold_out(names, split)
    files = [f"im{i}.png" for i in range(1, n_frames + 1)]
    items = []
    for n in names:
        folder = root / "sequences" / n
        _check_folder(folder, files, lst)
        for a, b, c in triples:
            items.append((folder / files[a], folder / files[b], folder / files[c], (b - a) / (c - a)))
    return FileTriplets(name, items)


def vimeo_triplet(root: Path, split: str, spans: Sequence[int] = (2,)) -> FileTriplets:
    """Vimeo-90K triplet: (im1, im2, im3) at t = 0.5."""
    return _vimeo(root, split, "tri", 3, [(0, 1, 2)])


SEPTUPLET_FRAMES = 7


def vimeo_septuplet(root: Path, split: str, spans: Sequence[int] = (2,)) -> FileTriplets:
    """Vimeo-90K septuplet: training uses every sorted frame triple (arbitrary t, as RIFE_m samples);
    validation and test use (im1, im4, im7) at t = 0.5, the largest symmetric motion."""
    triples = list(itertools.combinations(range(SEPTUPLET_FRAMES), 3)) if split == "train" else [(0, 3, 6)]
    return _vimeo(root, split, "sep", SEPTUPLET_FRAMES, triples)


def _triplet_folders(root: Path, names: tuple[str, str, str], t: float, label: str) -> list:
    items = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        paths = [folder / n for n in names]
        missing = [p.name for p in paths if not p.is_file()]
        if missing:
            raise DataError(f"{folder}: missing {', '.join(missing)} (a {label} triplet folder needs {names})")
        items.append((*paths, t))
    if not items:
        raise DataError(f"{root}: holds no triplet folders with {names}")
    return items


def _first_existing(folder: Path, options: Sequence[tuple[str, str, str]]) -> tuple[str, str, str]:
    sample = next((p for p in sorted(folder.iterdir()) if p.is_dir()), None)
    if sample is None:
        raise DataError(f"{folder}: holds no triplet folders")
    for names in options:
        if all((sample / n).is_file() for n in names):
            return names
    raise DataError(f"{sample}: expected one of these file sets: {options}")


def atd12k(root: Path, split: str, spans: Sequence[int] = (2,)) -> FileTriplets:
    """ATD-12K: ``train_10k/<name>/frame1..3`` and ``test_2k_540p/<name>/frame1..3`` (.jpg or .png)."""
    _require_dir(root, "atd12k")
    check_split(split)
    sub = root / ("test_2k_540p" if split == "test" else "train_10k")
    if not sub.is_dir():  # a folder of triplet folders given directly
        sub = root
    names = _first_existing(
        sub, [("frame1.jpg", "frame2.jpg", "frame3.jpg"), ("frame1.png", "frame2.png", "frame3.png")]
    )
    items = _triplet_folders(sub, names, 0.5, "ATD-12K")
    if split != "test" and sub.name == "train_10k":
        keep = set(_hold_out([p[1].parent.name for p in items], split))
        items = [it for it in items if it[1].parent.name in keep]
    return FileTriplets("atd12k", items)


def _eval_only(name: str, split: str) -> None:
    check_split(split)
    if split == "train":
        raise DataError(f"{name} is an evaluation set; use it for val/test, not train")


def middlebury(root: Path, split: str, spans: Sequence[int] = (2,)) -> FileTriplets:
    """Middlebury "other" in its official layout (``other-data/<Seq>/frame10.png, frame11.png`` +
    ``other-gt-interp/<Seq>/frame10i11.png``) or in the ``input/`` + ``gt/`` layout of VFI releases."""
    _require_dir(root, "middlebury")
    _eval_only("middlebury", split)
    if (root / "input").is_dir() and not (root / "other-data").is_dir():
        return _input_gt(root, "middlebury")
    return _pairs_and_gt(root / "other-data", root / "other-gt-interp", "middlebury", "Middlebury other-")


def davis(root: Path, split: str, spans: Sequence[int] = (2,)) -> FileTriplets:
    """DAVIS as VFI releases ship it for testing: ``input/<seq>/frame10.png, frame11.png`` +
    ``gt/<seq>/frame10i11.png`` (the Middlebury naming)."""
    _require_dir(root, "davis")
    _eval_only("davis", split)
    return _input_gt(root, "davis")


def _input_gt(root: Path, name: str) -> FileTriplets:
    return _pairs_and_gt(root / "input", root / "gt", name, f"{name} ")


def _pairs_and_gt(data: Path, gt: Path, name: str, what: str) -> FileTriplets:
    """``data/<seq>/frame10.png, frame11.png`` with ``gt/<seq>/frame10i11.png``, one triplet at t=0.5 per seq."""
    _require_dir(data, f"{what}{data.name}")
    _require_dir(gt, f"{what}{gt.name}")
    items = []
    for seq in sorted(p for p in gt.iterdir() if p.is_dir()):
        paths = (data / seq.name / "frame10.png", seq / "frame10i11.png", data / seq.name / "frame11.png")
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise DataError(f"{name} sequence {seq.name}: missing {', '.join(missing)}")
        items.append((*paths, 0.5))
    if not items:
        raise DataError(f"{gt}: holds no sequences")
    return FileTriplets(name, items)


def ucf101(root: Path, split: str, spans: Sequence[int] = (2,)) -> FileTriplets:
    """UCF101-DVF: ``<id>/frame_00.png, frame_01_gt.png, frame_02.png`` (AdaCoF's ``frame0..2.png`` too)."""
    _require_dir(root, "ucf101")
    _eval_only("ucf101", split)
    names = _first_existing(
        root, [("frame_00.png", "frame_01_gt.png", "frame_02.png"), ("frame0.png", "frame1.png", "frame2.png")]
    )
    items = _triplet_folders(root, names, 0.5, "UCF101")
    return FileTriplets("ucf101", items)


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTS)


def frame_folders(root: Path, split: str, spans: Sequence[int] = (2,)) -> ConcatTriplets:
    """Adobe240 or any folder of frame folders (or one folder of frames): windows (i, i+k, i+n)."""
    _require_dir(root, "frames")
    check_split(split)
    seqs = [p for p in sorted(root.iterdir()) if p.is_dir()] or [root]
    parts = []
    for seq in seqs:
        files = _image_files(seq)
        if len(files) < 3:
            log.warning("%s: %d frame(s), skipped (a window needs 3)", seq, len(files))
            continue
        windows = sequence_windows(len(files), split, (), spans)
        items = [(files[i], files[k], files[j], (k - i) / (j - i)) for i, k, j in windows]
        parts.append(FileTriplets(f"frames/{seq.name}", items))
    if not parts:
        raise DataError(f"{root}: no folder with 3 or more frames ({', '.join(IMAGE_EXTS)})")
    return ConcatTriplets("frames", parts)


def video_sequences(paths: Sequence[Path], split: str, spans: Sequence[int], name: str) -> ConcatTriplets:
    """Windows from decoded (cached) videos, with scene cuts removed."""
    check_split(split)
    parts = []
    for path in paths:
        frames = cached_frames(path)
        cuts = detect_cuts(frames)
        parts.append(SequenceTriplets(path.stem, frames, sequence_windows(len(frames), split, cuts, spans)))
    return ConcatTriplets(name, parts)


def videos(root: Path, split: str, spans: Sequence[int] = (2,)) -> ConcatTriplets:
    """A video file, or a folder of video files."""
    if not root.exists():
        raise DataError(f"{root}: does not exist; give a video file or a folder of videos")
    files = [root] if root.is_file() else sorted(p for p in root.iterdir() if p.suffix.lower() in VIDEO_EXTS)
    if not files:
        raise DataError(f"{root}: holds no video files ({', '.join(VIDEO_EXTS)})")
    return video_sequences(files, split, spans, "video")
