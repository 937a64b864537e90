"""The RIFE-style model family and everything about one model: config, builder, cost."""

from rife_core.config import ArchConfig, BlockConfig, ConfigError
from rife_core.ifnet import IFNet, IFNetOutput
from rife_core.params import count_params
from rife_core.presets import PRESETS, create_model, get_config

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
