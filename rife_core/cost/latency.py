"""Wall-clock latency and peak memory of one inference forward pass."""

from __future__ import annotations

import statistics
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten


@dataclass(frozen=True)
class Latency:
    """Timing of ``repeats`` forward passes at ``size`` (H, W), batch 1, after ``warmup`` passes."""

    median_ms: float
    min_ms: float
    max_ms: float
    repeats: int
    warmup: int
    threads: int
    device: str
    size: tuple[int, int]
    # Most tensor memory the forward holds at once, beyond weights and inputs (on CPU: live tensor storages
    # seen by a dispatch mode; on CUDA: the allocator's peak).
    peak_mem_mb: float


@contextmanager
def _num_threads(n: int | None) -> Iterator[int]:
    previous = torch.get_num_threads()
    if n:
        torch.set_num_threads(n)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


class _LiveTensorBytes(TorchDispatchMode):
    """Tracks bytes of tensor storages created inside the mode and still alive; keeps the peak."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self._seen: set[int] = set()

    def _free(self, key: int, nbytes: int) -> None:
        self._seen.discard(key)
        self.live -= nbytes

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                storage = t.untyped_storage()
                key = id(storage)
                if key not in self._seen:  # views share their base's storage
                    self._seen.add(key)
                    self.live += storage.nbytes()
                    self.peak = max(self.peak, self.live)
                    weakref.finalize(storage, self._free, key, storage.nbytes())
        return out


def _cpu_peak_bytes(model: nn.Module, x0: torch.Tensor, x1: torch.Tensor, timestep: float) -> int:
    """Peak bytes of tensors the forward allocates and holds at once (activations, outputs)."""
    tracker = _LiveTensorBytes()
    with tracker:
        out = model(x0, x1, timestep)
    del out
    return tracker.peak


def measure_latency(
    model: nn.Module,
    size: tuple[int, int],
    *,
    repeats: int = 10,
    warmup: int = 3,
    threads: int | None = None,
    timestep: float = 0.5,
    measure_memory: bool = True,
) -> Latency:
    """Median wall time of ``model(img0, img1, t)`` under ``torch.inference_mode()``.

    Args:
        model: an IFNet-like module; its first parameter decides device and dtype.
        size: (H, W) of the frames.
        repeats: timed passes; the median is reported.
        warmup: untimed passes first (allocator, caches, lazy init).
        threads: intra-op CPU threads for the measurement (default: torch's current setting).
    """
    p = next(model.parameters())
    device = p.device
    h, w = size
    g = torch.Generator().manual_seed(0)  # private: the probe leaves torch's global RNG alone
    x0, x1 = (torch.rand(1, 3, h, w, generator=g).to(device, p.dtype) for _ in range(2))
    was_training = model.training
    model.eval()
    times: list[float] = []
    with _num_threads(threads) as n_threads, torch.inference_mode():
        for _ in range(warmup):
            model(x0, x1, timestep)
        _sync(device)
        for _ in range(repeats):
            start = time.perf_counter()
            model(x0, x1, timestep)
            _sync(device)
            times.append((time.perf_counter() - start) * 1e3)
        peak = 0
        if measure_memory:
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
                base = torch.cuda.memory_allocated(device)
                model(x0, x1, timestep)
                _sync(device)
                peak = torch.cuda.max_memory_allocated(device) - base
            else:
                peak = _cpu_peak_bytes(model, x0, x1, timestep)
    model.train(was_training)
    return Latency(
        median_ms=statistics.median(times),
        min_ms=min(times),
        max_ms=max(times),
        repeats=repeats,
        warmup=warmup,
        threads=n_threads,
        device=str(device),
        size=(h, w),
        peak_mem_mb=peak / 2**20,
    )
