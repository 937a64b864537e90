from __future__ import annotations

from types import SimpleNamespace

import torch
from torch import nn

from rife_core.cost.latency import measure_latency
from rife_core.model.presets import create_model


class Chain(nn.Module):
    """Three elementwise steps; each intermediate is released when the name is rebound."""

    def __init__(self) -> None:
        super().__init__()
        self.scale = nn.Parameter(torch.ones(()))

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, t: float) -> SimpleNamespace:
        y = img0 * 2
        y = y + 1
        y = y + 1
        return SimpleNamespace(frame=y)


def test_peak_memory_counts_live_tensors_and_frees() -> None:
    h, w = 40, 50
    frame_bytes = 3 * h * w * 4  # float32
    lat = measure_latency(Chain(), (h, w), repeats=2, warmup=1)
    # At most two frames are alive at once (the old y and the new one); three if frees were missed.
    assert lat.peak_mem_mb * 2**20 == 2 * frame_bytes


def test_latency_report_fields() -> None:
    model = create_model("lite_s")
    model.train()
    before = torch.get_num_threads()
    lat = measure_latency(model, (64, 64), repeats=3, warmup=1, threads=1)
    assert lat.repeats == 3 and lat.threads == 1 and lat.size == (64, 64)
    assert 0 < lat.min_ms <= lat.median_ms <= lat.max_ms
    assert model.training, "measuring must restore the module's mode"
    assert torch.get_num_threads() == before, "measuring with threads=1 must restore the thread count"
    # The output frame alone is 3*64*64 float32 values; the forward holds much more than that.
    assert lat.peak_mem_mb * 2**20 > 3 * 64 * 64 * 4
