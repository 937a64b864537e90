"""Deployable models: ONNX and TorchScript exporters; ``python -m rife_core.export`` runs ``rife_core.cli.export``."""

from rife_core.export.exporters import ONNX_OPSET, ONNX_WARP, export_onnx, export_torchscript

__all__ = ["ONNX_OPSET", "ONNX_WARP", "export_onnx", "export_torchscript"]
