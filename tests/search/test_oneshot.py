"""One-shot strategy at tiny sizes: supernet training resumes exactly; a search scores inherited subnets."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import optuna
import pytest
import torch
from torch.utils.data import Subset

from rife_core.model.supernet import SuperNet
from search.oneshot import (
    SupernetSettings,
    SupernetTrainer,
    load_snapshot,
    running_path,
    sample_subnets,
    snapshots,
    supernet_path,
    train_supernet,
)
from search.run import main
from search.study import counted
from space.space import V4_SPACE, SearchSpace

FIXES = ["scales=4,1", "width=16", "depth=1", "encoder_width=8", "passed_feat_ch=4"]
TINY = SupernetSettings(
    steps=4, crop=48, batch=2, synthetic_ratio=0.0, checkpoint_every=2, snapshot_every=2, workers=0, device="cpu"
)


def oneshot_args(out: Path, trials: int) -> list[str]:
    """A tiny one-shot search: a 3-step supernet, small crops and sizes."""
    tiny = "--supernet-steps 3 --supernet-synthetic-ratio 0 --proxy-crop 48 --proxy-batch 2 --val-items 2 --size 64x64"
    fixes = [a for f in (*FIXES, "conv_type=standard") for a in ("--fix", f)]
    return [
        "--out",
        str(out),
        *f"--budget 0.5M --trials {trials} --strategy oneshot {tiny}".split(),
        *fixes,
        "--no-lpips",
        "--space",
        str(V4_SPACE),  # the supernet holds v4-style networks
    ]


def tiny_space() -> SearchSpace:
    return SearchSpace.load(V4_SPACE).fix(FIXES)


def test_sandwich_takes_the_largest_and_smallest_of_its_pool() -> None:
    from rife_core.cost.params import count_params

    space = SearchSpace.load(V4_SPACE)
    subs = sample_subnets(space, 500_000, "sandwich", seed=0, step=3)
    assert len(subs) == 4 and count_params(subs[0]) >= count_params(subs[1])
    assert [s.arch_id for s in subs] == [s.arch_id for s in sample_subnets(space, 500_000, "sandwich", 0, 3)]
    assert all(count_params(s) < 500_000 for s in subs)
    assert len(sample_subnets(space, 500_000, "uniform", seed=0, step=3)) == 1


def test_supernet_training_resumes_exactly(tmp_path: Path, monkeypatch, caplog) -> None:
    import pytest

    import search.oneshot as oneshot

    space = tiny_space()
    straight = train_supernet(space, 500_000, TINY, tmp_path / "a")
    real_write = oneshot.write_checkpoint

    def write_then_die(ckpt, path):  # the process is killed right after the step-2 running checkpoint
        real_write(ckpt, path)
        if "optimizer" in ckpt:
            raise KeyboardInterrupt

    monkeypatch.setattr(oneshot, "write_checkpoint", write_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_supernet(space, 500_000, TINY, tmp_path / "b")
    monkeypatch.setattr(oneshot, "write_checkpoint", real_write)
    with caplog.at_level("INFO", logger="search.oneshot"):
        resumed = train_supernet(space, 500_000, TINY, tmp_path / "b")
    assert "resuming at step 2 of 4" in caplog.text
    a, b = straight.state_dict(), resumed.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], type(straight)(space.super_space()).state_dict()[k]) for k in a)


def test_a_longer_run_passes_through_the_shorter_runs_weights(tmp_path: Path) -> None:
    """The schedule does not depend on where the run ends, so extending a network is training on."""
    space = tiny_space()
    decaying = replace(TINY, decay_after=2)
    train_supernet(space, 500_000, replace(decaying, steps=6), tmp_path / "long")
    short = train_supernet(space, 500_000, decaying, tmp_path / "short")
    key = decaying.key(space, 500_000)
    assert key == replace(decaying, steps=6).key(space, 500_000)  # the step count is not part of the recipe
    assert sorted(snapshots(tmp_path / "long", key)) == [2, 4, 6]
    at4 = load_snapshot(snapshots(tmp_path / "long", key)[4], space)
    assert all(torch.equal(v, at4.state_dict()[k]) for k, v in short.state_dict().items())
    extended = train_supernet(space, 500_000, replace(decaying, steps=6), tmp_path / "short")
    at6 = load_snapshot(snapshots(tmp_path / "long", key)[6], space)
    assert all(torch.equal(v, at6.state_dict()[k]) for k, v in extended.state_dict().items())


def test_the_rate_falls_as_one_over_sqrt_step_after_decay_after() -> None:
    space = tiny_space()
    settings = replace(TINY, decay_after=2)
    trainer = SupernetTrainer(
        SuperNet(space.super_space()), settings.train_config(), torch.device("cpu"), space, 500_000, "uniform", 0.0, 2
    )
    trainer.step = 8
    batch = {k: torch.rand(1, 3, 32, 32) for k in ("img0", "imgt", "img1")} | {"t": torch.full((1, 1), 0.5)}
    trainer.train_step(batch, 0, 1e-3)
    assert trainer.opt.param_groups[0]["lr"] == pytest.approx(1e-3 * (2 / 8) ** 0.5)


def test_snapshots_are_half_precision_and_what_subnets_inherit(tmp_path: Path) -> None:
    space = tiny_space()
    net = train_supernet(space, 500_000, TINY, tmp_path)
    key = TINY.key(space, 500_000)
    snap, running = snapshots(tmp_path, key)[4], running_path(tmp_path, key)
    assert snap.stat().st_size < running.stat().st_size / 3  # no optimizer moments, half-precision weights
    full = torch.load(running, weights_only=True)["shared"]
    got = net.state_dict()
    assert all(torch.equal(got[k], full[k].half().float()) for k in full)  # the half-precision weights


def test_a_running_checkpoint_past_the_asked_step_without_its_snapshot_is_refused(tmp_path: Path) -> None:
    space = tiny_space()
    train_supernet(space, 500_000, TINY, tmp_path)
    with pytest.raises(ValueError, match=r"past the 3 asked.*snapshots at: 2, 4"):
        train_supernet(space, 500_000, replace(TINY, steps=3), tmp_path)


def test_a_snapshot_is_continued_with_a_fresh_optimizer(tmp_path: Path, caplog) -> None:
    space = tiny_space()
    train_supernet(space, 500_000, TINY, tmp_path)
    key = TINY.key(space, 500_000)
    running_path(tmp_path, key).unlink()  # as on a fresh clone: only the compact snapshot is there
    with caplog.at_level("INFO", logger="search.oneshot"):
        train_supernet(space, 500_000, replace(TINY, steps=6), tmp_path)
    assert "continuing snapshot" in caplog.text and "(step 4)" in caplog.text
    assert torch.load(running_path(tmp_path, key), weights_only=True)["meta"]["restarts"] == [4]


def test_a_snapshot_records_its_space_for_load_subnet(tmp_path: Path) -> None:
    from rife_core.training.checkpoint import load_subnet

    space = tiny_space()
    trained = train_supernet(space, 500_000, TINY, tmp_path)
    path = supernet_path(tmp_path, space, 500_000, TINY)
    cfg = space.first()
    got = dict(load_subnet(path, cfg).named_parameters())
    want = dict(trained.extract(cfg).named_parameters())
    assert all(torch.equal(got[k], want[k]) for k in want)


def test_oneshot_search_scores_subnets_with_inherited_weights(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RIFE_NAS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "s"
    argv = oneshot_args(out, trials=2)
    assert main(argv) == 0
    cached = list((tmp_path / "cache" / "supernet").glob("supernet_*_step3.pt"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    study = optuna.load_study(study_name="rife-nas", storage=f"sqlite:///{out / 'optuna.db'}")
    done = [t for t in study.get_trials(deepcopy=False) if counted(t) and t.state.name == "COMPLETE"]
    assert done and all(t.user_attrs["curve"].keys() == {"0"} for t in done)  # scored as inherited, no training
    assert main([*argv[:5], "3", *argv[6:]]) == 0  # one more trial: the supernet is loaded, not retrained
    assert cached[0].stat().st_mtime_ns == stamp


def test_retrain_top_starts_from_the_inherited_weights(tmp_path: Path, monkeypatch, capsys) -> None:
    import search.retrain
    from rife_core.data.spec import load
    from rife_core.model.config import ArchConfig
    from rife_core.training.checkpoint import read_checkpoint

    monkeypatch.setenv("RIFE_NAS_CACHE", str(tmp_path / "cache"))
    # Scored on two real test triplets instead of the whole split: the weights are what this test checks.
    monkeypatch.setattr(search.retrain, "test_sets", lambda spec: {"default": Subset(load("default", "test"), [0, 1])})
    out = tmp_path / "s"
    argv = [
        *oneshot_args(out, trials=1),
        *"--retrain-top 1 --retrain-steps 1 --proxy-lr 0".split(),  # lr 0: retraining keeps the weights
    ]
    assert main(argv) == 0
    assert "inherited" in capsys.readouterr().out
    (ckpt,) = (out / "retrain").glob("*_inherited/last.pt")
    saved = read_checkpoint(ckpt)
    space = SearchSpace.load(V4_SPACE)  # the supernet is the space's before --fix
    supernet = train_supernet(space, 500_000, _settings_of(out), tmp_path / "cache" / "supernet")
    want = dict(supernet.extract(ArchConfig.from_dict(saved["arch"])).named_parameters())
    assert all(torch.equal(saved["model"][k], want[k]) for k in want)


def _settings_of(out: Path) -> SupernetSettings:
    from search.spec import SearchSpec

    return SearchSpec.read(out / "search_spec.json").supernet


def test_inplace_distillation_changes_the_training_and_needs_the_sandwich_rule(tmp_path: Path) -> None:
    space = tiny_space()
    sandwich = replace(TINY, steps=2, rule="sandwich")
    plain = train_supernet(space, 500_000, sandwich, tmp_path / "plain")
    distilled = train_supernet(space, 500_000, replace(sandwich, inplace_distill=1.0), tmp_path / "distilled")
    a, b = plain.state_dict(), distilled.state_dict()
    assert any(not torch.equal(a[k], b[k]) for k in a)  # the extra term changed the gradients
    with pytest.raises(ValueError, match="sandwich"):
        replace(TINY, inplace_distill=1.0)
