"""Result files written atomically: a temporary file in the same folder, then a rename.

A kill at any moment leaves either the previous file or the new one, never a half-written file that a
later run or ``reports.build`` would read as valid (at worst a stray ``.NAME.*.tmp`` beside it).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

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
