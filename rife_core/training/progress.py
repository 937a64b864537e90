"""Progress of a long loop: a tqdm bar on a terminal, a log line at intervals anywhere else.

A redirected log (``python -m search.run ... > run.log 2>&1``) would otherwise hold one tqdm redraw per
step; ``LineProgress`` writes a readable line (step k/N, rate, ETA and the latest figures) every
``every_s`` seconds and at the end instead.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, TextIO

log = logging.getLogger(__name__)

LOG_EVERY_S = 30.0  # a redirected log gains a line this often: a few dozen lines for a 2000-step retraining


class LineProgress:
    """The part of tqdm's interface the training loop uses, reported as log lines at intervals."""

    def __init__(self, total: int | None, initial: int = 0, unit: str = "step", every_s: float = LOG_EVERY_S) -> None:
        self.total, self.n, self.unit, self.every_s = total, initial, unit, every_s
        self._start_n = initial
        self._t0 = self._last = time.perf_counter()
        self._postfix: dict[str, Any] = {}

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.perf_counter()
        if now - self._last >= self.every_s:
            self._last = now
            self._report(now)

    def set_postfix(self, refresh: bool = True, **kw: Any) -> None:
        self._postfix.update(kw)

    def close(self) -> None:
        self._report(time.perf_counter())

    def _report(self, now: float) -> None:
        done = self.n - self._start_n
        elapsed = now - self._t0
        rate = done / elapsed if elapsed > 0 else 0.0
        of = f"/{self.total}" if self.total else ""
        eta = f", ETA {(self.total - self.n) / rate:.0f}s" if self.total and rate > 0 else ""
        extra = "".join(f", {k} {v}" for k, v in self._postfix.items())
        log.info("%s %d%s (%.2f %s/s, elapsed %.0fs%s)%s", self.unit, self.n, of, rate, self.unit, elapsed, eta, extra)


def progress_bar(total: int | None, initial: int = 0, unit: str = "step", stream: TextIO | None = None) -> Any:
    """A tqdm bar where ``stream`` (default stderr) is a terminal, else a ``LineProgress``."""
    stream = stream or sys.stderr
    if stream.isatty():
        from tqdm.auto import tqdm

        return tqdm(total=total, initial=initial, unit=unit, dynamic_ncols=True, file=stream)
    return LineProgress(total, initial, unit)
