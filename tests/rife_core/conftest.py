from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rife_core.model.config import ArchConfig, uniform_blocks
from rife_core.model.ifnet import IFNet
from rife_core.training.checkpoint import save_checkpoint
from rife_core.training.config import TrainConfig

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
TINY = ArchConfig(blocks=uniform_blocks([4, 2, 1], [16, 16, 16], 1), encoder_width=8, encoder_ch=4, passed_feat_ch=4)


def shared_or_skip(name: str) -> Path:
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"{path} is absent (development data in ../shared/data, not shipped to users)")
    return path


@pytest.fixture
def tiny_checkpoint(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    model = IFNet(TINY)
    opt = torch.optim.AdamW(model.parameters())
    return save_checkpoint(tmp_path / "tiny.pt", model, opt, 0, TrainConfig())
