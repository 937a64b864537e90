"""A local cost volume for the first block: matching computed, not learned (PWC-Net / BMBC style).

RIFE learns correspondence from scratch through its convolutions, which takes thousands of steps before a
small net leaves the blend plateau. ``CostVolume`` hands the first (coarsest) block the correlation of the
two frames' features over a window of displacements, so the trunk reads motion instead of discovering it.

The volume is *bilateral*, centred on the middle frame: for a pixel x and displacement d it correlates
frame0's features at x - d with frame1's at x + d, which under linear motion is the evidence for the flows
middle->frame0 = -d and middle->frame1 = +d that the block predicts. It is computed at the block's input
resolution (1/scale), where a radius r spans +-scale*r pixels of the full frame in steps of ``scale`` pixels
(the trunk's 1/(4*scale) would quantise motion to 4*scale pixels, coarser than most motion), and joins the
block's input channels, so conv0 reads it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rife_core.model.config import IMG_CH
from rife_core.model.layers import LEAKY_SLOPE, conv_act, resize


def displacements(radius: int) -> list[tuple[int, int]]:
    """The (dy, dx) of each cost-volume channel, row-major over [-radius, radius]^2."""
    return [(dy, dx) for dy in range(-radius, radius + 1) for dx in range(-radius, radius + 1)]


def bilateral_correlation(a: torch.Tensor, b: torch.Tensor, radius: int) -> torch.Tensor:
    """(B, (2r+1)^2, H, W): mean over channels of a(x - d) * b(x + d), zero outside the frame."""
    _, c, h, w = a.shape
    r = radius
    pa = F.pad(a, (r, r, r, r))
    pb = F.pad(b, (r, r, r, r))
    planes = []
    for dy, dx in displacements(r):
        # narrow, not slicing: sliced bounds would be traced as size arithmetic and counted as adds
        sa = pa.narrow(2, r - dy, h).narrow(3, r - dx, w)
        sb = pb.narrow(2, r + dy, h).narrow(3, r + dx, w)
        planes.append((sa * sb).sum(1, keepdim=True))
    return torch.cat(planes, 1) / c


class CostVolume(nn.Module):
    """Siamese features of both frames (two 3x3 convs at 1/scale) -> bilateral correlation.

    ``forward(img0, img1)`` takes the padded full-resolution frames and returns (B, (2r+1)^2, H/s, W/s),
    one channel per displacement, which the first block concatenates to its downsampled input.
    """

    def __init__(self, radius: int, feat_ch: int, scale: int) -> None:
        super().__init__()
        self.radius = radius
        self.scale = scale
        self.features = nn.Sequential(
            conv_act(IMG_CH, feat_ch // 2, 1, "standard"),
            conv_act(feat_ch // 2, feat_ch, 1, "standard"),
        )

    def forward(self, img0: torch.Tensor, img1: torch.Tensor) -> torch.Tensor:
        f0 = self.features(resize(img0, 1.0 / self.scale))
        f1 = self.features(resize(img1, 1.0 / self.scale))
        return F.leaky_relu(bilateral_correlation(f0, f1, self.radius), LEAKY_SLOPE)


__all__ = ["CostVolume", "bilateral_correlation", "displacements"]
