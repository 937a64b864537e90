"""The fidelity study's trainings: one cached row per (architecture, settings), serial or in worker processes.

Every row goes through the search's candidate pipeline (without the cost probes), started as the search
starts its candidates (``rife_core.training.start.make_start``: sliced from the space's parent where it
names one). ``OUT/results.jsonl`` caches the rows, so an interrupted run resumes.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import replace
from pathlib import Path

from results.files import JsonlCache, content_key
from rife_core.cli.args import configure_output
from rife_core.cost.params import count_params
from rife_core.data.torch_data import default_workers
from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.training.start import Start, make_start
from search.candidate import CandidateFailed, run_candidate
from search.proxy import ProxySettings

log = logging.getLogger(__name__)

Job = tuple[ArchConfig, ProxySettings]


def result_cache(path: Path) -> JsonlCache:
    """``results.jsonl``: one line per (arch_id, settings key), the PSNR and what it cost."""
    return JsonlCache(path, lambda row: (row["arch_id"], row["settings"]))


def row_key(settings: ProxySettings, parent: str | None) -> str:
    """What a cached row was scored under: the settings, and the parent its candidate was sliced from."""
    return settings.key() if parent is None else content_key([settings.key(), parent])


def train_row(cfg: ArchConfig, settings: ProxySettings, start: Start, parent: str | None) -> dict:
    """Train ``cfg`` under ``settings`` from ``start`` (sliced from ``parent``, the parent's name, where there
    is one): the row to cache."""
    t0 = time.perf_counter()
    try:
        res = run_candidate(cfg, settings.train_config(parent=parent), start=start, device=settings.device)
        row = {"psnr": res.metrics["psnr"], "ssim": res.metrics["ssim"], "status": "completed"}
        history = res.history
    except CandidateFailed as e:
        assert e.trained is not None
        row = {"psnr": float("nan"), "ssim": float("nan"), "status": e.trained.status, "reason": str(e)}
        history = e.trained.history
    row["history"] = [[h["step"], round(h["psnr"], 3)] for h in history]
    row.update(
        arch_id=cfg.arch_id,
        settings=row_key(settings, parent),
        seconds=time.perf_counter() - t0,
        params=count_params(cfg),
    )
    return row


class Starts:
    """One start per (importance ranking, fit budget), made from the parent loaded once in this process."""

    def __init__(self, parent: IFNet | None) -> None:
        self.parent = parent
        self._made: dict[tuple[str, str], Start] = {}

    def __call__(self, settings: ProxySettings) -> Start:
        key = (settings.importance, settings.fit)
        if key not in self._made:
            self._made[key] = make_start(self.parent, importance=settings.importance, fit=settings.fit)
        return self._made[key]


# A worker process's starts, made once by ``_init_worker`` from the parent the main process loaded and sent.
_worker_starts: Starts | None = None


def _init_worker(threads: int, parent: IFNet | None) -> None:
    import torch

    global _worker_starts
    torch.set_num_threads(threads)
    configure_output()
    _worker_starts = Starts(parent)


def _worker_row(cfg: ArchConfig, settings: ProxySettings, name: str | None) -> dict:
    assert _worker_starts is not None, "the worker was not initialised"
    return train_row(cfg, settings, _worker_starts(settings), name)


def train_rows(
    jobs: list[Job], cache: JsonlCache, done: dict, n_jobs: int, name: str | None = None, parent: IFNet | None = None
) -> None:
    """Train every (arch, settings) not yet in ``done``, ``n_jobs`` at a time, sliced from ``parent`` (the
    space's parent ``name``, loaded once by the command) where there is one; cache each row as it arrives."""
    todo = [(c, s) for c, s in jobs if (c.arch_id, row_key(s, name)) not in done]
    if not todo:
        return
    t0 = time.perf_counter()

    def record(k: int, row: dict) -> None:
        cache.append(row)
        done[(row["arch_id"], row["settings"])] = row
        elapsed = time.perf_counter() - t0
        log.info(
            "%d/%d  %s (%s params, settings %s): %.2f dB  elapsed %.0fs  ETA %.0fs",
            k,
            len(todo),
            row["arch_id"],
            f"{row['params']:,}",
            row["settings"],
            row["psnr"],
            elapsed,
            elapsed / k * (len(todo) - k),
        )

    if n_jobs <= 1:
        starts = Starts(parent)
        for k, (cfg, settings) in enumerate(todo, 1):
            record(k, train_row(cfg, settings, starts(settings), name))
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    cores = os.cpu_count() or 2
    loader_workers = max(0, min(default_workers(), cores // n_jobs - 1))
    init = (max(1, cores // n_jobs), parent)  # the loaded parent goes to each worker once
    with ProcessPoolExecutor(n_jobs, mp.get_context("spawn"), _init_worker, init) as pool:
        futures = [pool.submit(_worker_row, c, replace(s, workers=loader_workers), name) for c, s in todo]
        for k, f in enumerate(as_completed(futures), 1):
            record(k, f.result())
