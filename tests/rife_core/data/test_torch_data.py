from __future__ import annotations

import pytest
import torch

from rife_core.cli.data import main
from rife_core.data.augment import AugmentConfig
from rife_core.data.spec import load
from rife_core.data.torch_data import TorchTriplets, make_loader


def first_batch(seed: int, workers: int) -> dict:
    ds = TorchTriplets(load("synthetic:16", "train"), AugmentConfig(crop=64))
    return next(iter(make_loader(ds, 4, shuffle=True, workers=workers, seed=seed)))


def test_batches_have_the_training_layout() -> None:
    batch = first_batch(0, 0)
    assert batch["img0"].shape == batch["imgt"].shape == batch["img1"].shape == (4, 3, 64, 64)
    assert batch["img0"].dtype == torch.float32 and batch["img0"].min() >= 0 and batch["img0"].max() <= 1
    assert batch["t"].shape == (4, 1) and set(batch["t"].flatten().tolist()) <= {0.5}


def test_seeded_loaders_repeat_augmentations_across_runs() -> None:
    a, b = first_batch(7, 1), first_batch(7, 1)
    assert torch.equal(a["imgt"], b["imgt"]) and a["name"] == b["name"]
    assert not torch.equal(a["imgt"], first_batch(8, 1)["imgt"])


def test_center_crop_for_evaluation() -> None:
    ds = TorchTriplets(load("synthetic:2", "val"), center=100)
    assert ds[0]["img0"].shape == (3, 100, 100)


def test_info_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--info", "default"]) == 0
    out = capsys.readouterr().out
    assert "train    388 triplets" in out and "1280x720" in out and "176x144" in out


def test_info_cli_bad_spec_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--info", "vimeo:/x"]) == 2
    assert "unknown dataset 'vimeo'" in capsys.readouterr().err
