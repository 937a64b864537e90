"""Building blocks of the IFNet family: convolutions, ResConv, the context encoder, resamplers."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

LEAKY_SLOPE = 0.2  # Practical-RIFE's LeakyReLU slope everywhere


def conv3x3(in_ch: int, out_ch: int, stride: int, conv_type: str) -> nn.Module:
    """3x3 convolution, standard or depthwise-separable (depthwise 3x3 without bias + pointwise 1x1)."""
    if conv_type == "standard":
        return nn.Conv2d(in_ch, out_ch, 3, stride, 1)
    return nn.Sequential(
        nn.Conv2d(in_ch, in_ch, 3, stride, 1, groups=in_ch, bias=False),
        nn.Conv2d(in_ch, out_ch, 1),
    )


def activation(kind: str, channels: int) -> nn.Module:
    """The blocks' nonlinearity: LeakyReLU(0.2) (RIFE v4) or PReLU with a slope per channel (RIFE v3)."""
    if kind == "prelu":
        return nn.PReLU(channels)
    return nn.LeakyReLU(LEAKY_SLOPE)


def conv_act(in_ch: int, out_ch: int, stride: int, conv_type: str, act: str = "leaky_relu") -> nn.Sequential:
    """RIFE's ``conv()``: 3x3 convolution followed by the activation."""
    return nn.Sequential(conv3x3(in_ch, out_ch, stride, conv_type), activation(act, out_ch))


class ResConv(nn.Module):
    """Practical-RIFE v4's residual unit: act(conv3x3(x) * beta + x), beta per channel."""

    def __init__(self, channels: int, conv_type: str = "standard", act: str = "leaky_relu") -> None:
        super().__init__()
        self.conv = conv3x3(channels, channels, 1, conv_type)
        self.beta = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.act = activation(act, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x) * self.beta + x)


class ResPair(nn.Module):
    """RIFE v3's residual unit: x + act(conv3x3(act(conv3x3(x)))), no activation after the sum."""

    def __init__(self, channels: int, conv_type: str = "standard", act: str = "leaky_relu") -> None:
        super().__init__()
        self.convs = nn.Sequential(
            conv_act(channels, channels, 1, conv_type, act), conv_act(channels, channels, 1, conv_type, act)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.convs(x) + x


def residual_unit(kind: str, channels: int, conv_type: str, act: str) -> nn.Module:
    """One unit of a block's trunk (``ArchConfig.residual``)."""
    return ResPair(channels, conv_type, act) if kind == "pair" else ResConv(channels, conv_type, act)


class Head(nn.Module):
    """Per-frame context encoder (RIFE v4 ``Head``): stride-2 conv, two convs, ConvTranspose back to full res."""

    def __init__(self, width: int, out_ch: int) -> None:
        super().__init__()
        self.cnn0 = nn.Conv2d(3, width, 3, 2, 1)
        self.cnn1 = nn.Conv2d(width, width, 3, 1, 1)
        self.cnn2 = nn.Conv2d(width, width, 3, 1, 1)
        self.cnn3 = nn.ConvTranspose2d(width, out_ch, 4, 2, 1)
        self.act = nn.LeakyReLU(LEAKY_SLOPE)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.cnn0(x))
        x = self.act(self.cnn1(x))
        x = self.act(self.cnn2(x))
        return self.cnn3(x)


def resize(x: torch.Tensor, factor: float) -> torch.Tensor:
    """Bilinear resize by ``factor`` with RIFE's convention (align_corners=False); identity for 1."""
    if factor == 1:
        return x
    return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)


class Downsample(nn.Module):
    """Brings a block's full-resolution input down by ``scale``: bilinear, or log2(scale) learned stride-2 convs."""

    def __init__(self, channels: int, scale: int, kind: str, act: str = "leaky_relu") -> None:
        super().__init__()
        self.scale = scale
        self.kind = kind
        steps = int(math.log2(scale))
        if kind == "bilinear" or steps == 0:
            self.convs = None
        else:
            conv_type = "standard" if kind == "conv" else "dsconv"
            self.convs = nn.Sequential(*[conv_act(channels, channels, 2, conv_type, act) for _ in range(steps)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.convs is None:
            return resize(x, 1.0 / self.scale)
        return self.convs(x)


class Upsample(nn.Module):
    """Maps the trunk's features (at 1/(4*scale)) to ``out_ch`` channels at full resolution, or, when
    ``to_full`` is False, leaves them where the learned part puts them (1/``out_scale`` of full resolution).

    ``flow_gain`` turns flows predicted in pixels of the learned part's resolution into full-resolution
    pixels, as RIFE multiplies by ``scale``; it does not depend on ``to_full`` (flows are always in
    full-resolution pixels, whatever grid they sit on).
    """

    def __init__(
        self, width: int, out_ch: int, scale: int, kind: str, to_full: bool = True, act: str = "leaky_relu"
    ) -> None:
        super().__init__()
        self.kind = kind
        if kind == "deconv2":
            # RIFE v3's heads: two transposed convolutions, each doubling the resolution, an activation between.
            self.learned: nn.Module = nn.Sequential(
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1),
                activation(act, width // 2),
                nn.ConvTranspose2d(width // 2, out_ch, 4, 2, 1),
            )
            gain = scale
        elif kind == "subpixel2":
            # deconv2 with each transposed conv as a sub-pixel conv: 3x3 conv to 4x channels + PixelShuffle(2).
            hidden = width // 2
            self.learned = nn.Sequential(
                nn.Conv2d(width, 4 * hidden, 3, 1, 1),
                nn.PixelShuffle(2),
                activation(act, hidden),
                nn.Conv2d(hidden, 4 * out_ch, 3, 1, 1),
                nn.PixelShuffle(2),
            )
            gain = scale
        elif kind == "deconv":
            # RIFE v4: ConvTranspose2d(c, 4k, 4, 2, 1) + PixelShuffle(2) gives 4x, then bilinear by scale.
            self.learned = nn.Sequential(nn.ConvTranspose2d(width, 4 * out_ch, 4, 2, 1), nn.PixelShuffle(2))
            gain = scale
        elif kind == "dsdeconv":
            self.learned = nn.Sequential(
                nn.ConvTranspose2d(width, width, 4, 2, 1, groups=width),
                nn.Conv2d(width, 4 * out_ch, 1),
                nn.PixelShuffle(2),
            )
            gain = scale
        elif kind == "pixelshuffle":
            self.learned = nn.Sequential(nn.Conv2d(width, 4 * out_ch, 3, 1, 1), nn.PixelShuffle(2))
            gain = 2 * scale
        else:  # bilinear
            self.learned = nn.Conv2d(width, out_ch, 3, 1, 1)
            gain = 4 * scale
        self.flow_gain = gain  # also the learned part's resolution factor
        self.bilinear_factor = gain if to_full else 1
        self.out_scale = 1 if to_full else gain

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return resize(self.learned(x), self.bilinear_factor)
