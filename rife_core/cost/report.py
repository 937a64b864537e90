"""The cost report of one architecture: parameters, MACs (conv / warp / other), latency, peak memory."""

from __future__ import annotations

from dataclasses import dataclass

from torch import nn

from rife_core.cost.latency import measure_latency, prior_latency_ms
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
) -> CostReport:
    """Measure everything the search and the benchmarks report about ``cfg`` at ``size`` = (H, W).

    Args:
        model: the built network to probe (its weights do not change any figure); None builds one. The
            probes draw their inputs from private generators and leave torch's global RNG alone.
    """
    if model is None:
        model = create_model(cfg, seed=0)
    model = model.to(device)
    was_training = model.training
    model.eval()
    macs = count_macs(model, size)
    lat = (
        measure_latency(model, size, repeats=repeats, warmup=warmup, threads=threads, backend=backend)
        if latency
        else None
    )
    model.train(was_training)
    prior_ms = prior_latency_ms(cfg, size, repeats, threads) if latency and cfg.has_prior else None
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
        lines.append(f"latency        {r.latency_ms:.2f} ms median in {r.backend} on {r.device}, {r.threads} thread(s)")
        if r.peak_mem_mb is not None:
            lines.append(f"peak memory    {r.peak_mem_mb:.1f} MB of tensors held by the forward")
    if r.prior is not None:
        took = f": {r.prior_ms:.2f} ms median, included in the latency" if r.prior_ms is not None else ""
        lines.append(f"flow prior     {r.prior}{took}; not counted in the MACs")
    return "\n".join(lines)
