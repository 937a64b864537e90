from __future__ import annotations

from pathlib import Path

import pytest
import torch

from rife_core.data.spec import load
from rife_core.evaluation.evaluate import evaluate, model_predictor
from rife_core.model.ifnet import IFNet
from rife_core.training.checkpoint import load_model
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.loop import lr_factor
from rife_core.training.trainer import train

from ..conftest import TINY

FAST = dict(loss={"l1": 1.0}, workers=0, val_items=12, val_crop=96, warmup_steps=5)


def test_lr_schedule_warms_up_then_decays() -> None:
    assert lr_factor(0.0, 0, 10, 0.01) == pytest.approx(0.1)
    assert lr_factor(0.0, 9, 10, 0.01) == pytest.approx(1.0)
    assert lr_factor(0.5, 50, 10, 0.01) == pytest.approx(0.505)
    assert lr_factor(1.0, 100, 10, 0.01) == pytest.approx(0.01)


def test_short_training_lowers_validation_l1(tmp_path: Path) -> None:
    cfg = TrainConfig(stages=(Stage(steps=60, crop=64, batch_size=8, lr=2e-3),), val_every=60, **FAST)
    torch.manual_seed(cfg.seed)
    model = IFNet(TINY)
    val = load("default", "val")
    before = evaluate(model_predictor(model.eval()), val, max_items=12, center=96)["l1"]
    result = train(model, cfg, out_dir=tmp_path, device="cpu")
    assert result.status == "completed" and result.step == 60
    assert result.metrics["l1"] < before
    reloaded = load_model(result.checkpoint)
    assert reloaded.cfg == TINY


def test_nan_loss_stops_the_run_cleanly(tmp_path: Path) -> None:
    model = IFNet(TINY)
    calls = {"n": 0}

    def poison(mod: torch.nn.Module, _inp: tuple, out: torch.Tensor) -> torch.Tensor:
        calls["n"] += mod.training  # training forwards only (the start is scored in eval mode)
        return out * float("nan") if mod.training and calls["n"] == 4 else out

    model.blocks[-1].lastconv.register_forward_hook(poison)
    cfg = TrainConfig(stages=(Stage(steps=10, crop=64, batch_size=2),), val_every=100, **FAST)
    result = train(model, cfg, out_dir=tmp_path, device="cpu")
    assert result.status == "diverged" and result.step == 3
    assert "loss became nan at step 3" in result.message
    assert result.checkpoint is None and not (tmp_path / "last.pt").exists()


def test_resume_continues_exactly(tmp_path: Path) -> None:
    cfg = TrainConfig(
        stages=(Stage(steps=6, crop=64, batch_size=2, lr=1e-3),), val_every=100, checkpoint_every=3, **FAST
    )
    torch.manual_seed(0)
    full = train(IFNet(TINY), cfg, out_dir=tmp_path / "a", device="cpu")
    resumed = train(IFNet(TINY), cfg, out_dir=tmp_path / "b", resume=tmp_path / "a" / "step0000003.pt", device="cpu")
    assert resumed.step == 6 and len(resumed.losses) == 3
    assert resumed.losses == pytest.approx(full.losses[3:], rel=1e-5)


def test_a_run_started_from_another_runs_first_stage_ends_as_if_trained_straight(tmp_path: Path) -> None:
    first = Stage(steps=4, crop=48, batch_size=2, lr=1e-3)
    cfg_a = TrainConfig(stages=(first, Stage(steps=2, crop=48, batch_size=2, lr=2e-4)), val_every=2, **FAST)
    cfg_b = TrainConfig(
        stages=(first, Stage(steps=3, crop=64, batch_size=2, lr=5e-4, loss={"charbonnier": 1.0})), val_every=2, **FAST
    )
    shared = tmp_path / "stage0.pt"
    torch.manual_seed(0)  # both runs begin from the same weights
    train(IFNet(TINY), cfg_a, device="cpu", stage_checkpoints={0: shared})
    torch.manual_seed(0)
    straight_model = IFNet(TINY)
    straight = train(straight_model, cfg_b, device="cpu")
    torch.manual_seed(123)  # the resumed model's own initial weights are overwritten by the checkpoint
    resumed_model = IFNet(TINY)
    resumed = train(resumed_model, cfg_b, device="cpu", resume=shared)
    assert resumed.step == straight.step == 7
    assert resumed.losses == straight.losses  # the shared stage's losses carried over, the rest recomputed
    assert [h["step"] for h in resumed.history] == [h["step"] for h in straight.history] == [2, 4, 6, 7]
    assert resumed.blend_psnr == straight.blend_psnr
    for (name, p), q in zip(straight_model.state_dict().items(), resumed_model.state_dict().values(), strict=True):
        assert torch.equal(p, q), name


