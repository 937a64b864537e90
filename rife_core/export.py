"""``python -m rife_core.export``: a checkpoint to ONNX (GridSample needs opset >= 16) or TorchScript.

Examples:
    python -m rife_core.export --checkpoint runs/x/last.pt --onnx model.onnx --size 256x448
    python -m rife_core.export --checkpoint runs/x/last.pt --torchscript model.pt --size 256x448

The exported graph takes (img0, img1, t) with img0/img1 of shape (1, 3, H, W) in [0, 1] and t of shape
(1,), and returns the interpolated frame. H and W are fixed at export (the input padding is baked in).
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from pathlib import Path

import torch
from torch import nn

from rife_core.cost import parse_size
from rife_core.ifnet import FrameOnly

ONNX_OPSET = 18  # GridSample is in the default domain from opset 16


def _example(size: tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    h, w = size
    return torch.rand(1, 3, h, w, generator=g), torch.rand(1, 3, h, w, generator=g), torch.full((1,), 0.5)


def export_onnx(model: nn.Module, path: Path, size: tuple[int, int], opset: int = ONNX_OPSET) -> Path:
    wrapped = FrameOnly(model.eval().cpu())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            wrapped,
            _example(size),
            str(path),
            opset_version=opset,
            dynamo=True,
            input_names=["img0", "img1", "t"],
            output_names=["frame"],
            verbose=False,
        )
    return path


def export_torchscript(model: nn.Module, path: Path, size: tuple[int, int]) -> Path:
    wrapped = FrameOnly(model.eval().cpu())
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # tracing and torch.jit deprecation warnings
        # check_trace=False: the warp caches its base grid, so a re-trace records a (harmlessly) different graph.
        traced = torch.jit.trace(wrapped, _example(size), check_trace=False)
    traced.save(str(path))
    return path


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m rife_core.export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--onnx", type=Path, help="write an ONNX model here")
    p.add_argument("--torchscript", type=Path, help="write a TorchScript model here")
    p.add_argument("--size", type=parse_size, default=(256, 448), help="HEIGHTxWIDTH baked into the graph")
    p.add_argument("--opset", type=int, default=ONNX_OPSET)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if not (args.onnx or args.torchscript):
        p.error("give --onnx PATH and/or --torchscript PATH")
    if args.opset < 16:
        p.error("--opset must be >= 16: GridSample, the warp, entered the ONNX standard in opset 16")
    from rife_core.trainer import load_model

    try:
        model = load_model(args.checkpoint)
    except (FileNotFoundError, ValueError) as e:
        p.error(str(e))
    if args.onnx:
        print(f"ONNX (opset {args.opset}): {export_onnx(model, args.onnx, args.size, args.opset)}")
    if args.torchscript:
        print(f"TorchScript: {export_torchscript(model, args.torchscript, args.size)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
