from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import yaml

from rife_core.cost.params import count_params
from rife_core.model.ifnet import IFNet
from space.space import OPTIONAL, V4_SPACE, SearchSpace, SpaceError


def test_default_space_loads_and_samples_valid_configs() -> None:
    space = SearchSpace.load(V4_SPACE)
    cfgs = space.enumerate_sample(40, seed=1)
    assert all(count_params(c) == sum(p.numel() for p in IFNet(c).parameters()) for c in cfgs[:5])
    levels = {len(c.blocks) for c in cfgs}
    assert levels <= {2, 3, 4, 5} and len(levels) >= 3
    assert all(c.downsample == "bilinear" for c in cfgs if c.warp_resolution == "block")


def test_sampling_is_seed_deterministic() -> None:
    space = SearchSpace.load(V4_SPACE)
    a = [c.arch_id for c in space.enumerate_sample(10, seed=3)]
    assert a == [c.arch_id for c in space.enumerate_sample(10, seed=3)]
    assert a != [c.arch_id for c in space.enumerate_sample(10, seed=4)]


def test_size_counts_every_combination() -> None:
    space = SearchSpace.load(V4_SPACE).fix(
        [
            "scales=4,1",
            "width=16",
            "depth=1",
            "conv_type=standard",
            "downsample=bilinear",
            "warp_every=1",
            "warp_resolution=full",
            "encoder_width=0",
            "passed_feat_ch=0",
            "corr_radius=0",
            "flow_resolution=full",
        ]
    )
    assert space.size() == 4  # only the four upsampling types remain
    assert {c.upsample for c in space.enumerate_sample(30)} == {"bilinear", "deconv", "dsdeconv", "pixelshuffle"}


def test_fix_pins_a_dimension() -> None:
    space = SearchSpace.load(V4_SPACE).fix(["upsample=pixelshuffle", "scales=8,4,2,1"])
    cfgs = space.enumerate_sample(10)
    assert all(c.upsample == "pixelshuffle" and [b.scale for b in c.blocks] == [8, 4, 2, 1] for c in cfgs)


def test_fixed_trial_rebuilds_a_stored_architecture() -> None:
    space = SearchSpace.load(V4_SPACE)
    study = optuna.create_study()
    trial = study.ask()
    cfg = space.sample(trial)
    assert space.sample(optuna.trial.FixedTrial(trial.params)) == cfg


@pytest.mark.parametrize(
    ("fix", "message"),
    [("upsample=nearest", "upsample choice 'nearest'"), ("colour=red", "NAME=VALUE"), ("scales=3,1", "powers of two")],
)
def test_bad_fixes(fix: str, message: str) -> None:
    with pytest.raises(SpaceError, match=message):
        SearchSpace.load(V4_SPACE).fix([fix])


def test_bad_space_files(tmp_path: Path) -> None:
    with pytest.raises(SpaceError, match="no such space file"):
        SearchSpace.load(tmp_path / "none.yaml")
    bad = tmp_path / "s.yaml"
    bad.write_text(V4_SPACE.read_text().replace("depth:", "dept:"))
    with pytest.raises(SpaceError, match=r"unknown dimensions \['dept'\], missing \['depth'\]"):
        SearchSpace.load(bad)


@pytest.mark.parametrize("name", sorted(OPTIONAL))
def test_a_space_file_without_an_optional_dimension_reads_as_before_it(tmp_path, name: str) -> None:
    data = yaml.safe_load(V4_SPACE.read_text())
    data.pop(name, None)  # a dimension newer than the file is absent already
    path = tmp_path / "old_space.yaml"
    path.write_text(yaml.safe_dump(data))
    space = SearchSpace.load(path)
    default = OPTIONAL[name][0]
    assert space.choices[name] == (default,)
    assert {getattr(c, name) for c in space.enumerate_sample(5)} == {default}
    # it reads as a space from before the dimension: same description, same trial parameters
    # (other optional dimensions the file lists at their only default are left out of the description too)
    written = {k: v for k, v in data.items() if OPTIONAL.get(k) != tuple(v)}
    assert space.to_dict() == written
    assert space.to_dict() == SearchSpace.load(V4_SPACE).fix([f"{name}={default}"]).to_dict()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    trial = study.ask()
    space.sample(trial)
    assert name not in trial.params