def test_progressive_stages_and_time_budget() -> None:
    cfg = TrainConfig(
        stages=(
            Stage(steps=3, crop=48, batch_size=2),
            Stage(steps=2, crop=64, batch_size=2),
            Stage(steps=None, seconds=0.5, crop=64, batch_size=2),
        ),
        val_every=100,
        **FAST,
    )
    result = train(IFNet(TINY), cfg, device="cpu")
    assert result.status == "completed" and result.step > 5
    assert [h["step"] for h in result.history] == [result.step]


def test_validation_hook_can_stop_training() -> None:
    class Stop(Exception):
        pass

    seen = []

    def hook(step: int, metrics: dict) -> None:
        seen.append((step, metrics["psnr"]))
        raise Stop

    cfg = TrainConfig(stages=(Stage(steps=10, crop=48, batch_size=2),), val_every=2, **FAST)
    with pytest.raises(Stop):
        train(IFNet(TINY), cfg, device="cpu", on_validation=hook)
    assert seen[0][0] == 2 and seen[0][1] > 10


def test_a_collapsed_run_ends_as_diverged_not_completed(tmp_path: Path) -> None:
    """A learning rate far too high wrecks the net without any NaN; validation against the blend catches it."""
    cfg = TrainConfig(stages=(Stage(steps=20, crop=64, batch_size=4, lr=0.5),), val_every=10, **FAST)
    result = train(TINY, cfg, out_dir=tmp_path, device="cpu")
    assert result.status == "diverged", result.history
    assert "collapsed" in result.message and "below the 50/50 blend" in result.message
    assert result.checkpoint is None
    sane = train(TINY, TrainConfig(stages=(Stage(steps=10, crop=64, batch_size=4, lr=1e-3),), val_every=10, **FAST))
    assert sane.status == "completed"


def test_a_start_below_the_blend_is_its_start_not_a_collapse() -> None:
    """A child sliced from a parent may start far below the blend: the collapse is judged against its start."""
    net = IFNet(TINY)
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(30)  # wrecked weights: far below the blend before any step
    cfg = TrainConfig(stages=(Stage(steps=8, crop=48, batch_size=2, lr=1e-4),), val_every=4, **FAST)
    result = train(net, cfg, device="cpu")
    assert result.status == "completed", result.message
    assert [h["step"] for h in result.history] == [4, 8]
    assert all(h["psnr"] < result.blend_psnr - 10 for h in result.history)  # the blend alone would have stopped it


def test_training_with_distillation_feeds_teacher_flows(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RIFE_NAS_CACHE", str(tmp_path / "cache"))
    cfg = TrainConfig(
        data=("synthetic:8",),
        stages=(Stage(steps=4, crop=48, batch_size=2, lr=1e-3),),
        val_every=4,
        **{**FAST, "loss": {"l1": 1.0, "distill": 0.01}},
    )
    result = train(TINY, cfg, device="cpu")
    assert result.status == "completed"
    assert list((tmp_path / "cache" / "teacher_flow").glob("*.npy"))  # flows were computed and cached


def test_a_stage_can_train_with_its_own_loss() -> None:
    stages = (Stage(steps=3, crop=48, batch_size=2), Stage(steps=3, crop=48, batch_size=2, loss={"l1": 1000.0}))
    cfg = TrainConfig(stages=stages, val_every=100, **{**FAST, "loss": {"l1": 1.0}})
    result = train(IFNet(TINY), cfg, device="cpu")
    first, second = result.losses[:3], result.losses[3:]
    assert max(first) < 1 and min(second) > 1  # a mean absolute error of images in [0, 1] is below 1
