"""Every preset's ONNX export computes what PyTorch computes, at an even and an odd-sized resolution, with
either warp the exporter can write."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from rife_core.cost.latency import onnx_session
from rife_core.export import ONNX_WARP, export_onnx
from rife_core.model.presets import PRESETS, create_model


@pytest.mark.parametrize("size", [(64, 96), (45, 71)], ids=["64x96", "45x71"])
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_onnx_export_matches_pytorch(tmp_path: Path, name: str, size: tuple[int, int]) -> None:
    _check(tmp_path, name, size, ONNX_WARP)


def test_gather_warp_export_matches_pytorch(tmp_path: Path) -> None:
    _check(tmp_path, "lite_s", (45, 71), "gather")


def _check(tmp_path: Path, name: str, size: tuple[int, int], warp: str) -> None:
    model = create_model(name, seed=0).eval()
    g = torch.Generator().manual_seed(4)
    a, b = torch.rand(1, 3, *size, generator=g), torch.rand(1, 3, *size, generator=g)
    t = torch.tensor([0.3 if PRESETS[name].timestep_input else 0.5])  # v3: the middle frame only
    with torch.no_grad():
        want = model(a, b, t).frame.numpy()
    path = export_onnx(model, tmp_path / "m.onnx", size, warp=warp)
    assert model.warp.mode == "grid_sample"  # the exporter puts the model back as it was
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert ("GridSample" in ops) == (warp == "grid_sample")
    (got,) = onnx_session(str(path), 1).run(None, {"img0": a.numpy(), "img1": b.numpy(), "t": t.numpy()})
    assert got.shape == want.shape and np.abs(got - want).max() < 1e-4
