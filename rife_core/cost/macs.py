"""Multiply-accumulate counts with fvcore, every operator of the family accounted for.

fvcore counts one multiply-add as one "flop"; we call the unit MACs. Its defaults skip elementwise
arithmetic and count grid_sample loosely, so the handles below replace them with stated costs per
output element:

- convolution (incl. transposed): fvcore's count, bias adds excluded (fvcore's convention);
- ``grid_sampler`` (the warp): 4 MACs per output value, the four bilinear taps (the per-pixel coordinate
  arithmetic, shared across channels, is left out);
- bilinear resize: 4 MACs per output value, as for the warp;
- add, sub, mul, div, rsub, neg, sigmoid, leaky_relu, prelu, log: 1 per output value (neg: replicate padding's
  index arithmetic when the input is padded; log: a flow prior's blend weights, one value per frame pair);
- sum: 0, its adds are the accumulates of the products counted by ``mul`` (the cost volume's correlation:
  C MACs per displacement and pixel, as a dot product);
- pixel_shuffle and padding: 0, they only move data (registered so that they are counted, not unknown);
- linspace and meshgrid: 0, they build the warp's base grid, which the module caches across frames.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from math import prod
from typing import Any

import torch
from torch import nn

from rife_core.model.ifnet import FrameOnly, example_inputs

log = logging.getLogger(__name__)

UNIT = "MACs"
BILINEAR_TAPS = 4


def _numel(value: Any) -> int:
    shape = value.type().sizes()
    return prod(shape) if shape is not None else 0


def _per_output(cost: float):
    def handle(inputs: list[Any], outputs: list[Any]) -> float:
        # Zero-cost ops may return lists (meshgrid), whose type has no sizes: don't inspect them.
        return cost * _numel(outputs[0]) if cost else 0

    return handle


WARP_OP = "aten::grid_sampler"
_ELEMENTWISE = ("add", "sub", "mul", "div", "rsub", "neg", "sigmoid", "leaky_relu", "prelu", "_prelu_kernel", "log")
HANDLES: dict[str, Any] = {
    WARP_OP: _per_output(BILINEAR_TAPS),
    "aten::upsample_bilinear2d": _per_output(BILINEAR_TAPS),
    "aten::pixel_shuffle": _per_output(0),
    "aten::replication_pad2d": _per_output(0),
    "aten::pad": _per_output(0),
    "aten::constant_pad_nd": _per_output(0),
    "aten::sum": _per_output(0),
    "aten::linspace": _per_output(0),
    "aten::meshgrid": _per_output(0),
    **{f"aten::{op}": _per_output(1) for op in _ELEMENTWISE},
    **{f"aten::{op}_": _per_output(1) for op in _ELEMENTWISE},
}

# fvcore's names for operator groups in ``by_operator()``
CONV_KEY = "conv"
WARP_KEY = "grid_sampler"


@dataclass(frozen=True)
class MacCount:
    """MACs of one forward pass at ``size`` (H, W), batch 1."""

    total: int
    conv: int
    warp: int
    size: tuple[int, int]
    by_operator: dict[str, int]
    unsupported: dict[str, int]

    @property
    def other(self) -> int:
        return self.total - self.conv - self.warp

    @property
    def warp_share(self) -> float:
        return self.warp / self.total if self.total else 0.0


def count_macs(model: nn.Module, size: tuple[int, int], timestep: float = 0.5) -> MacCount:
    """Count MACs of ``model(img0, img1, timestep)`` for one pair of frames of ``size`` = (H, W)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fvcore's import touches the deprecated torch.jit.script
        from fvcore.nn import FlopCountAnalysis

    h, w = size
    p = next(model.parameters())
    # Values do not change the count; a private generator leaves torch's global RNG alone. A flow prior
    # enters as an input: its classical work is not MACs (the cost report times it: ``prior_latency_ms``).
    inputs = tuple(x.to(p.device, p.dtype) for x in example_inputs(getattr(model, "cfg", None), size, timestep))
    analysis = FlopCountAnalysis(FrameOnly(model).eval(), inputs)
    analysis.set_op_handle(**HANDLES)
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the JIT tracer's deprecation and tracer warnings
        total = int(analysis.total())
        by_op = {k: int(v) for k, v in analysis.by_operator().items()}
        unsupported = dict(analysis.unsupported_ops())
    if unsupported:
        log.warning("operators without a MAC handle (counted as 0): %s", unsupported)
    return MacCount(
        total=total,
        conv=by_op.get(CONV_KEY, 0),
        warp=by_op.get(WARP_KEY, 0),
        size=(h, w),
        by_operator=by_op,
        unsupported=unsupported,
    )
