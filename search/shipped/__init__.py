"""The supernets that ship with the project: half-precision snapshots listed in ``manifest.json``.

Each entry names the file, the training key and step (``search.oneshot``), its SHA-256, the budget and
rule, and the command that continues it; a one-shot search inherits from a listed snapshot instead of
training the supernet itself. None ships now: the v4 space's supernet stayed on the blend plateau at its
shipped step (17,000) and the default space's candidates start sliced from a pretrained parent instead
(docs/results/shared-supernet.md). ``python -m search.supernet ship`` lists a snapshot you train.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

SHIPPED_DIR = Path(__file__).parent
MANIFEST = SHIPPED_DIR / "manifest.json"


class ShippedError(RuntimeError):
    """A shipped snapshot is missing or does not match its checksum."""


def shipped_entries(manifest: Path = MANIFEST) -> list[dict[str, Any]]:
    """The manifest's entries (none when there is no manifest)."""
    if not manifest.is_file():
        return []
    return list(json.loads(manifest.read_text())["supernets"])


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@cache
def _verified(path: Path, digest: str, mtime: float) -> bool:
    return sha256(path) == digest


def find_shipped(key: str, step: int, manifest: Path = MANIFEST) -> Path | None:
    """The shipped snapshot of (key, step), its checksum verified; None when none ships."""
    for e in shipped_entries(manifest):
        if e["key"] == key and int(e["step"]) == step:
            path = manifest.parent / e["file"]
            if not path.is_file():
                raise ShippedError(f"{path} is listed in {manifest} but missing: restore it with git checkout")
            if not _verified(path, e["sha256"], path.stat().st_mtime):
                raise ShippedError(
                    f"{path} does not match its SHA-256 in {manifest} (a Git LFS pointer or a damaged file): "
                    "restore it with git checkout, or delete its manifest entry to train the supernet yourself"
                )
            return path
    return None


def shipped_steps(key: str, manifest: Path = MANIFEST) -> list[int]:
    return [int(e["step"]) for e in shipped_entries(manifest) if e["key"] == key]
