from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings

from rife_core.model.config import ArchConfig, BlockConfig, ConfigError
from rife_core.model.presets import PRESETS, get_config

from ..strategies import arch_configs


@given(arch_configs())
@settings(max_examples=60, deadline=None)
def test_json_and_dict_round_trip_preserve_config_and_id(cfg: ArchConfig) -> None:
    again = ArchConfig.from_json(cfg.to_json())
    assert again == cfg
    assert again.arch_id == cfg.arch_id
    assert ArchConfig.from_dict(cfg.to_dict()) == cfg


def test_arch_id_is_content_hash() -> None:
    cfg = PRESETS["lite_s"]
    same = ArchConfig.from_dict(cfg.to_dict())
    assert same.arch_id == cfg.arch_id and len(cfg.arch_id) == 12
    assert cfg.replace(warp_every=2).arch_id != cfg.arch_id
    ids = {c.arch_id for c in PRESETS.values()}
    assert len(ids) == len(PRESETS)


def test_config_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        PRESETS["lite_s"].conv_type = "dsconv"  # type: ignore[misc]


def test_rife_channel_arithmetic() -> None:
    v425 = PRESETS["rife_v4_25"]
    assert v425.block_in_ch(0) == 7 + 8  # the released code's literals
    assert v425.block_in_ch(1) == 8 + 4 + 8 + 8
    assert v425.out_ch == 13  # ConvT emits 4*13 = 52 channels
    lite = PRESETS["rife_v4_15_lite"]
    assert lite.block_in_ch(1) == 8 + 4 + 8 and lite.out_ch == 6


def test_warp_schedule() -> None:
    base = PRESETS["lite_s"]  # four blocks
    assert [base.warps_after(i) for i in range(4)] == [True, True, True, False]
    assert [base.replace(warp_every=2).warps_after(i) for i in range(4)] == [False, True, False, False]
    assert [base.replace(warp_every=0).warps_after(i) for i in range(4)] == [False] * 4


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"blocks": (BlockConfig(3, 32, 2),)}, "power of two"),
        ({"blocks": (BlockConfig(1, 31, 2),)}, "even width"),
        ({"blocks": ()}, "blocks is empty"),
        ({"upsample": "nearest"}, "choose one of"),
        ({"warp_resolution": "block", "downsample": "conv"}, "needs downsample='bilinear'"),
        ({"warp_every": -1}, "warp_every"),
    ],
)
def test_invalid_configs_name_the_problem(change: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        dataclasses.replace(PRESETS["lite_s"], **change)


def test_from_dict_rejects_unknown_fields_and_presets() -> None:
    d = PRESETS["lite_s"].to_dict() | {"widht": 3}
    with pytest.raises(ConfigError, match="unknown config field"):
        ArchConfig.from_dict(d)
    with pytest.raises(ConfigError, match="unknown preset"):
        get_config("rife_v9")


def test_stored_configs_keep_their_arch_id() -> None:
    # arch_ids as stored before the v3 fields existed (checkpoints, result tables and caches are keyed by them)
    stored = {
        "rife_v4_25": "5ad1a28a90c0",
        "rife_v4_15_lite": "85be824cdab1",
        "lite_s": "df5a421315fa",
        "lite_ds": "ec31fdc4c270",
        "lite_lowres_warp": "d7ab0632b768",
        "lite_fast": "5dcac98c63c7",
    }
    for name, arch_id in stored.items():
        assert PRESETS[name].arch_id == arch_id
        assert ArchConfig.from_json(PRESETS[name].to_json()).arch_id == arch_id


def test_the_v3_fields_round_trip_and_change_the_id() -> None:
    cfg = PRESETS["rife_v3_hd"]
    again = ArchConfig.from_json(cfg.to_json())
    assert again == cfg and again.arch_id == cfg.arch_id
    for field, value in [
        ("activation", "prelu"),
        ("residual", "pair"),
        ("split_heads", True),
        ("mask_update", "residual"),
        ("both_orders", True),
        ("timestep_input", False),
    ]:
        base = PRESETS["lite_s"].replace(passed_feat_ch=0)
        changed = base.replace(**{field: value})
        assert field in changed.to_dict() and field not in base.to_dict()
        assert changed.arch_id != base.arch_id
    with pytest.raises(ConfigError, match="both_orders=True needs passed_feat_ch"):
        PRESETS["lite_s"].replace(both_orders=True)
