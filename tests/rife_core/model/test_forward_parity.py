"""Forward parity: the ``rife_v4_25`` preset computes what Practical-RIFE v4.25's IFNet computes.

The reference below is an independent re-statement of the published architecture (IFBlock: bilinear down,
conv0 = two stride-2 convs, eight ResConvs, ConvTranspose + PixelShuffle, bilinear up, flow scaled by the
block's scale; backward warp with ``grid_sample``; sigmoid-mask merge). It shares no code with
``rife_core``: same random weights in both, same frames, outputs compared.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from rife_core import create_model

SCALES = (16, 8, 4, 2, 1)
WIDTHS = (192, 128, 96, 64, 32)


def _conv(i: int, o: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(i, o, 3, stride, 1), nn.LeakyReLU(0.2))


class _ResConv(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, 1, 1)
        self.beta = nn.Parameter(torch.ones(1, c, 1, 1))
        self.relu = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.relu(self.conv(x) * self.beta + x)


class _IFBlock(nn.Module):
    def __init__(self, in_planes: int, c: int) -> None:
        super().__init__()
        self.conv0 = nn.Sequential(_conv(in_planes, c // 2, 2), _conv(c // 2, c, 2))
        self.convblock = nn.Sequential(*[_ResConv(c) for _ in range(8)])
        self.lastconv = nn.Sequential(nn.ConvTranspose2d(c, 4 * 13, 4, 2, 1), nn.PixelShuffle(2))

    def forward(self, x, flow, scale):
        x = F.interpolate(x, scale_factor=1.0 / scale, mode="bilinear", align_corners=False)
        if flow is not None:
            flow = F.interpolate(flow, scale_factor=1.0 / scale, mode="bilinear", align_corners=False) * 1.0 / scale
            x = torch.cat((x, flow), 1)
        tmp = self.lastconv(self.convblock(self.conv0(x)))
        tmp = F.interpolate(tmp, scale_factor=scale, mode="bilinear", align_corners=False)
        return tmp[:, :4] * scale, tmp[:, 4:5], tmp[:, 5:]


class _Head(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.cnn0 = nn.Conv2d(3, 16, 3, 2, 1)
        self.cnn1 = nn.Conv2d(16, 16, 3, 1, 1)
        self.cnn2 = nn.Conv2d(16, 16, 3, 1, 1)
        self.cnn3 = nn.ConvTranspose2d(16, 4, 4, 2, 1)
        self.relu = nn.LeakyReLU(0.2)

    def forward(self, x):
        x = self.relu(self.cnn0(x))
        x = self.relu(self.cnn1(x))
        x = self.relu(self.cnn2(x))
        return self.cnn3(x)


def _warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    b, _, h, w = flow.shape
    hor = torch.linspace(-1.0, 1.0, w, dtype=x.dtype).view(1, 1, 1, w).expand(b, -1, h, -1)
    ver = torch.linspace(-1.0, 1.0, h, dtype=x.dtype).view(1, 1, h, 1).expand(b, -1, -1, w)
    grid = torch.cat([hor, ver], 1)
    flow = torch.cat([flow[:, 0:1] / ((w - 1.0) / 2.0), flow[:, 1:2] / ((h - 1.0) / 2.0)], 1)
    g = (grid + flow).permute(0, 2, 3, 1)
    return F.grid_sample(x, g, mode="bilinear", padding_mode="border", align_corners=True)


class ReferenceIFNet(nn.Module):
    """Practical-RIFE v4.25's IFNet, inputs already padded to a multiple of 64."""

    def __init__(self) -> None:
        super().__init__()
        self.block0 = _IFBlock(7 + 8, WIDTHS[0])
        self.block1 = _IFBlock(8 + 4 + 8 + 8, WIDTHS[1])
        self.block2 = _IFBlock(8 + 4 + 8 + 8, WIDTHS[2])
        self.block3 = _IFBlock(8 + 4 + 8 + 8, WIDTHS[3])
        self.block4 = _IFBlock(8 + 4 + 8 + 8, WIDTHS[4])
        self.encode = _Head()

    def forward(self, img0, img1, timestep):
        timestep = (img0[:, :1].clone() * 0 + 1) * timestep.view(-1, 1, 1, 1)
        f0, f1 = self.encode(img0), self.encode(img1)
        blocks = [self.block0, self.block1, self.block2, self.block3, self.block4]
        flow = mask = feat = warped0 = warped1 = None
        for block, scale in zip(blocks, SCALES, strict=True):
            if flow is None:
                flow, mask, feat = block(torch.cat((img0, img1, f0, f1, timestep), 1), None, scale)
            else:
                wf0, wf1 = _warp(f0, flow[:, :2]), _warp(f1, flow[:, 2:4])
                x = torch.cat((warped0, warped1, wf0, wf1, timestep, mask, feat), 1)
                fd, mask, feat = block(x, flow, scale)
                flow = flow + fd
            warped0, warped1 = _warp(img0, flow[:, :2]), _warp(img1, flow[:, 2:4])
        mask = torch.sigmoid(mask)
        return warped0 * mask + warped1 * (1 - mask), flow


def _reference_name(ours: str) -> str:
    """Our parameter name -> the reference's (blocks.i -> block{i}, lastconv.learned -> lastconv)."""
    if ours.startswith("blocks."):
        _, i, rest = ours.split(".", 2)
        return f"block{i}.{rest.replace('lastconv.learned.', 'lastconv.')}"
    return ours


def test_rife_v4_25_preset_equals_an_independent_restatement() -> None:
    model = create_model("rife_v4_25", seed=3).eval()
    with torch.no_grad():  # larger output layers, so that flows of several pixels exercise the warps
        for block in model.blocks:
            block.lastconv.learned[0].weight.mul_(10)
    ref = ReferenceIFNet().eval()
    ours = model.state_dict()
    mapped = {_reference_name(k): v for k, v in ours.items()}
    assert set(mapped) == set(ref.state_dict())
    ref.load_state_dict(mapped, strict=True)

    # float64: what remains of a difference is the computation, not float32 rounding amplified by the warps
    model, ref = model.double(), ref.double()
    g = torch.Generator().manual_seed(0)
    h, w = 67, 131  # odd: both pad to 128x192
    img0, img1 = (torch.rand(2, 3, h, w, generator=g, dtype=torch.float64) for _ in range(2))
    t = torch.tensor([0.3, 0.5], dtype=torch.float64)
    with torch.no_grad():
        out = model(img0, img1, t)
        pad = (0, 192 - w, 0, 128 - h)
        frame, flow = ref(F.pad(img0, pad, mode="replicate"), F.pad(img1, pad, mode="replicate"), t)
    frame, flow = frame[..., :h, :w], flow[..., :h, :w]
    assert flow.abs().mean() > 1.0, "flows too small to test the warps"
    assert (out.flows[-1] - flow).abs().max() < 1e-5
    assert (out.frame - frame).abs().max() < 1e-5
