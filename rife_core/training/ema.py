"""Exponential moving average of a model's weights, the weights that are validated and deployed.

A short CPU budget ends while the learning rate is still high; the average of the last few hundred
steps' weights is smoother than the last step's. The decay ramps up as ``min(decay, (1 + n) / (10 + n))``
after ``n`` updates, so the average does not remember the random initial weights for thousands of steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch
from torch import nn


class WeightEMA:
    """Shadow copies of every floating-point parameter and buffer of ``model``, updated after each step."""

    def __init__(self, model: nn.Module, decay: float, updates: int = 0) -> None:
        if not 0 < decay < 1:
            raise ValueError(f"ema decay {decay}: use a value in (0, 1), e.g. 0.999")
        self.decay, self.updates = decay, updates
        self.shadow = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    def current_decay(self) -> float:
        return min(self.decay, (1 + self.updates) / (10 + self.updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        d = self.current_decay()
        for k, v in model.state_dict().items():
            if k in self.shadow:
                self.shadow[k].lerp_(v.detach(), 1 - d)
        self.updates += 1

    def state_dict(self, model: nn.Module) -> dict[str, torch.Tensor]:
        """``model``'s state dict with the averaged weights in place of the trained ones."""
        return {k: self.shadow.get(k, v).clone() for k, v in model.state_dict().items()}

    def load(self, averaged: dict[str, torch.Tensor], updates: int) -> None:
        for k in self.shadow:
            self.shadow[k].copy_(averaged[k])
        self.updates = updates

    @contextmanager
    def applied(self, model: nn.Module) -> Iterator[None]:
        """Run the block with the averaged weights in ``model``; the trained weights come back after."""
        trained = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(self.state_dict(model), strict=True)
        try:
            yield
        finally:
            model.load_state_dict(trained, strict=True)
