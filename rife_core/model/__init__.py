"""The model family: ``ArchConfig`` (the architecture as data), presets, the IFNet builder, layers, warp."""

from rife_core.model.config import ArchConfig, BlockConfig, ConfigError, uniform_blocks
from rife_core.model.ifnet import FrameOnly, IFNet, IFNetOutput
from rife_core.model.init import init_parameters
from rife_core.model.presets import PRESETS, create_model, get_config

__all__ = [
    "PRESETS",
    "ArchConfig",
    "BlockConfig",
    "ConfigError",
    "FrameOnly",
    "IFNet",
    "IFNetOutput",
    "create_model",
    "get_config",
    "init_parameters",
    "uniform_blocks",
]
