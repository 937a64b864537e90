from __future__ import annotations

from types import SimpleNamespace

import pytest
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


def test_onnxruntime_backend_times_the_exported_model(tmp_path) -> None:
    import numpy as np
    import pytest

    from rife_core.cost.latency import onnx_session
    from rife_core.export.exporters import export_onnx

    model = create_model("lite_s", seed=0)
    lat = measure_latency(model, (64, 96), repeats=3, warmup=1, threads=1, backend="onnxruntime")
    assert lat.backend == "onnxruntime" and lat.threads == 1 and lat.peak_mem_mb is None
    assert 0 < lat.min_ms <= lat.median_ms <= lat.max_ms
    # what is timed computes the model: the same session setup reproduces torch's frame
    session = onnx_session(str(export_onnx(model, tmp_path / "m.onnx", (64, 96))), 1)
    g = torch.Generator().manual_seed(3)
    a, b = torch.rand(1, 3, 64, 96, generator=g), torch.rand(1, 3, 64, 96, generator=g)
    (got,) = session.run(None, {"img0": a.numpy(), "img1": b.numpy(), "t": np.full((1,), 0.5, np.float32)})
    with torch.no_grad():
        want = model(a, b, 0.5).frame.numpy()
    assert np.abs(got - want).max() < 1e-4
    with pytest.raises(ValueError, match="choose one of torch, onnxruntime"):
        measure_latency(model, (64, 96), backend="tensorrt")


class Recorder(nn.Module):
    """Appends its name to a shared log at every forward."""

    def __init__(self, name: str, log: list[str]) -> None:
        super().__init__()
        self.name, self.log = name, log
        self.w = nn.Parameter(torch.ones(1))

    def forward(self, img0, img1, timestep):
        self.log.append(self.name)
        return SimpleNamespace(frame=img0 * self.w)


def test_side_by_side_timing_takes_the_models_in_turn_each_round() -> None:
    from rife_core.cost.latency import side_by_side_ms

    calls: list[str] = []
    times = side_by_side_ms({"a": Recorder("a", calls), "b": Recorder("b", calls)}, (8, 8), rounds=3, repeats=2)
    assert {k: len(v) for k, v in times.items()} == {"a": 3, "b": 3} and min(times["a"] + times["b"]) > 0
    per_turn = 3 + 2  # measure_latency's default warm-up, then the timed passes
    turns = [calls[i] for i in range(0, len(calls), per_turn)]
    assert turns == ["a", "b"] * 3 and len(calls) == 6 * per_turn


def test_speedup_is_the_median_of_the_rounds_ratios_not_the_ratio_of_medians() -> None:
    from rife_core.cost.latency import speedup

    times = {"slow": [10.0, 20.0, 30.0], "fast": [5.0, 5.0, 30.0]}  # ratios 2, 4, 1; medians 20 / 5 = 4
    assert speedup(times, "slow", "fast") == 2.0


class Sleeper(nn.Module):
    """A forward that takes ``ms`` of wall time and computes nothing: a known latency."""

    exportable = False

    def __init__(self, ms: float) -> None:
        super().__init__()
        self.ms = ms

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, t: float) -> torch.Tensor:
        import time

        time.sleep(self.ms / 1e3)
        return img0


def test_a_reference_timed_in_turn_gives_the_ratio_of_known_times() -> None:
    from rife_core.cost.report import measure_cost
    from rife_core.model.presets import PRESETS

    cfg = PRESETS["lite_s"]
    # the network's own forward is replaced by a 30 ms sleep, the reference sleeps 15 ms: ratio 2
    model = create_model(cfg, seed=0)
    sleeper = Sleeper(30.0)
    model.forward = lambda *a: SimpleNamespace(frame=sleeper(*a))  # type: ignore[method-assign]
    r = measure_cost(cfg, (32, 32), model=model, latency_size=(48, 64), reference=("half", Sleeper(15.0)), repeats=2)
    assert r.latency_size == (48, 64) and r.size == (32, 32) and r.reference == "half"
    assert r.latency_ms >= 30.0 and r.reference_ms >= 15.0  # sleep never returns early
    assert 1.7 < r.latency_ratio < 2.1  # the few tenths of a ms of scheduling on top of each sleep


def test_dis_is_timed_as_opencv_on_every_backend_and_matches_the_evaluated_dis() -> None:
    from rife_core.evaluation.baselines import DISInterpolation, dis_interpolate

    lat = measure_latency(DISInterpolation("ultrafast"), (32, 48), repeats=1, warmup=0, backend="onnxruntime")
    assert lat.backend == "opencv" and lat.median_ms > 0
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(1, 3, 32, 48, generator=g), torch.rand(1, 3, 32, 48, generator=g)
    t = torch.full((1,), 0.5)
    assert torch.equal(DISInterpolation("medium")(a, b, 0.5), dis_interpolate(a, b, t))
    assert torch.equal(DISInterpolation("fast")(a, b, 0.5), dis_interpolate(a, b, t, "fast"))
    with pytest.raises(ValueError, match="choose one of ultrafast, fast, medium"):
        DISInterpolation("slow")
