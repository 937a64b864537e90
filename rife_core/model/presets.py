"""Named architectures and the one front door ``create_model``."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rife_core.model.config import ArchConfig, ConfigError, uniform_blocks
from rife_core.model.ifnet import IFNet
from rife_core.model.init import init_parameters, seeded_generator

PRESETS: dict[str, ArchConfig] = {
    # Practical-RIFE v4.25 IFNet: 5,664,776 parameters in the released code.
    "rife_v4_25": ArchConfig(
        blocks=uniform_blocks([16, 8, 4, 2, 1], [192, 128, 96, 64, 32], 8),
        encoder_width=16,
        encoder_ch=4,
        passed_feat_ch=8,
    ),
    # Practical-RIFE v4.15-lite IFNet: 2,616,476 parameters; no features passed between blocks, and the
    # ConvTranspose emits 4*6 channels of which the sixth is never read.
    "rife_v4_15_lite": ArchConfig(
        blocks=uniform_blocks([8, 4, 2, 1], [128, 96, 64, 48], 8),
        encoder_width=16,
        encoder_ch=4,
        passed_feat_ch=0,
        spare_out_ch=1,
    ),
    # Hand-designed starting points under 0.5M parameters, following the article: narrower, shallower
    # trunks (440,728 parameters).
    "lite_s": ArchConfig(
        blocks=uniform_blocks([8, 4, 2, 1], [64, 48, 40, 32], [3, 3, 2, 2]),
        encoder_width=16,
        encoder_ch=4,
        passed_feat_ch=8,
    ),
    # Depthwise-separable trunk: wider and five levels for less (406,511 parameters), light deconvolution.
    "lite_ds": ArchConfig(
        blocks=uniform_blocks([16, 8, 4, 2, 1], [160, 128, 96, 64, 32], [6, 6, 4, 3, 2]),
        conv_type="dsconv",
        upsample="dsdeconv",
        encoder_width=16,
        encoder_ch=4,
        passed_feat_ch=8,
    ),
    # lite_s with the cheapest warping: every second block, at the block's own resolution.
    "lite_lowres_warp": ArchConfig(
        blocks=uniform_blocks([8, 4, 2, 1], [64, 48, 40, 32], [3, 3, 2, 2]),
        warp_every=2,
        warp_resolution="block",
        encoder_width=16,
        encoder_ch=4,
        passed_feat_ch=8,
    ),
    # lite_s's blocks (same 440,728 parameters) with no full-resolution work before the final merge: the
    # pyramid ends at 1/2 (16/8/4/2), block outputs stay at the block's resolution (flow_resolution="block")
    # and only the final merge warps. 3.4x faster than lite_s was before the forward's rewrite and 4.7x faster
    # than rife_v4_25 at 480x640 in torch (README Results).
    "lite_fast": ArchConfig(
        blocks=uniform_blocks([16, 8, 4, 2], [64, 48, 40, 32], [3, 3, 2, 2]),
        warp_every=0,
        encoder_width=16,
        encoder_ch=4,
        passed_feat_ch=8,
        flow_resolution="block",
    ),
    # ECCV2022-RIFE v3.x HD (the parent ``rife_v3_hd``, ``rife_core.model.parents``): three PReLU blocks of
    # width 90 at 1/4, 1/2, 1, four residual pairs each, split flow and mask heads of two transposed convs,
    # each block run on both frame orders and averaged, mask logits accumulated, no timestep input (t = 0.5).
    # 2,275,575 parameters: the release's 2,277,600 less the 2,025 that read block 0's all-zero flow and mask.
    "rife_v3_hd": ArchConfig(
        blocks=uniform_blocks([4, 2, 1], [90, 90, 90], 4),
        upsample="deconv2",
        encoder_width=0,
        passed_feat_ch=0,
        activation="prelu",
        residual="pair",
        split_heads=True,
        mask_update="residual",
        both_orders=True,
        timestep_input=False,
    ),
}


def get_config(name_or_config: str | ArchConfig | dict[str, Any], **overrides: Any) -> ArchConfig:
    """Resolve a preset name, a config dict or an ``ArchConfig``, then apply field overrides."""
    if isinstance(name_or_config, ArchConfig):
        cfg = name_or_config
    elif isinstance(name_or_config, dict):
        cfg = ArchConfig.from_dict(name_or_config)
    elif name_or_config in PRESETS:
        cfg = PRESETS[name_or_config]
    else:
        raise ConfigError(f"unknown preset {name_or_config!r}; choose one of {', '.join(PRESETS)}")
    return replace(cfg, **overrides) if overrides else cfg


def create_model(
    name_or_config: str | ArchConfig | dict[str, Any], *, seed: int | None = None, **overrides: Any
) -> IFNet:
    """Build an ``IFNet`` from a preset name, a config dict or an ``ArchConfig``.

    Args:
        seed: draw the initial weights from a generator seeded with this (PyTorch's default scheme), so
            they depend on (config, seed) only; None draws them from torch's global RNG as ``nn`` does.
    """
    model = IFNet(get_config(name_or_config, **overrides))
    if seed is not None:
        init_parameters(model, seeded_generator(seed))
    return model
