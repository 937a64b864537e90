"""Atomic result files: a failed write leaves the previous file whole and no partial file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from results.files import append_jsonl, read_jsonl, write_csv, write_text


def test_a_failed_write_keeps_the_previous_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "trials.csv"
    write_csv(pd.DataFrame({"trial": [0, 1], "psnr": [30.1, 31.2]}), path)
    before = path.read_text()
    with pytest.raises(UnicodeEncodeError):  # the new content cannot be written
        write_text(path, "trial,psnr\n2,33.0\n" + "\ud800")
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["trials.csv"]  # no temporary file left behind
    assert pd.read_csv(path)["psnr"].tolist() == [30.1, 31.2]


def test_write_creates_the_folder_and_replaces_the_content(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "summary.json"
    write_text(path, "{}")
    write_text(path, '{"n": 1}')
    assert path.read_text() == '{"n": 1}'


def test_a_line_a_kill_cut_short_is_skipped_and_the_next_row_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    append_jsonl(path, {"key": "a", "psnr": 30.0})
    with path.open("a") as f:
        f.write('{"key": "b", "ps')  # a kill in the middle of a write
    append_jsonl(path, {"key": "c", "psnr": 31.0})
    assert read_jsonl(path) == [{"key": "a", "psnr": 30.0}, {"key": "c", "psnr": 31.0}]
    assert read_jsonl(tmp_path / "none.jsonl") == []
