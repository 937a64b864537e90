from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from ptflops import get_model_complexity_info
from torch import nn

from rife_core.cost.macs import count_macs
from rife_core.model.config import IMG_CH, ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.presets import PRESETS, create_model
from rife_core.model.warp import BackwardWarp

from ..strategies import arch_configs


class ConvThenWarp(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, 1, 1)
        self.warp = BackwardWarp()

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, t: float):
        y = self.conv(img0)
        flow = img1[:, :2]

        class Out:
            frame = self.warp(y, flow)

        return Out


def test_hand_computed_conv_and_grid_sample() -> None:
    h = w = 16
    counted = count_macs(ConvThenWarp(), (h, w))
    conv = h * w * 8 * 3 * 9  # output positions x out ch x in ch x taps
    warp = 4 * 8 * h * w  # four bilinear taps per output value
    flow_to_grid = 2 * h * w + 2 * h * w  # pixel->normalised multiply, add to the base grid
    assert counted.conv == conv
    assert counted.warp == warp
    assert counted.total == conv + warp + flow_to_grid
    assert counted.unsupported == {}


def expected_warp_macs(cfg: ArchConfig, h: int, w: int) -> int:
    """Warp MACs from the warp schedule alone: 4 per output value of every grid_sample."""
    src_ch = IMG_CH + cfg.feat_ch
    total = 2 * IMG_CH * h * w * 4  # the final merge, always at full resolution
    for i in range(len(cfg.blocks)):
        if cfg.warps_after(i):
            s = cfg.blocks[i + 1].scale if cfg.warp_resolution == "block" else 1
            total += 2 * src_ch * (h // s) * (w // s) * 4
    return total


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_count_every_op_and_the_warp_schedule(name: str) -> None:
    cfg = PRESETS[name]
    size = (cfg.pad_multiple, 2 * cfg.pad_multiple)  # no padding, so the schedule formula is exact
    counted = count_macs(create_model(cfg).eval(), size)
    assert counted.unsupported == {}
    assert counted.warp == expected_warp_macs(cfg, *size)
    assert sum(counted.by_operator.values()) == counted.total
    assert counted.by_operator["upsample_bilinear2d"] > 0
    assert counted.by_operator.get("leaky_relu", 0) + counted.by_operator.get("prelu", 0) > 0


def test_low_resolution_warping_costs_less() -> None:
    full = count_macs(create_model("lite_s"), (64, 64))
    low = count_macs(create_model("lite_lowres_warp"), (64, 64))
    assert low.warp < full.warp / 2 and low.conv == full.conv


@given(arch_configs(max_width=16, max_depth=1))
@settings(max_examples=20, deadline=None)
def test_no_unsupported_ops_anywhere_in_the_family(cfg: ArchConfig) -> None:
    counted = count_macs(IFNet(cfg).eval(), (cfg.pad_multiple, cfg.pad_multiple))
    assert counted.unsupported == {}
    assert counted.warp == expected_warp_macs(cfg, cfg.pad_multiple, cfg.pad_multiple)


@pytest.mark.parametrize("name", ["rife_v4_15_lite", "lite_ds"])
def test_conv_macs_agree_with_ptflops_up_to_bias_adds(name: str) -> None:
    """ptflops also counts one add per output value of a biased conv; fvcore leaves bias out.

    With that accounted for (including ConvTranspose2d, which both count per input position) the two
    counters agree exactly on the convolutions.
    """
    h, w = 64, 128
    model = create_model(name).eval()
    bias_adds = 0

    def hook(mod: nn.Module, _inp: tuple, out: torch.Tensor) -> None:
        nonlocal bias_adds
        if mod.bias is not None:
            bias_adds += out.numel()

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)]
    with torch.no_grad():
        x = torch.rand(1, 3, h, w)
        model(x, x, 0.5)
    for hd in handles:
        hd.remove()

    macs, _ = get_model_complexity_info(
        model,
        (3, h, w),
        input_constructor=lambda _shape: {"img0": torch.rand(1, 3, h, w), "img1": torch.rand(1, 3, h, w)},
        as_strings=False,
        print_per_layer_stat=False,
        backend="pytorch",
        ignore_modules=[nn.LeakyReLU, nn.PixelShuffle],
        backend_specific_config={"count_functional": False},
    )
    assert macs is not None, "ptflops returned (None, None): it failed on this model"
    assert macs == count_macs(model, (h, w)).conv + bias_adds


def test_padded_inputs_leave_no_operator_uncounted() -> None:
    # 45x71 is padded to 64x96 (replicate), whose index arithmetic traces as aten::neg.
    counted = count_macs(create_model("lite_s").eval(), (45, 71))
    assert counted.unsupported == {}
    assert counted.total == sum(counted.by_operator.values())
