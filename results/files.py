"""Result files that survive a kill at any moment.

Whole files are written to a temporary file in the same folder, then renamed: a kill leaves the previous
file or the new one, never a half-written one (at worst a stray ``.NAME.*.tmp`` beside it). Append-only
JSON-lines caches (``runs.jsonl``, ``results.jsonl``) skip a last line a kill cut short, and the next append
starts a new line after it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

import pandas as pd


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (creating the folder); returns ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_csv(df: pd.DataFrame, path: str | Path) -> Path:
    """``df.to_csv(path, index=False)``, atomically."""
    return write_text(path, df.to_csv(index=False))


def read_jsonl(path: str | Path) -> list[dict]:
    """The rows of a JSON-lines file (none when it does not exist); a line cut short by a kill is skipped."""
    path = Path(path)
    rows = []
    for line in path.read_text().splitlines() if path.is_file() else []:
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return rows


def append_jsonl(path: str | Path, row: dict) -> None:
    """Append ``row`` as one line, durably; after a line a kill cut short, on a new line (appended to the
    fragment, this row would be unreadable too)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as f:  # appends go to the end whatever the read position
        torn = False
        if f.seek(0, os.SEEK_END) > 0:
            f.seek(-1, os.SEEK_END)
            torn = f.read(1) != b"\n"
        f.write((b"\n" if torn else b"") + json.dumps(row).encode() + b"\n")
        f.flush()
        os.fsync(f.fileno())


def content_key(data: Any) -> str:
    """Short hash of plain data (keys sorted, tuples as lists): equal data give equal keys everywhere.

    The one key of cached results: study fingerprints, proxy settings, reference recipes, ablation runs.
    """
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=list).encode()).hexdigest()[:12]


class JsonlCache:
    """An append-only JSON-lines file of result rows (``runs.jsonl``, ``results.jsonl``), read by ``key``."""

    def __init__(self, path: str | Path, key: Callable[[dict], Hashable]) -> None:
        self.path, self.key = Path(path), key

    def load(self) -> dict[Hashable, dict]:
        """Every complete row by its key (a line a kill cut short is skipped: that result is recomputed)."""
        return {self.key(row): row for row in read_jsonl(self.path)}

    def append(self, row: dict) -> None:
        append_jsonl(self.path, row)
