"""The cost report of one architecture: parameters, MACs (conv / warp / other), latency, peak memory."""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import torch
from torch import nn

from rife_core.cost.latency import Latency, measure_latency, prior_latency_ms, side_by_side_ms, speedup
from rife_core.cost.macs import UNIT, count_macs
from rife_core.cost.params import count_params
from rife_core.model.config import ArchConfig
from rife_core.model.presets import create_model


@dataclass(frozen=True)
class CostReport:
    arch_id: str
    params: int
    size: tuple[int, int]
    padded_size: tuple[int, int]
    macs: int
    macs_conv: int
    macs_warp: int
    macs_other: int
    warp_share: float
    latency_ms: float | None
    threads: int | None
    peak_mem_mb: float | None
    device: str
    mac_unit: str = UNIT
    backend: str = "torch"  # what ran the latency measurement: torch (eager) or onnxruntime
    # A classical flow prior (cfg.flow_init): not in the MACs; its time alone, also inside latency_ms.
    prior: str | None = None
    prior_ms: float | None = None
    latency_size: tuple[int, int] | None = None  # (H, W) the latency was timed at (None: ``size``)
    # A reference timed in turn with the network (``side_by_side_ms``), e.g. DIS-medium: its ms, and the
    # network's time over it, the median of the rounds' ratios (a ratio holds where a drifting CPU's ms do not).
    reference: str | None = None
    reference_ms: float | None = None
    latency_ratio: float | None = None


def measure_cost(
    cfg: ArchConfig,
    size: tuple[int, int],
    *,
    model: nn.Module | None = None,
    latency: bool = True,
    repeats: int = 10,
    warmup: int = 3,
    threads: int | None = None,
    device: str = "cpu",
    backend: str = "torch",
    latency_size: tuple[int, int] | None = None,
    reference: tuple[str, nn.Module] | None = None,
    rounds: int = 3,
) -> CostReport:
    """Measure everything the search and the benchmarks report about ``cfg`` at ``size`` = (H, W).

    Args:
        model: the built network to probe (its weights do not change any figure); None builds one. The
            probes draw their inputs from private generators and leave torch's global RNG alone.
        latency_size: (H, W) the latency is timed at (None: ``size``, where the MACs are counted).
        reference: (name, module) timed in turn with the network over ``rounds`` rounds of ``repeats``
            passes (e.g. ``DISInterpolation``); the latency is then the median of the rounds' medians and
            ``latency_ratio`` the median of their ratios. Peak memory is not measured in that mode.
    """
    if model is None:
        model = create_model(cfg, seed=0)
    model = model.to(device)
    timed_at = latency_size or size
    was_training = model.training
    model.eval()
    macs = count_macs(model, size)
    lat, ref_ms, ratio = None, None, None
    if latency and reference is not None:
        name, ref = reference
        times = side_by_side_ms(
            {"network": model, name: ref}, timed_at, rounds=rounds, repeats=repeats, threads=threads, backend=backend
        )
        n_threads = threads or torch.get_num_threads()
        lat = Latency.of(times["network"], 0, n_threads, device, timed_at, peak_mem_mb=None, backend=backend)
        ref_ms, ratio = statistics.median(times[name]), speedup(times, "network", name)
    elif latency:
        lat = measure_latency(model, timed_at, repeats=repeats, warmup=warmup, threads=threads, backend=backend)
    model.train(was_training)
    prior_ms = prior_latency_ms(cfg, timed_at, repeats, threads) if latency and cfg.has_prior else None
    padded = cfg.padded_size(*size)
    return CostReport(
        arch_id=cfg.arch_id,
        params=count_params(cfg),
        size=size,
        padded_size=padded,
        macs=macs.total,
        macs_conv=macs.conv,
        macs_warp=macs.warp,
        macs_other=macs.other,
        warp_share=macs.warp_share,
        latency_ms=lat.median_ms if lat else None,
        threads=lat.threads if lat else None,
        peak_mem_mb=lat.peak_mem_mb if lat else None,
        device=device,
        backend=backend,
        prior=describe_prior(cfg),
        prior_ms=prior_ms,
        latency_size=timed_at if latency else None,
        reference=reference[0] if latency and reference is not None else None,
        reference_ms=ref_ms,
        latency_ratio=ratio,
    )


def describe_prior(cfg: ArchConfig) -> str | None:
    """The non-neural work of ``cfg`` in words (None without a prior)."""
    if not cfg.has_prior:
        return None
    return f"OpenCV DIS ({cfg.flow_init.removeprefix('dis_')} preset) both ways on the CPU, outside the network"


def format_report(name: str, r: CostReport) -> str:
    g = 1e9
    lines = [
        f"architecture   {name} (arch_id {r.arch_id})",
        f"parameters     {r.params:,}",
        f"input          {r.size[0]}x{r.size[1]} (padded internally to {r.padded_size[0]}x{r.padded_size[1]}), batch 1",
        f"{UNIT:<14} {r.macs / g:.3f} G  (conv {r.macs_conv / g:.3f} G, warp {r.macs_warp / g:.4f} G = "
        f"{100 * r.warp_share:.2f}%, other {r.macs_other / g:.4f} G)",
        "               fvcore, one multiply-add = 1 MAC; warp = grid_sample at 4 MACs per output value",
    ]
    if r.latency_ms is not None:
        at = f" at {r.latency_size[0]}x{r.latency_size[1]}" if r.latency_size and r.latency_size != r.size else ""
        lines.append(
            f"latency        {r.latency_ms:.2f} ms median{at} in {r.backend} on {r.device}, {r.threads} thread(s)"
        )
        if r.reference is not None:
            lines.append(
                f"               x{r.latency_ratio:.2f} {r.reference} ({r.reference_ms:.2f} ms), timed in turn, "
                "median of the rounds' ratios"
            )
        if r.peak_mem_mb is not None:
            lines.append(f"peak memory    {r.peak_mem_mb:.1f} MB of tensors held by the forward")
    if r.prior is not None:
        took = f": {r.prior_ms:.2f} ms median, included in the latency" if r.prior_ms is not None else ""
        lines.append(f"flow prior     {r.prior}{took}; not counted in the MACs")
    return "\n".join(lines)
