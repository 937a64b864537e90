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
