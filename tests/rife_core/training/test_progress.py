"""Progress into a redirected log: lines at intervals, not one tqdm redraw per step."""

from __future__ import annotations

import io
import logging

import pytest

from rife_core.training.progress import LineProgress, progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_and_a_file_gets_lines() -> None:
    from tqdm import tqdm

    assert isinstance(progress_bar(10, stream=Terminal()), tqdm)
    assert isinstance(progress_bar(10, stream=io.StringIO()), LineProgress)


def test_lines_come_at_intervals_with_step_rate_and_eta(caplog: pytest.LogCaptureFixture) -> None:
    bar = LineProgress(total=1000, every_s=3600)  # no interval passes during the test
    with caplog.at_level(logging.INFO, logger="rife_core.training.progress"):
        for _ in range(500):
            bar.update(1)
            bar.set_postfix(loss="0.0123", refresh=False)
        assert caplog.records == []  # 500 steps, not one line each
        bar.close()
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("step 500/1000") and "ETA" in line and "loss 0.0123" in line


def test_every_interval_writes_a_line(caplog: pytest.LogCaptureFixture) -> None:
    bar = LineProgress(total=None, initial=7, every_s=0.0)
    with caplog.at_level(logging.INFO, logger="rife_core.training.progress"):
        bar.update(1)
        bar.update(1)
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == ["step 8", "step 9"]
