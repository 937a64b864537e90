"""Exact rewrites: one layer kind written as another that computes the same function.

- A stride-2 transposed convolution (kernel 4, padding 1, as RIFE's heads) is a sub-pixel convolution: a
  3x3 convolution with 4x the output channels followed by ``PixelShuffle(2)`` (Shi et al. 2016, "Is the
  deconvolution layer the same as a convolutional layer?"). Output phase r of position 2m + r reads input
  m + d through kernel tap 3 - 2(d + 1) + r, so each phase uses a 2x2 subset of the 3x3 window.
- Bilinear downsampling by 2^n (align_corners=False) is a chain of n fixed stride-2 3x3 depthwise
  convolutions: by 2 it averages pixels 2i and 2i+1; by 2^n (n >= 2) it averages pixels s*i + s/2 - 1 and
  s*i + s/2, which a first stage averaging (2j-1, 2j), then stages picking the centre tap, and a last stage
  picking tap +1 reach without ever reading the zero padding.

Each function fills a child's layer in place and returns the number of parameters it wrote.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

SUBPIXEL = 2  # the stride both rewrites undo


@torch.no_grad()
def subpixel_from_deconv(weight: torch.Tensor, bias: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
    """A ``ConvTranspose2d(c, k, 4, 2, 1)``'s (weight (c, k, 4, 4), bias) as ``Conv2d(c, 4k, 3, 1, 1)``'s, to be
    followed by ``PixelShuffle(2)``."""
    c, k, kh, kw = weight.shape
    if (kh, kw) != (4, 4):
        raise ValueError(f"a sub-pixel rewrite needs a 4x4 transposed kernel (stride 2, padding 1); got {kh}x{kw}")
    out = weight.new_zeros(SUBPIXEL * SUBPIXEL * k, c, 3, 3)
    for ry in range(SUBPIXEL):
        for rx in range(SUBPIXEL):
            for jy in range(3):
                for jx in range(3):
                    ty, tx = 3 - 2 * jy + ry, 3 - 2 * jx + rx
                    if 0 <= ty < 4 and 0 <= tx < 4:
                        # PixelShuffle reads channel 4o + 2ry + rx for phase (ry, rx) of output channel o
                        out[SUBPIXEL * ry + rx :: SUBPIXEL * SUBPIXEL, :, jy, jx] = weight[:, :, ty, tx].T
    b = None if bias is None else bias.repeat_interleave(SUBPIXEL * SUBPIXEL)
    return out, b


def bilinear_taps(scale: int) -> list[torch.Tensor]:
    """The 3x3 kernels of the stride-2 stages whose chain is bilinear downsampling by ``scale`` (a power of 2)."""
    stages = scale.bit_length() - 1
    if scale < 2 or scale & (scale - 1):
        raise ValueError(f"scale={scale}: bilinear downsampling is rewritten for powers of two >= 2")
    if stages == 1:
        rows = [[0.0, 0.5, 0.5]]
    else:
        rows = [[0.5, 0.5, 0.0]] + [[0.0, 1.0, 0.0]] * (stages - 2) + [[0.0, 0.0, 1.0]]
    return [torch.outer(torch.tensor(r), torch.tensor(r)) for r in rows]


@torch.no_grad()
def rewrite_deconv2(child: Any, parent: Any) -> int:
    """Fill a ``subpixel2`` head (conv, shuffle, act, conv, shuffle) from a ``deconv2`` head (ConvT, act, ConvT)."""
    written = 0
    for dst, src in ((child[0], parent[0]), (child[3], parent[2])):
        w, b = subpixel_from_deconv(src.weight, src.bias)
        dst.weight.copy_(w)
        dst.bias.copy_(b)
        written += dst.weight.numel() + dst.bias.numel()
    if isinstance(child[2], nn.PReLU):
        child[2].weight.copy_(parent[1].weight)
        written += child[2].weight.numel()
    return written


@torch.no_grad()
def rewrite_bilinear_down(convs: Any, scale: int) -> int:
    """Fill a learned downsampler (``conv_act`` stages, standard or depthwise-separable) with bilinear's taps.

    PReLU slopes become 1 (the identity), so the chain is exact; a LeakyReLU stays nonlinear on negative
    inputs (flows, mask logits), where the rewrite is then approximate.
    """
    written = 0
    for stage, taps in zip(convs, bilinear_taps(scale), strict=True):
        conv, act = stage[0], stage[1]
        if isinstance(conv, nn.Conv2d):
            eye = torch.eye(conv.out_channels, conv.in_channels)
            conv.weight.copy_(eye[:, :, None, None] * taps)
            conv.bias.zero_()
            params = [conv.weight, conv.bias]
        else:  # depthwise 3x3 (no bias) + pointwise identity
            depthwise, pointwise = conv[0], conv[1]
            depthwise.weight.copy_(taps.expand_as(depthwise.weight))
            pointwise.weight.copy_(torch.eye(pointwise.out_channels, pointwise.in_channels)[:, :, None, None])
            pointwise.bias.zero_()
            params = [depthwise.weight, pointwise.weight, pointwise.bias]
        if isinstance(act, nn.PReLU):
            act.weight.fill_(1.0)
            params.append(act.weight)
        written += sum(p.numel() for p in params)
    return written
