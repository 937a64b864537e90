"""Training: ``TrainConfig`` (stages, optimiser, loss, data), the one trainer, losses, checkpoints."""

from rife_core.training.checkpoint import load_model, resolve_device, save_checkpoint
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.losses import DEFAULT_LOSS, TERMS, CompositeLoss
from rife_core.training.trainer import TrainResult, train

__all__ = [
    "DEFAULT_LOSS",
    "TERMS",
    "CompositeLoss",
    "Stage",
    "TrainConfig",
    "TrainResult",
    "load_model",
    "resolve_device",
    "save_checkpoint",
    "train",
]
