"""The ``--device cuda`` path of the search and the trainer, where a GPU is present (skipped elsewhere)."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import torch

from rife_core.training.checkpoint import load_model
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.trainer import train
from search.run import main
from tests.rife_core.conftest import TINY as TINY_ARCH
from tests.search.test_run import TINY

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device on this machine")


def test_a_search_trains_and_scores_its_trials_on_the_gpu(tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main([*TINY, "--budget", "150k", "--trials", "2", "--no-lpips", "--device", "cuda", "--out", str(out)]) == 0
    trials = optuna.load_study(study_name="rife-nas", storage=f"sqlite:///{out / 'optuna.db'}").trials
    done = [t for t in trials if t.state.name == "COMPLETE"]
    assert done and all(0 < t.user_attrs["psnr"] < 60 for t in done)


def test_training_on_the_gpu_writes_a_checkpoint_that_loads_on_the_cpu(tmp_path: Path) -> None:
    cfg = TrainConfig(
        data=("synthetic:16",),
        stages=(Stage(steps=4, crop=48, batch_size=2),),
        loss={"l1": 1.0},
        val_every=4,
        val_items=2,
    )
    res = train(TINY_ARCH, cfg, out_dir=tmp_path, device="cuda")
    assert res.status == "completed" and res.checkpoint is not None
    model = load_model(res.checkpoint, "cpu")
    assert all(p.device.type == "cpu" for p in model.parameters())
