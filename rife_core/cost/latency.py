"""Wall-clock latency and peak memory of one inference forward pass, in PyTorch or in onnxruntime.

Backends: ``torch`` (eager, ``torch.inference_mode()``) and ``onnxruntime`` (the model exported to ONNX as
``python -m rife_core.export`` does, run by the CPU execution provider with the same intra-op threads and
all graph optimisations): where users deploy, not only where they train.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

from rife_core.export.exporters import export_onnx
from rife_core.model.config import ArchConfig
from rife_core.model.flow_prior import dis_prior
from rife_core.model.ifnet import example_inputs


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
    # seen by a dispatch mode; on CUDA: the allocator's peak); None where not measured (onnxruntime).
    peak_mem_mb: float | None
    backend: str = "torch"

    @classmethod
    def of(cls, times: list[float], warmup: int, threads: int, device: str, size: tuple[int, int], **kw) -> Latency:
        """The summary of the per-pass ``times`` (ms)."""
        return cls(statistics.median(times), min(times), max(times), len(times), warmup, threads, device, size, **kw)


BACKENDS = ("torch", "onnxruntime")
DEPLOY_SIZE = (480, 640)  # (H, W) a deployed model is timed at: the search's latency, the retrained members'


@contextmanager
def _num_threads(n: int | None) -> Iterator[int]:
    """torch's intra-op threads, and OpenCV's for a flow prior's DIS, set to ``n`` inside the block."""
    import cv2

    previous, previous_cv = torch.get_num_threads(), cv2.getNumThreads()
    if n:
        torch.set_num_threads(n)
        cv2.setNumThreads(n)
    try:
        yield torch.get_num_threads()
    finally:
        torch.set_num_threads(previous)
        cv2.setNumThreads(previous_cv)


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
    backend: str = "torch",
) -> Latency:
    """Median wall time of ``model(img0, img1, t)`` under ``torch.inference_mode()``, or of its ONNX export.

    A flow prior (``cfg.flow_init``) is part of the time on both backends: the torch forward computes it,
    and onnxruntime's timed call computes it before running the graph that takes it as an input.

    Args:
        model: an IFNet-like module; its first parameter decides device and dtype.
        size: (H, W) of the frames.
        repeats: timed passes; the median is reported.
        warmup: untimed passes first (allocator, caches, lazy init).
        threads: intra-op CPU threads for the measurement (default: torch's current setting).
        backend: ``torch`` or ``onnxruntime`` (CPU only; exports the model at ``size`` first).
    """
    if backend not in BACKENDS:
        raise ValueError(f"latency backend {backend!r}: choose one of {', '.join(BACKENDS)}")
    if not getattr(model, "exportable", True):  # a classical method (DIS): its own code on every backend
        backend = "opencv"
    elif backend == "onnxruntime":
        return _onnxruntime_latency(model, size, repeats=repeats, warmup=warmup, threads=threads, timestep=timestep)
    p = next(model.parameters(), None)
    device, dtype = (p.device, p.dtype) if p is not None else (torch.device("cpu"), torch.float32)
    h, w = size
    # Drawn from a private generator: the probe leaves torch's global RNG alone.
    x0, x1 = (x.to(device, dtype) for x in example_inputs(None, size, timestep)[:2])
    was_training = model.training
    model.eval()
    with _num_threads(threads) as n_threads, torch.inference_mode():

        def forward() -> None:
            model(x0, x1, timestep)
            _sync(device)

        times = _wall_ms(forward, warmup, repeats)
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
    return Latency.of(times, warmup, n_threads, str(device), (h, w), peak_mem_mb=peak / 2**20, backend=backend)


def side_by_side_ms(
    models: dict[str, nn.Module],
    size: tuple[int, int],
    *,
    rounds: int = 5,
    repeats: int = 10,
    threads: int | None = None,
    backend: str = "torch",
) -> dict[str, list[float]]:
    """Name -> the median ms of each of ``rounds`` rounds, the models timed in turn within each round.

    A ratio of two times is only as good as the conditions they shared: timed minutes apart, the same
    network's time drifts by tens of percent on a laptop CPU. Interleaving puts that drift into every
    model's rounds alike, and ``speedup`` takes ratios round by round.
    """
    if rounds < 1:
        raise ValueError(f"rounds={rounds}: use 1 or more")
    times: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rounds):
        for name, model in models.items():
            lat = measure_latency(model, size, repeats=repeats, threads=threads, measure_memory=False, backend=backend)
            times[name].append(lat.median_ms)
    return times


def round_ratios(times: dict[str, list[float]], slower: str, faster: str) -> list[float]:
    """``slower``'s time over ``faster``'s in each round (from ``side_by_side_ms``)."""
    return [s / f for s, f in zip(times[slower], times[faster], strict=True)]


def speedup(times: dict[str, list[float]], slower: str, faster: str) -> float:
    """Median over rounds of ``slower``'s time over ``faster``'s (from ``side_by_side_ms``)."""
    return statistics.median(round_ratios(times, slower, faster))


def onnx_session(path: str, threads: int) -> Any:
    """An onnxruntime CPU session with ``threads`` intra-op threads, one inter-op thread, all optimisations."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def _onnxruntime_latency(
    model: nn.Module, size: tuple[int, int], *, repeats: int, warmup: int, threads: int | None, timestep: float
) -> Latency:

    h, w = size
    n_threads = threads or torch.get_num_threads()
    x0, x1, t = example_inputs(None, size, timestep)
    feeds = {"img0": x0.numpy(), "img1": x1.numpy(), "t": t.numpy()}
    was_training = model.training
    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(model, Path(tmp) / "model.onnx", size)
        session = onnx_session(str(path), n_threads)
    model.train(was_training)
    cfg = getattr(model, "cfg", None)

    def run() -> None:
        if cfg is not None and cfg.has_prior:
            feeds["flow_init"] = dis_prior(x0, x1, t, cfg.flow_init).numpy()
        session.run(None, feeds)

    with _num_threads(n_threads):
        times = _wall_ms(run, warmup, repeats)
    return Latency.of(times, warmup, n_threads, "cpu", (h, w), peak_mem_mb=None, backend="onnxruntime")


def prior_latency_ms(cfg: ArchConfig, size: tuple[int, int], repeats: int = 10, threads: int | None = None) -> float:
    """Median wall ms of ``cfg``'s classical flow prior alone (DIS both ways) on a pair of ``size`` frames."""
    x0, x1, t = example_inputs(None, size)
    with _num_threads(threads):
        return statistics.median(_wall_ms(lambda: dis_prior(x0, x1, t, cfg.flow_init), 1, repeats))


def _wall_ms(fn: Callable[[], object], warmup: int, repeats: int) -> list[float]:
    """Milliseconds of each of ``repeats`` calls of ``fn`` after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return times
