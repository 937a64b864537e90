"""Backward warping with ``grid_sample``, the base grid cached by the module that owns it."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class BackwardWarp(nn.Module):
    """Samples ``x`` at ``p + flow(p)``: the output pixel p takes the input pixel the flow points to.

    ``flow`` is in pixels, channel 0 horizontal and channel 1 vertical. Bilinear sampling with border
    padding; align_corners=True so that -1 and +1 are the centres of the corner pixels, which makes the
    pixel-to-normalised conversion ``2 / (size - 1)`` exact (RIFE's convention).
    """

    def __init__(self) -> None:
        super().__init__()
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
