"""RIFE v3.x HD's IFNet re-stated from its published structure, sharing no code with ``rife_core``.

Three IFBlocks (scales 4, 2, 1 by default): bilinear down by the scale (flow also divided by it), two
stride-2 3x3 conv + PReLU, four residual pairs ``feat = PReLU(conv(PReLU(conv(feat)))) + feat``, two heads
ConvTranspose(c, c/2, 4, 2, 1) + PReLU + ConvTranspose(c/2, k, 4, 2, 1) (k = 4 flow, 1 mask), bilinear up
by the scale (flow times it). Every block sees warped frame0, warped frame1, the mask and the flow (11
channels; zeros before the first block) and runs on both frame orders; flow and mask are accumulated
with the average of the two passes. Final sigmoid-mask merge. ``block_tea`` (14 input channels) exists
as in the release file and is unused. Key names are the release's.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def _conv(i: int, o: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(i, o, 3, stride, 1), nn.PReLU(o))


class RefBlock(nn.Module):
    def __init__(self, in_planes: int, c: int, pairs: int = 4) -> None:
        super().__init__()
        self.pairs = pairs
        self.conv0 = nn.Sequential(_conv(in_planes, c // 2, 2), _conv(c // 2, c, 2))
        for k in range(pairs):
            setattr(self, f"convblock{k}", nn.Sequential(_conv(c, c), _conv(c, c)))
        self.conv1 = nn.Sequential(
            nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.PReLU(c // 2), nn.ConvTranspose2d(c // 2, 4, 4, 2, 1)
        )
        self.conv2 = nn.Sequential(
            nn.ConvTranspose2d(c, c // 2, 4, 2, 1), nn.PReLU(c // 2), nn.ConvTranspose2d(c // 2, 1, 4, 2, 1)
        )

    def forward(self, x: torch.Tensor, flow: torch.Tensor, scale: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
        flow = F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear", align_corners=False) / scale
        feat = self.conv0(torch.cat((x, flow), 1))
        for k in range(self.pairs):
            feat = getattr(self, f"convblock{k}")(feat) + feat
        flow = F.interpolate(self.conv1(feat), scale_factor=scale, mode="bilinear", align_corners=False) * scale
        mask = F.interpolate(self.conv2(feat), scale_factor=scale, mode="bilinear", align_corners=False)
        return flow, mask


def ref_warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    b, _, h, w = flow.shape
    hor = torch.linspace(-1.0, 1.0, w, dtype=x.dtype).view(1, 1, 1, w).expand(b, -1, h, -1)
    ver = torch.linspace(-1.0, 1.0, h, dtype=x.dtype).view(1, 1, h, 1).expand(b, -1, -1, w)
    flow = torch.cat([flow[:, 0:1] / ((w - 1.0) / 2.0), flow[:, 1:2] / ((h - 1.0) / 2.0)], 1)
    g = (torch.cat([hor, ver], 1) + flow).permute(0, 2, 3, 1)
    return F.grid_sample(x, g, mode="bilinear", padding_mode="border", align_corners=True)


class RefIFNetV3(nn.Module):
    """Inputs already padded to a multiple of 4 * max(scales)."""

    def __init__(self, c: int = 90, pairs: int = 4, scales: tuple[int, ...] = (4, 2, 1)) -> None:
        super().__init__()
        self.scales = scales
        for i in range(len(scales)):
            setattr(self, f"block{i}", RefBlock(7 + 4, c, pairs))
        self.block_tea = RefBlock(10 + 4, c, pairs)

    def forward(self, img0: torch.Tensor, img1: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        b, _, h, w = img0.shape
        flow = img0.new_zeros(b, 4, h, w)
        mask = img0.new_zeros(b, 1, h, w)
        w0, w1 = img0, img1
        flows = []
        for i, scale in enumerate(self.scales):
            block = getattr(self, f"block{i}")
            f0, m0 = block(torch.cat((w0, w1, mask), 1), flow, scale)
            f1, m1 = block(torch.cat((w1, w0, -mask), 1), torch.cat((flow[:, 2:4], flow[:, :2]), 1), scale)
            flow = flow + (f0 + torch.cat((f1[:, 2:4], f1[:, :2]), 1)) / 2
            mask = mask + (m0 - m1) / 2
            flows.append(flow)
            w0, w1 = ref_warp(img0, flow[:, :2]), ref_warp(img1, flow[:, 2:4])
        m = torch.sigmoid(mask)
        return w0 * m + w1 * (1 - m), flows

    def deployed_params(self) -> int:
        return sum(p.numel() for n, p in self.named_parameters() if not n.startswith("block_tea."))
