"""The default space: the children of a named parent, every one of them served by it."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import yaml

from rife_core.model.layer_starts import KIND_CHOICES, kind_refusals, replaced_kinds
from rife_core.model.parents import parent_config
from rife_core.model.slicing import nearest_block, refusals
from space.space import DEFAULT_SPACE, PARENT_SPACE, V4_SPACE, SearchSpace, SpaceError

SHAPE = ("activation", "residual", "split_heads", "mask_update", "timestep_input", "encoder_width")


def test_the_default_space_names_its_parent_and_every_sample_is_served_by_it() -> None:
    space = SearchSpace.load()
    assert DEFAULT_SPACE == PARENT_SPACE and space.parent == "rife_v3_hd"
    parent = parent_config(space.parent)
    cfgs = space.enumerate_sample(200, seed=0)
    assert all(refusals(parent, c) == [] for c in cfgs)
    # the layer kinds the parent lacks are in the space, each served by a rewrite or a fit (none seeded)
    for name, rule in (("conv_type", "dsconv"), ("downsample", "conv"), ("upsample", "pixelshuffle")):
        assert rule in {getattr(c, name) for c in cfgs}
    assert all(set(replaced_kinds(parent, c)) <= set(KIND_CHOICES) and not kind_refusals(parent, c) for c in cfgs)
    # what the file leaves out is the parent's; what it lists varies
    assert all(getattr(c, k) == getattr(parent, k) for c in cfgs for k in SHAPE)
    assert {c.both_orders for c in cfgs} == {True, False} and {c.warp_every for c in cfgs} == {1, 2}
    assert {tuple(b.scale for b in c.blocks) for c in cfgs} == {s for s in space.choices["scales"]}
    # every block maps onto a parent block of its scale or the nearest one
    assert all(parent.blocks[nearest_block(parent, b.scale)].width >= b.width for c in cfgs for b in c.blocks)


def test_the_parent_enters_the_spaces_description_and_left_out_choices_are_not_asked() -> None:
    space = SearchSpace.load()
    d = space.to_dict()
    assert d["parent"] == "rife_v3_hd" and "activation" not in d and "encoder_width" not in d
    trial = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0)).ask()
    cfg = space.sample(trial)
    assert "encoder_width" not in trial.params and {"both_orders", "upsample"} <= set(trial.params)
    assert space.sample(optuna.trial.FixedTrial(trial.params)) == cfg  # rebuilt from the stored parameters
    # the v4 space stays as it was: no parent, v4 choices, no both_orders dimension
    v4 = SearchSpace.load(V4_SPACE)
    assert v4.parent is None and "parent" not in v4.to_dict() and "both_orders" not in v4.to_dict()
    assert all(c.activation == "leaky_relu" and not c.both_orders for c in v4.enumerate_sample(10))


def test_a_child_wider_than_the_parent_is_refused_with_the_reason(tmp_path: Path) -> None:
    data = yaml.safe_load(PARENT_SPACE.read_text())
    data["width"] = [128]
    path = tmp_path / "wide.yaml"
    path.write_text(yaml.safe_dump(data))
    space = SearchSpace.load(path)
    (why, *_) = refusals(parent_config(space.parent), space.enumerate_sample(1)[0])
    assert "wider than the parent's block" in why and "(90)" in why


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"parent": "rife_v9"}, "PRESET:PATH"),
        ({"parent": "no_such_preset:x.pkl"}, "unknown preset"),
        ({"parent": 3}, "parent must be a name"),
    ],
)
def test_a_bad_parent_is_one_clear_error(tmp_path: Path, edit: dict, message: str) -> None:
    data = {**yaml.safe_load(PARENT_SPACE.read_text()), **edit}
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SpaceError, match=message):
        SearchSpace.load(path)


def test_a_space_without_a_parent_must_list_every_dimension(tmp_path: Path) -> None:
    data = yaml.safe_load(PARENT_SPACE.read_text())
    del data["parent"]
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(SpaceError, match=r"missing \['encoder_ch'"):
        SearchSpace.load(path)
