"""``python -m rife_core.export``: a checkpoint to ONNX (GridSample needs opset >= 16) or TorchScript.

Examples:
    python -m rife_core.export --checkpoint runs/x/last.pt --onnx model.onnx --size 256x448
    python -m rife_core.export --checkpoint runs/x/last.pt --torchscript model.pt --size 256x448

The exported graph takes (img0, img1, t) with img0/img1 of shape (1, 3, H, W) in [0, 1] and t of shape
(1,), and returns the interpolated frame. H and W are fixed at export (the input padding is baked in).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rife_core.cli.args import configure_output, parse_size
from rife_core.export.exporters import ONNX_OPSET, ONNX_WARP, export_onnx, export_torchscript
from rife_core.model.warp import BackwardWarp
from rife_core.training.checkpoint import load_model


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m rife_core.export", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--onnx", type=Path, help="write an ONNX model here")
    p.add_argument("--torchscript", type=Path, help="write a TorchScript model here")
    p.add_argument("--size", type=parse_size, default=(256, 448), help="HEIGHTxWIDTH baked into the graph")
    p.add_argument("--opset", type=int, default=ONNX_OPSET)
    p.add_argument(
        "--onnx-warp",
        choices=BackwardWarp.MODES,
        default=ONNX_WARP,
        help=f"how the ONNX graph warps: gathers or one GridSample node; same result ({ONNX_WARP})",
    )
    args = p.parse_args(argv)
    configure_output()
    if not (args.onnx or args.torchscript):
        p.error("give --onnx PATH and/or --torchscript PATH")
    if args.opset < 16:
        p.error("--opset must be >= 16: GridSample, the warp, entered the ONNX standard in opset 16")

    try:
        model = load_model(args.checkpoint)
    except (FileNotFoundError, ValueError) as e:
        p.error(str(e))
    if args.onnx:
        print(f"ONNX (opset {args.opset}): {export_onnx(model, args.onnx, args.size, args.opset, args.onnx_warp)}")
    if args.torchscript:
        print(f"TorchScript: {export_torchscript(model, args.torchscript, args.size)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
