"""The RIFE-style model family and everything about one model.

Subpackages: ``model`` (config, presets, IFNet, layers, warp), ``cost`` (parameters, MACs, latency),
``training`` (config, trainer, losses, checkpoints), ``evaluation`` (metrics, LPIPS/VGG backbones,
evaluation, blend/DIS baselines), ``data`` (triplet sources, splits, augmentation, loader), ``export``
(ONNX, TorchScript), ``video`` (frame streams in and out) and ``cli`` (the command-line front ends).
"""

from rife_core.cost.params import count_params
from rife_core.model import PRESETS, ArchConfig, BlockConfig, ConfigError, IFNet, IFNetOutput, create_model, get_config

__all__ = [
    "PRESETS",
    "ArchConfig",
    "BlockConfig",
    "ConfigError",
    "IFNet",
    "IFNetOutput",
    "count_params",
    "create_model",
    "get_config",
]
