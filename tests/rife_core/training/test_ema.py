from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rife_core.model.ifnet import IFNet
from rife_core.training.checkpoint import load_model, read_checkpoint
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.ema import WeightEMA
from rife_core.training.trainer import train

from ..conftest import TINY

FAST = dict(loss={"l1": 1.0}, workers=0, val_items=8, val_crop=64, warmup_steps=2)


def test_the_average_follows_the_ramped_decay_by_hand() -> None:
    net = torch.nn.Linear(2, 1)
    ema = WeightEMA(net, decay=0.9)
    w0 = net.weight.detach().clone()
    expected = w0.clone()
    for n in range(5):
        with torch.no_grad():
            net.weight.add_(1.0)
        d = min(0.9, (1 + n) / (10 + n))  # 0.1, 0.18, 0.25, ... before reaching 0.9
        expected = d * expected + (1 - d) * net.weight.detach()
        ema.update(net)
    assert torch.allclose(ema.shadow["weight"], expected, atol=1e-6)
    assert not torch.allclose(expected, net.weight)  # the average lags the trained weights


def test_applied_swaps_the_average_in_and_the_trained_weights_back() -> None:
    net = torch.nn.Linear(2, 1)
    ema = WeightEMA(net, decay=0.5)
    with torch.no_grad():
        net.weight.add_(3.0)
    trained = net.weight.detach().clone()
    with ema.applied(net):
        assert torch.equal(net.weight, ema.shadow["weight"])
    assert torch.equal(net.weight, trained)


def test_a_run_with_ema_saves_and_ends_with_the_average_and_resumes_exactly(tmp_path: Path) -> None:
    cfg = TrainConfig(
        stages=(Stage(steps=6, crop=48, batch_size=2, lr=1e-3),),
        val_every=3,
        checkpoint_every=3,
        ema_decay=0.9,
        **FAST,
    )
    torch.manual_seed(0)
    straight_model = IFNet(TINY)
    straight = train(straight_model, cfg, out_dir=tmp_path / "a", device="cpu")
    ckpt = read_checkpoint(tmp_path / "a" / "last.pt")
    assert ckpt["ema"]["updates"] == 6
    deployed = load_model(tmp_path / "a" / "last.pt")
    trained = ckpt["ema"]["train_weights"]
    differs = False
    for name, p in straight_model.state_dict().items():
        assert torch.equal(p, deployed.state_dict()[name]), name  # the caller's model is the saved average
        differs |= not torch.equal(p, trained[name])
    assert differs  # and the average is not the last step's weights

    torch.manual_seed(7)
    resumed_model = IFNet(TINY)
    resumed = train(resumed_model, cfg, out_dir=tmp_path / "b", resume=tmp_path / "a" / "step0000003.pt", device="cpu")
    assert resumed.losses == pytest.approx(straight.losses[3:], rel=1e-6)
    assert resumed.metrics["psnr"] == pytest.approx(straight.metrics["psnr"], abs=1e-6)
    for name, p in straight_model.state_dict().items():
        assert torch.allclose(p, resumed_model.state_dict()[name], atol=1e-7), name


def test_bad_decay_is_refused() -> None:
    with pytest.raises(ValueError, match="ema_decay"):
        TrainConfig(ema_decay=1.0)
