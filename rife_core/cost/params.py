"""Analytic parameter count of an ``ArchConfig``, without building the network.

The search calls this on every sampled architecture to reject over-budget ones in microseconds; a
property test checks it against ``sum(p.numel())`` of the built model.
"""

from __future__ import annotations

import math

from rife_core.model.config import FLOW_CH, IMG_CH, ArchConfig

K3 = 9  # 3x3 kernel taps
K4 = 16  # 4x4 transposed-convolution taps


def conv_params(in_ch: int, out_ch: int, taps: int = K3, bias: bool = True, groups: int = 1) -> int:
    return in_ch // groups * out_ch * taps + (out_ch if bias else 0)


def conv3x3_params(in_ch: int, out_ch: int, conv_type: str) -> int:
    """``layers.conv3x3``: standard, or depthwise (no bias) + pointwise."""
    if conv_type == "standard":
        return conv_params(in_ch, out_ch)
    return conv_params(in_ch, in_ch, groups=in_ch, bias=False) + conv_params(in_ch, out_ch, taps=1)


def act_params(channels: int, activation: str) -> int:
    """PReLU learns one slope per channel; LeakyReLU has none."""
    return channels if activation == "prelu" else 0


def conv_act_params(in_ch: int, out_ch: int, conv_type: str, activation: str) -> int:
    """``layers.conv_act``."""
    return conv3x3_params(in_ch, out_ch, conv_type) + act_params(out_ch, activation)


def residual_params(width: int, cfg: ArchConfig) -> int:
    """One residual unit: v4's ResConv (conv, beta, activation) or v3's pair of conv + activation."""
    if cfg.residual == "pair":
        return 2 * conv_act_params(width, width, cfg.conv_type, cfg.activation)
    return conv_act_params(width, width, cfg.conv_type, cfg.activation) + width  # + beta


def head_params(width: int, out_ch: int) -> int:
    return conv_params(IMG_CH, width) + 2 * conv_params(width, width) + conv_params(width, out_ch, taps=K4)


def downsample_params(channels: int, scale: int, kind: str, activation: str = "leaky_relu") -> int:
    steps = int(math.log2(scale))
    if kind == "bilinear":
        return 0
    conv_type = "standard" if kind == "conv" else "dsconv"
    return steps * conv_act_params(channels, channels, conv_type, activation)


def upsample_params(width: int, out_ch: int, kind: str, activation: str = "leaky_relu") -> int:
    if kind == "deconv2":
        hidden = width // 2
        return (
            conv_params(width, hidden, taps=K4) + act_params(hidden, activation) + conv_params(hidden, out_ch, taps=K4)
        )
    if kind == "subpixel2":
        hidden = width // 2
        return conv_params(width, 4 * hidden) + act_params(hidden, activation) + conv_params(hidden, 4 * out_ch)
    if kind == "deconv":
        return conv_params(width, 4 * out_ch, taps=K4)
    if kind == "dsdeconv":
        return conv_params(width, width, taps=K4, groups=width) + conv_params(width, 4 * out_ch, taps=1)
    if kind == "pixelshuffle":
        return conv_params(width, 4 * out_ch)
    return conv_params(width, out_ch)  # bilinear


def cost_volume_params(feat_ch: int) -> int:
    """``correlation.CostVolume``: two 3x3 convs shared by both frames (the correlation has no weights)."""
    return conv_params(IMG_CH, feat_ch // 2) + conv_params(feat_ch // 2, feat_ch)


def block_params(cfg: ArchConfig, index: int) -> int:
    b = cfg.blocks[index]
    in_ch = cfg.block_in_ch(index)
    has_down = cfg.warp_resolution == "full" or index == 0
    act = cfg.activation
    if cfg.split_heads:
        heads = upsample_params(b.width, FLOW_CH, cfg.upsample, act) + upsample_params(
            b.width, cfg.out_ch - FLOW_CH, cfg.upsample, act
        )
    else:
        heads = upsample_params(b.width, cfg.out_ch, cfg.upsample, act)
    return (
        (downsample_params(in_ch, b.scale, cfg.downsample, act) if has_down else 0)
        + conv_act_params(in_ch + (cfg.corr_planes if index == 0 else 0), b.width // 2, cfg.conv_type, act)
        + conv_act_params(b.width // 2, b.width, cfg.conv_type, act)
        + b.depth * residual_params(b.width, cfg)
        + heads
    )


def count_params(cfg: ArchConfig) -> int:
    """Trainable parameters of ``IFNet(cfg)``."""
    total = sum(block_params(cfg, i) for i in range(len(cfg.blocks)))
    if cfg.encoder_width > 0:
        total += head_params(cfg.encoder_width, cfg.encoder_ch)
    if cfg.corr_radius:
        total += cost_volume_params(cfg.corr_ch)
    return total
