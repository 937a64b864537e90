"""``flow_resolution="block"``: block outputs stay at the block's resolution until the final merge."""

from __future__ import annotations

import pytest
import torch

from rife_core.cost.macs import count_macs
from rife_core.model.config import ArchConfig, BlockConfig, ConfigError
from rife_core.model.presets import PRESETS, create_model


def _pair(cfg: ArchConfig, size=(64, 96), dtype=torch.float64):
    """The same weights run with full-resolution and with block-resolution outputs."""
    full = create_model(cfg, seed=3).to(dtype).eval()
    native = create_model(cfg.replace(flow_resolution="block"), seed=3).to(dtype).eval()
    native.load_state_dict(full.state_dict())
    g = torch.Generator().manual_seed(4)
    a, b = (torch.rand(1, 3, *size, generator=g, dtype=dtype) for _ in range(2))
    with torch.no_grad():
        return full(a, b, 0.4), native(a, b, 0.4)


@pytest.mark.parametrize("upsample", ["deconv", "dsdeconv", "pixelshuffle", "bilinear"])
def test_one_block_gives_the_same_function(upsample: str) -> None:
    # Bilinear resizing is linear, so upsampling the block's flow before or after scaling it by the flow gain
    # is the same; the mask logit is upsampled before the sigmoid in both.
    cfg = ArchConfig(blocks=(BlockConfig(4, 8, 1),), upsample=upsample, encoder_width=8, passed_feat_ch=4)
    full, native = _pair(cfg)
    grid = {"deconv": 4, "dsdeconv": 4, "pixelshuffle": 8, "bilinear": 16}[upsample]  # where the learned part ends
    assert native.block_flows[0].shape[-2:] == (64 // grid, 96 // grid)
    assert (full.frame - native.frame).abs().max() < 1e-10
    assert (full.flows[0] - native.flows[0]).abs().max() < 1e-10
    assert (full.masks[0] - native.masks[0]).abs().max() < 1e-10


def test_blocks_at_scale_one_give_the_same_function() -> None:
    full, native = _pair(ArchConfig(blocks=(BlockConfig(1, 8, 1), BlockConfig(1, 8, 1)), warp_every=1))
    assert (full.frame - native.frame).abs().max() < 1e-10


def test_a_pyramid_changes_the_function_but_not_the_weights() -> None:
    cfg = PRESETS["lite_s"]
    full, native = _pair(cfg)
    assert (full.frame - native.frame).abs().max() > 1e-4  # up-then-down is a blur, not the identity
    assert create_model(cfg).num_params() == create_model(cfg.replace(flow_resolution="block")).num_params()


def test_flows_accumulate_across_resolutions_in_full_resolution_pixels() -> None:
    # A second block (scale 1) that predicts nothing leaves the first block's flow as it was: the flow handed
    # across resolutions keeps its units.
    cfg = ArchConfig(blocks=(BlockConfig(4, 8, 1), BlockConfig(1, 8, 1)), flow_resolution="block")
    two = create_model(cfg, seed=5).double().eval()
    with torch.no_grad():
        for p in two.blocks[1].lastconv.parameters():
            p.zero_()
        a, b = torch.rand(1, 3, 32, 48, dtype=torch.float64), torch.rand(1, 3, 32, 48, dtype=torch.float64)
        out = two(a, b)
    first = out.block_flows[0]
    assert first.shape[-2:] == (8, 12) and first.abs().max() > 0
    assert (out.flows[1] - out.flows[0]).abs().max() < 1e-10
    assert out.block_flows[1].shape[-2:] == (32, 48)


def test_odd_sizes_give_full_size_flows_and_masks_in_range() -> None:
    model = create_model(PRESETS["lite_s"].replace(flow_resolution="block"), seed=0).eval()
    a, b = torch.rand(2, 3, 67, 131), torch.rand(2, 3, 67, 131)
    with torch.inference_mode():
        out = model(a, b, torch.tensor([0.25, 0.75]))
    assert out.frame.shape == a.shape and out.frame.min() >= 0 and out.frame.max() <= 1
    assert [f.shape[-1] for f in out.block_flows] == [160 // 8, 160 // 4, 160 // 2, 160]  # 131 padded to 160
    assert all(f.shape == (2, 4, 67, 131) for f in out.flows)
    assert all(m.shape == (2, 1, 67, 131) and m.min() >= 0 and m.max() <= 1 for m in out.masks)


def test_description_and_validation() -> None:
    rife = PRESETS["lite_s"]
    assert "flow_resolution" not in rife.to_dict()  # architectures stored before the field keep their id
    native = rife.replace(flow_resolution="block")
    assert native.to_dict()["flow_resolution"] == "block" and native.arch_id != rife.arch_id
    assert ArchConfig.from_json(native.to_json()) == native
    with pytest.raises(ConfigError, match="flow_resolution"):
        rife.replace(flow_resolution="half")


def test_block_resolution_outputs_cost_fewer_macs() -> None:
    full = count_macs(create_model("lite_s").eval(), (64, 64))
    native = count_macs(create_model(PRESETS["lite_s"].replace(flow_resolution="block")).eval(), (64, 64))
    assert native.conv == full.conv and native.warp == full.warp
    assert native.by_operator["upsample_bilinear2d"] < full.by_operator["upsample_bilinear2d"]
