"""Every preset's ONNX export computes what PyTorch computes, at an even and an odd-sized resolution."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rife_core.cost.latency import onnx_session
from rife_core.export import export_onnx
from rife_core.model.presets import PRESETS, create_model


@pytest.mark.parametrize("size", [(64, 96), (45, 71)], ids=["64x96", "45x71"])
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_onnx_export_matches_pytorch(tmp_path: Path, name: str, size: tuple[int, int]) -> None:
    model = create_model(name, seed=0).eval()
    g = torch.Generator().manual_seed(4)
    a, b = torch.rand(1, 3, *size, generator=g), torch.rand(1, 3, *size, generator=g)
    t = torch.tensor([0.3])
    with torch.no_grad():
        want = model(a, b, t).frame.numpy()
    session = onnx_session(str(export_onnx(model, tmp_path / "m.onnx", size)), 1)
    (got,) = session.run(None, {"img0": a.numpy(), "img1": b.numpy(), "t": t.numpy()})
    assert got.shape == want.shape and np.abs(got - want).max() < 1e-4
