"""One-shot strategy at tiny sizes: supernet training resumes exactly; a search scores inherited subnets."""

from __future__ import annotations

from pathlib import Path

import optuna
import torch
from torch.utils.data import Subset

from search.oneshot import SupernetSettings, compact_checkpoint, sample_subnets, supernet_path, train_supernet
from search.run import main
from search.study import counted
from space.space import SearchSpace

FIXES = ["scales=4,1", "width=16", "depth=1", "encoder_width=8", "passed_feat_ch=4"]
TINY = SupernetSettings(steps=4, crop=48, batch=2, synthetic_ratio=0.0, checkpoint_every=2, workers=0)


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
    ]


def tiny_space() -> SearchSpace:
    return SearchSpace.load().fix(FIXES)


def test_sandwich_takes_the_largest_and_smallest_of_its_pool() -> None:
    from rife_core.cost.params import count_params

    space = SearchSpace.load()
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
    real_save = oneshot._save

    def save_then_die(path, net, opt, step, meta):  # the process is killed right after the step-2 checkpoint
        real_save(path, net, opt, step, meta)
        raise KeyboardInterrupt

    monkeypatch.setattr(oneshot, "_save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_supernet(space, 500_000, TINY, tmp_path / "b")
    monkeypatch.setattr(oneshot, "_save", real_save)
    with caplog.at_level("INFO", logger="search.oneshot"):
        resumed = train_supernet(space, 500_000, TINY, tmp_path / "b")
    assert "resuming at step 2 of 4" in caplog.text
    a, b = straight.state_dict(), resumed.state_dict()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    assert any(not torch.equal(a[k], type(straight)(space.super_space()).state_dict()[k]) for k in a)


def test_compact_checkpoint_loads_as_trained_at_half_precision(tmp_path: Path) -> None:
    space = tiny_space()
    trained = train_supernet(space, 500_000, TINY, tmp_path / "a")
    src = supernet_path(tmp_path / "a", space, 500_000, TINY)
    dst = supernet_path(tmp_path / "b", space, 500_000, TINY)
    compact_checkpoint(src, dst)
    assert dst.stat().st_size < src.stat().st_size / 3  # no optimizer moments, half-precision weights
    loaded = train_supernet(space, 500_000, TINY, tmp_path / "b")  # finished: loads, trains nothing
    a, b = trained.state_dict(), loaded.state_dict()
    assert all(torch.allclose(a[k], b[k], rtol=1e-3, atol=1e-4) for k in a)
    assert all(b[k].dtype == a[k].dtype for k in a)


def test_a_checkpoint_without_its_space_gets_it_when_loaded(tmp_path: Path) -> None:
    from dataclasses import asdict

    from rife_core.training.checkpoint import load_subnet

    space = tiny_space()
    trained = train_supernet(space, 500_000, TINY, tmp_path)
    path = supernet_path(tmp_path, space, 500_000, TINY)
    ckpt = torch.load(path, weights_only=True)
    assert ckpt["meta"]["super_space"] == asdict(space.super_space())
    del ckpt["meta"]["super_space"]  # as checkpoints were written before
    torch.save(ckpt, path)
    train_supernet(space, 500_000, TINY, tmp_path)  # finished: loads it and records the space
    cfg = space.first()
    got = dict(load_subnet(path, cfg).named_parameters())
    want = dict(trained.extract(cfg).named_parameters())
    assert all(torch.equal(got[k], want[k]) for k in want)


def test_unfinished_checkpoint_cannot_be_compacted(tmp_path: Path) -> None:
    import pytest

    space = tiny_space()
    train_supernet(space, 500_000, TINY, tmp_path / "a")
    longer = SupernetSettings(**{**TINY.__dict__, "steps": 8})
    src, dst = supernet_path(tmp_path / "a", space, 500_000, TINY), tmp_path / "longer.pt"
    longer_src = supernet_path(tmp_path / "a", space, 500_000, longer)
    ckpt = torch.load(src, weights_only=True)
    ckpt["meta"]["settings"]["steps"] = 8
    torch.save(ckpt, longer_src)
    with pytest.raises(ValueError, match="not finished"):
        compact_checkpoint(longer_src, dst)


def test_oneshot_search_scores_subnets_with_inherited_weights(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RIFE_NAS_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "s"
    argv = oneshot_args(out, trials=2)
    assert main(argv) == 0
    cached = list((tmp_path / "cache" / "supernet").glob("supernet_*.pt"))
    assert len(cached) == 1
    stamp = cached[0].stat().st_mtime_ns
    study = optuna.load_study(study_name="rife-nas", storage=f"sqlite:///{out / 'optuna.db'}")
    done = [t for t in study.get_trials(deepcopy=False) if counted(t) and t.state.name == "COMPLETE"]
    assert done and all(t.user_attrs["curve"].keys() == {"0"} for t in done)  # scored as inherited, no training
    assert main([*argv[:5], "3", *argv[6:]]) == 0  # one more trial: the supernet is loaded, not retrained
    assert cached[0].stat().st_mtime_ns == stamp


def test_retrain_top_starts_from_the_inherited_weights(tmp_path: Path, monkeypatch, capsys) -> None:
    import search.run
    from rife_core.data.spec import load
    from rife_core.model.config import ArchConfig
    from rife_core.training.checkpoint import read_checkpoint

    monkeypatch.setenv("RIFE_NAS_CACHE", str(tmp_path / "cache"))
    # Scored on two real test triplets instead of the whole split: the weights are what this test checks.
    monkeypatch.setattr(search.run, "test_sets", lambda spec: {"default": Subset(load("default", "test"), [0, 1])})
    out = tmp_path / "s"
    argv = [
        *oneshot_args(out, trials=1),
        *"--retrain-top 1 --retrain-steps 1 --proxy-lr 0".split(),  # lr 0: retraining keeps the weights
    ]
    assert main(argv) == 0
    assert "inherited" in capsys.readouterr().out
    (ckpt,) = (out / "retrain").glob("*_inherited/last.pt")
    saved = read_checkpoint(ckpt)
    space = tiny_space().fix(["conv_type=standard"])
    supernet = train_supernet(space, 500_000, _settings_of(out), tmp_path / "cache" / "supernet")
    want = dict(supernet.extract(ArchConfig.from_dict(saved["arch"])).named_parameters())
    assert all(torch.equal(saved["model"][k], want[k]) for k in want)


def _settings_of(out: Path) -> SupernetSettings:
    from search.spec import SearchSpec

    return SearchSpec.read(out / "search_spec.json").supernet
