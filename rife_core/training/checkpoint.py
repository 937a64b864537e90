"""Checkpoints: a model's config stored next to its weights, written atomically, loaded strictly."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import torch

from rife_core.model.config import ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.training.config import TrainConfig
from rife_core.training.ema import WeightEMA


def resolve_device(device: str) -> torch.device:
    """``"auto"`` -> cuda when visible, else cpu; an unavailable ``cuda`` is a clear error."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device 'cuda' requested but no CUDA device is visible; use --device cpu or auto")
    return torch.device(device)


def save_checkpoint(
    path: Path,
    model: IFNet,
    opt: torch.optim.Optimizer,
    step: int,
    cfg: TrainConfig,
    progress: dict[str, Any] | None = None,
    ema: WeightEMA | None = None,
) -> Path:
    """Write config, weights, optimiser state and step to ``path`` via a temporary file and a rename.

    ``progress``: plain data a resumed run carries on from (its validation history, losses, blend level).
    ``ema``: the averaged weights become ``model`` (what ``load_model`` deploys); the trained ones and the
    average's update count go under ``ema`` so that a resumed run carries on exactly.
    """
    ckpt = {
        "arch": model.cfg.to_dict(),
        "model": model.state_dict() if ema is None else ema.state_dict(model),
        "optimizer": opt.state_dict(),
        "step": step,
        "train_config": cfg.to_dict(),
    }
    if progress is not None:
        ckpt["progress"] = progress
    if ema is not None:
        ckpt["ema"] = {"train_weights": model.state_dict(), "updates": ema.updates}
    return write_checkpoint(ckpt, path)


def write_checkpoint(ckpt: dict[str, Any], path: Path) -> Path:
    """``torch.save`` via a temporary file and a rename: a kill never leaves a half-written checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(ckpt, tmp)
    tmp.replace(path)
    return path


def read_checkpoint(path: str | Path, device: str | torch.device = "cpu") -> dict[str, Any]:
    """A checkpoint's contents, loaded as data only: a file holding pickled code is refused, never run."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such checkpoint")
    try:
        return torch.load(path, map_location=device, weights_only=True)
    except pickle.UnpicklingError as e:
        raise ValueError(
            f"{path}: refused: it holds Python objects other than tensors and plain data, which loading would "
            "execute; rife-nas checkpoints never do (only load checkpoints you trust with other tools)"
        ) from e
    except (RuntimeError, EOFError) as e:  # truncated or not a torch file at all
        raise ValueError(f"{path}: not a readable checkpoint ({e}); was it cut short? train or copy it again") from e


def load_model(path: str | Path, device: str | torch.device = "cpu") -> IFNet:
    """Rebuild the network a checkpoint describes and load its weights strictly."""
    path = Path(path)
    ckpt = read_checkpoint(path, device)
    if not isinstance(ckpt, dict) or "arch" not in ckpt or "model" not in ckpt:
        raise ValueError(f"{path}: not a rife-nas checkpoint (no 'arch'/'model' entries)")
    model = IFNet(ArchConfig.from_dict(ckpt["arch"]))
    model.load_state_dict(ckpt["model"], strict=True)
    return model.to(device).eval()
