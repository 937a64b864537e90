"""Backward warping, the base grid cached by the module that owns it.

Two implementations of the same bilinear sampling: ``grid_sample`` (fastest in PyTorch) and four gathers
(``gather``), which an exporter can switch to for runtimes and converters that lack GridSample.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn


class BackwardWarp(nn.Module):
    """Samples ``x`` at ``p + flow(p)``: the output pixel p takes the input pixel the flow points to.

    ``flow`` is in pixels, channel 0 horizontal and channel 1 vertical. Bilinear sampling with border
    padding; align_corners=True so that -1 and +1 are the centres of the corner pixels, which makes the
    pixel-to-normalised conversion ``2 / (size - 1)`` exact (RIFE's convention).
    """

    MODES = ("grid_sample", "gather")

    def __init__(self, mode: str = "grid_sample") -> None:
        super().__init__()
        if mode not in self.MODES:
            raise ValueError(f"warp mode {mode!r}: choose one of {', '.join(self.MODES)}")
        self.mode = mode
        self._grids: dict[tuple[torch.device, torch.dtype, int, int], torch.Tensor] = {}
        self._norms: dict[tuple[torch.device, torch.dtype, int, int], torch.Tensor] = {}

    def _apply(self, fn, recurse=True):
        # Moving or casting the module invalidates grids made for the old device/dtype.
        self._grids.clear()
        self._norms.clear()
        return super()._apply(fn, recurse)

    def base_grid(self, h: int, w: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """Identity sampling grid (1, H, W, 2) in normalised coordinates, cached per (device, dtype, size)."""
        key = (device, dtype, int(h), int(w))  # int(): under JIT tracing sizes arrive as tensors
        grid = self._grids.get(key)
        if grid is None:
            ys = torch.linspace(-1.0, 1.0, h, device=device, dtype=dtype)
            xs = torch.linspace(-1.0, 1.0, w, device=device, dtype=dtype)
            gy, gx = torch.meshgrid(ys, xs, indexing="ij")
            grid = torch.stack((gx, gy), dim=-1).unsqueeze(0)
            self._grids[key] = grid
        return grid

    def forward(self, x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
        if self.mode == "gather":
            return gather_warp(x, flow)
        _, _, h, w = x.shape
        # Pixels to normalised units; a 1-pixel-wide axis has no extent, so its flow is ignored.
        key = (flow.device, flow.dtype, int(h), int(w))
        norm = self._norms.get(key)
        if norm is None:  # cached like the grid: no host-to-device copy per warp
            norm = torch.tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], device=flow.device, dtype=flow.dtype)
            norm = self._norms[key] = norm.view(1, 2, 1, 1)
        offset = (flow * norm).permute(0, 2, 3, 1)
        grid = self.base_grid(h, w, x.device, x.dtype) + offset
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=True)


def gather_warp(x: torch.Tensor, flow: torch.Tensor) -> torch.Tensor:
    """``BackwardWarp``'s sampling written as four gathers of whole pixels (all channels at once).

    Border padding with align_corners=True is clamping the sample position to the pixel centres.
    """
    b, c, h, w = x.shape
    ys = torch.arange(h, dtype=flow.dtype, device=flow.device).view(1, h, 1)
    xs = torch.arange(w, dtype=flow.dtype, device=flow.device).view(1, 1, w)
    px = (xs + flow[:, 0]).clamp(0, w - 1)
    py = (ys + flow[:, 1]).clamp(0, h - 1)
    x0, y0 = px.floor(), py.floor()
    wx, wy = (px - x0).unsqueeze(1), (py - y0).unsqueeze(1)
    x0, y0 = x0.long(), y0.long()
    x1, y1 = (x0 + 1).clamp(max=w - 1), (y0 + 1).clamp(max=h - 1)
    # Channels first, then (batch, pixel): a gather picks whole columns, one index per output pixel.
    table = x.transpose(0, 1).reshape(c, b * h * w)
    offset = (torch.arange(b, device=x.device) * (h * w)).view(b, 1, 1)

    def at(yi: torch.Tensor, xi: torch.Tensor) -> torch.Tensor:
        idx = (offset + yi * w + xi).reshape(-1)
        return table.index_select(1, idx).view(c, b, h, w).transpose(0, 1)

    top = at(y0, x0) * (1 - wx) + at(y0, x1) * wx
    bottom = at(y1, x0) * (1 - wx) + at(y1, x1) * wx
    return top * (1 - wy) + bottom * wy


@contextmanager
def warp_mode(model: nn.Module, mode: str) -> Iterator[nn.Module]:
    """Every ``BackwardWarp`` in ``model`` samples with ``mode`` inside the block (e.g. while exporting)."""
    warps = [m for m in model.modules() if isinstance(m, BackwardWarp)]
    if mode not in BackwardWarp.MODES:
        raise ValueError(f"warp mode {mode!r}: choose one of {', '.join(BackwardWarp.MODES)}")
    before = [m.mode for m in warps]
    for m in warps:
        m.mode = mode
    try:
        yield model
    finally:
        for m, old in zip(warps, before, strict=True):
            m.mode = old
