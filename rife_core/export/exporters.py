"""A model to ONNX (GridSample needs opset >= 16) or TorchScript.

The exported graph takes (img0, img1, t) with img0/img1 of shape (1, 3, H, W) in [0, 1] and t of shape
(1,), and returns the interpolated frame. H and W are fixed at export (the input padding is baked in).
An architecture with a flow prior (``flow_init``) takes a fourth input, ``flow_init`` (1, 4, H, W): the
classical flows computed outside the graph, as ``rife_core.model.flow_prior.dis_prior`` computes them.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from torch import nn

from rife_core.model.ifnet import FrameOnly, example_inputs
from rife_core.model.warp import warp_mode

ONNX_OPSET = 18  # GridSample is in the default domain from opset 16
# How the exported graph warps: "grid_sample" (one GridSample node, opset >= 16) or "gather" (four Gathers
# and arithmetic, for runtimes and converters without GridSample). Same result; in onnxruntime's CPU provider
# the Gathers are slower still than its slow GridSample kernel (README Results).
ONNX_WARP = "grid_sample"
INPUT_NAMES = ("img0", "img1", "t", "flow_init")


def export_onnx(
    model: nn.Module, path: Path, size: tuple[int, int], opset: int = ONNX_OPSET, warp: str = ONNX_WARP
) -> Path:
    """``warp``: how the graph samples warped frames (``ONNX_WARP``); the model is left as it was."""
    wrapped = FrameOnly(model.eval().cpu())
    inputs = example_inputs(getattr(model, "cfg", None), size)
    with warnings.catch_warnings(), warp_mode(wrapped, warp):
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped,
            inputs,
            str(path),
            opset_version=opset,
            dynamo=True,
            input_names=list(INPUT_NAMES[: len(inputs)]),
            output_names=["frame"],
            verbose=False,
        )
    return path


def export_torchscript(model: nn.Module, path: Path, size: tuple[int, int]) -> Path:
    wrapped = FrameOnly(model.eval().cpu())
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracing and torch.jit deprecation warnings
        # check_trace=False: the warp caches its base grid, so a re-trace records a (harmlessly) different graph.
        traced = torch.jit.trace(wrapped, example_inputs(getattr(model, "cfg", None), size), check_trace=False)
    traced.save(str(path))
    return path
