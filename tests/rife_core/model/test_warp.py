from __future__ import annotations

import pytest
import torch

from rife_core.model.warp import BackwardWarp, gather_warp, warp_mode


def test_zero_flow_is_identity() -> None:
    x = torch.rand(2, 5, 17, 23)
    out = BackwardWarp()(x, torch.zeros(2, 2, 17, 23))
    torch.testing.assert_close(out, x, atol=1e-6, rtol=0)


@pytest.mark.parametrize(("dx", "dy"), [(3, 0), (0, -2), (4, 5), (-7, 1)])
def test_integer_flow_shifts_exactly(dx: int, dy: int) -> None:
    x = torch.rand(1, 3, 32, 40, dtype=torch.float64)
    flow = torch.zeros(1, 2, 32, 40, dtype=torch.float64)
    flow[:, 0], flow[:, 1] = dx, dy
    out = BackwardWarp()(x, flow)
    # Backward warp: out[y, x] = in[y + dy, x + dx]; compare where the source pixel exists.
    ys = slice(max(0, -dy), 32 - max(0, dy))
    xs = slice(max(0, -dx), 40 - max(0, dx))
    src = x[..., max(0, dy) : 32 + min(0, dy), max(0, dx) : 40 + min(0, dx)]
    torch.testing.assert_close(out[..., ys, xs], src, atol=1e-10, rtol=0)


def test_half_pixel_flow_interpolates_bilinearly() -> None:
    x = torch.arange(8.0).view(1, 1, 1, 8).expand(1, 1, 4, 8).contiguous()
    flow = torch.zeros(1, 2, 4, 8)
    flow[:, 0] = 0.5
    out = BackwardWarp()(x, flow)
    torch.testing.assert_close(out[..., :7], x[..., :7] + 0.5)


def test_base_grid_cached_per_size_and_dropped_on_cast() -> None:
    warp = BackwardWarp()
    x = torch.rand(1, 1, 8, 8)
    warp(x, torch.zeros(1, 2, 8, 8))
    warp(x, torch.zeros(1, 2, 8, 8))
    warp(torch.rand(1, 1, 4, 6), torch.zeros(1, 2, 4, 6))
    assert len(warp._grids) == 2
    warp.to(torch.float64)
    assert len(warp._grids) == 0
    out = warp(x.double(), torch.zeros(1, 2, 8, 8, dtype=torch.float64))
    assert out.dtype == torch.float64


@pytest.mark.parametrize("shape", [(1, 3, 37, 53), (3, 7, 16, 16), (1, 1, 1, 9), (2, 2, 5, 1)])
def test_gather_warp_samples_what_grid_sample_samples(shape: tuple[int, int, int, int]) -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(*shape, generator=g, dtype=torch.float64)
    flow = torch.randn(shape[0], 2, *shape[2:], generator=g, dtype=torch.float64) * 6  # many samples off the edge
    torch.testing.assert_close(gather_warp(x, flow), BackwardWarp()(x, flow), atol=1e-12, rtol=0)


def test_warp_mode_switches_every_warp_and_restores_it() -> None:
    model = torch.nn.Sequential(BackwardWarp(), torch.nn.Sequential(BackwardWarp()))
    with warp_mode(model, "gather"):
        assert [m.mode for m in model.modules() if isinstance(m, BackwardWarp)] == ["gather", "gather"]
    assert [m.mode for m in model.modules() if isinstance(m, BackwardWarp)] == ["grid_sample", "grid_sample"]
    with pytest.raises(ValueError, match="choose one of grid_sample, gather"), warp_mode(model, "nearest"):
        pass
