"""The 'parent' loss term: L1 to the parent's frame of the same batch, with the parent named in the config."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from rife_core.cli import evaluate as evaluate_cli
from rife_core.cli import train as train_cli
from rife_core.model.config import uniform_blocks
from rife_core.model.parents import resolve_parent
from rife_core.model.presets import PRESETS, create_model
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.losses import CompositeLoss
from rife_core.training.trainer import train

CHILD = PRESETS["rife_v3_hd"].replace(blocks=uniform_blocks([4, 2, 1], [8, 8, 8], 1))


def test_the_term_is_l1_to_the_parents_frame() -> None:
    model = create_model(CHILD, seed=0)
    a, b, t = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    out = model(a, b)
    parent_frame = torch.rand(2, 3, 32, 32)
    total, terms = CompositeLoss({"l1": 1.0, "parent": 0.5})(out, t, model, a, b, None, parent_frame)
    assert terms["parent"] == pytest.approx(float(F.l1_loss(out.frame.detach(), parent_frame)))
    assert float(total.detach()) == pytest.approx(terms["l1"] + 0.5 * terms["parent"], rel=1e-6)
    with pytest.raises(ValueError, match="parent's frame"):
        CompositeLoss({"parent": 1.0})(out, t, model, a, b)


def test_the_config_names_its_parent() -> None:
    with pytest.raises(ValueError, match="needs a parent"):
        TrainConfig(loss={"l1": 1.0, "parent": 0.5})
    assert "parent" not in TrainConfig().to_dict()  # configs without a parent keep their stored content
    assert TrainConfig(loss={"parent": 1.0}, parent="rife_v3_hd").to_dict()["parent"] == "rife_v3_hd"


def _tiny_run(release: Path, **kwargs) -> TrainConfig:
    """Two steps on 32x32 crops with the parent term, the parent a release file of random weights."""
    return TrainConfig(
        stages=(Stage(steps=2, crop=32, batch_size=2),),
        parent=f"rife_v3_hd:{release}",
        val_every=2,
        val_items=1,
        val_crop=32,
        workers=0,
        collapse_margin_db=None,
        **kwargs,
    )


def test_training_with_the_parent_term_reads_the_parent_it_is_given(release: Path) -> None:
    cfg = _tiny_run(release, loss={"parent": 1.0})
    parent = resolve_parent(cfg.parent)
    result = train(create_model(CHILD, seed=0), cfg, device="cpu", parent=parent)
    assert result.status == "completed" and len(result.losses) == 2 and all(v > 0 for v in result.losses)
    assert all(p.requires_grad for p in parent.parameters())  # the caller's parent is left as it was
    with pytest.raises(ValueError, match="needs the parent network"):  # never loaded by name in the trainer
        train(create_model(CHILD, seed=0), cfg, device="cpu")


def test_cli_usage_errors_name_the_problem(release: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    wide = tmp_path / "wide.json"
    wide.write_text(CHILD.replace(blocks=uniform_blocks([4, 2, 1], [96, 8, 8], 1)).to_json())
    with pytest.raises(SystemExit) as e:
        train_cli.main(["--config", str(wide), "--init-from-parent", f"rife_v3_hd:{release}", "--out", str(tmp_path)])
    assert e.value.code == 2 and "blocks[0].width=96 is wider" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        evaluate_cli.main(["--parent", "no_such_parent", "--data", "default", "--no-lpips"])
    assert e.value.code == 2 and "PRESET:PATH" in capsys.readouterr().err


def test_training_reads_cached_parent_frames(release: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np
    from PIL import Image

    monkeypatch.setenv("RIFE_NAS_CACHE", str(tmp_path / "cache"))
    clip = tmp_path / "frames" / "clip"
    clip.mkdir(parents=True)
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (48, 80, 3), dtype=np.uint8)
    for i in range(40):  # a texture moving 2 px per frame
        Image.fromarray(np.roll(base, 2 * i, axis=1)).save(clip / f"{i:04d}.png")
    spec = f"frames:{tmp_path / 'frames'}"
    cfg = _tiny_run(release, data=(spec,), loss={"l1": 1.0, "parent": 0.5}, cache_parent_frames=True)
    result = train(create_model(CHILD, seed=0), cfg, device="cpu", parent=resolve_parent(cfg.parent))
    cached = list((tmp_path / "cache" / "parent_frames").glob("*/*.npy"))
    assert result.status == "completed" and len(cached) > 0
    assert all(np.load(p).shape == (48, 80, 3) for p in cached)


def test_the_flow_term_pulls_each_block_towards_the_parent_block_nearest_in_scale() -> None:
    from rife_core.training.losses import CHARBONNIER_EPS, charbonnier

    from ...small_parent import small_parent

    parent = small_parent()
    a, b, t = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    with torch.no_grad():
        pout = parent(a, b)
        # the parent against itself: every flow and mask matches, what is left is the Charbonnier epsilon
        _, same = CompositeLoss({"parent_flow": 1.0})(pout, t, parent, a, b, None, None, (pout, parent))
        assert same["parent_flow"] == pytest.approx(CHARBONNIER_EPS, rel=1e-4)
        # a child at 1/8, 1/2, 1: its first block is held to the parent's 1/4 block, the others to their own
        child = create_model(parent.cfg.replace(blocks=uniform_blocks([8, 2, 1], [8, 8, 8], 1)), seed=1)
        cout = child(a, b)
        _, terms = CompositeLoss({"parent_flow": 1.0})(cout, t, child, a, b, None, None, (pout, parent))
        by_hand = sum(
            float(charbonnier(cout.flows[i], pout.flows[i]) + F.l1_loss(cout.masks[i], pout.masks[i])) for i in range(3)
        )
    assert terms["parent_flow"] == pytest.approx(by_hand / 3, rel=1e-5)
    with pytest.raises(ValueError, match="parent's output"):
        CompositeLoss({"parent_flow": 1.0})(cout, t, child, a, b)


def test_training_with_the_flow_term_runs_the_parent_it_is_given(release: Path) -> None:
    cfg = _tiny_run(release, loss={"l1": 1.0, "parent_flow": 0.01})
    assert cfg.needs_parent
    result = train(create_model(CHILD, seed=0), cfg, device="cpu", parent=resolve_parent(cfg.parent))
    assert result.status == "completed" and len(result.losses) == 2 and all(v > 0 for v in result.losses)
