"""Fixtures shared across test folders."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.rife_core.model.v3_reference import RefIFNetV3


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """A release file of the rife_v3_hd structure with random weights (the real parent is tested elsewhere)."""
    torch.manual_seed(0)
    path = tmp_path / "flownet.pkl"
    torch.save({f"module.{k}": v for k, v in RefIFNetV3().state_dict().items()}, path)
    return path
