"""Seeded weight initialisation: a model's initial weights as a function of a seed, not of the global RNG.

``nn.Conv2d`` draws its initial weights from torch's process-wide generator, so a network built after
other work (an earlier trial, a MAC count, another thread) starts from different weights. Re-drawing
them from a private ``torch.Generator`` with PyTorch's own default scheme makes the initial weights a
function of (config, seed) alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rife_core.model.layers import ResConv

# PyTorch's default for conv weights: kaiming_uniform_ with a = sqrt(5), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
DEFAULT_CONV_A = math.sqrt(5)
PRELU_INIT = 0.25  # nn.PReLU's default slope


def init_parameters(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Re-initialise every parameter of ``model`` from ``generator`` with PyTorch's default scheme.

    Convolutions (plain and transposed) get PyTorch's default weight and bias distributions; ResConv's
    ``beta`` is reset to ones, PReLU slopes to PyTorch's 0.25. Any other parameter is an error, so a new
    layer type cannot silently keep weights drawn from the global RNG.
    """
    covered: set[int] = set()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
                nn.init.kaiming_uniform_(m.weight, a=DEFAULT_CONV_A, generator=generator)
                covered.add(id(m.weight))
                if m.bias is not None:
                    fan_in, _ = nn.init._calculate_fan_in_and_fan_out(m.weight)
                    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    nn.init.uniform_(m.bias, -bound, bound, generator=generator)
                    covered.add(id(m.bias))
            elif isinstance(m, ResConv):
                m.beta.fill_(1.0)
                covered.add(id(m.beta))
            elif isinstance(m, nn.PReLU):
                m.weight.fill_(PRELU_INIT)
                covered.add(id(m.weight))
    missed = [name for name, p in model.named_parameters() if id(p) not in covered]
    if missed:
        raise TypeError(f"init_parameters does not know how to initialise {missed}; add their layer type")
    return model


def seeded_generator(seed: int) -> torch.Generator:
    """A CPU generator seeded with ``seed`` (weights are drawn on the CPU, then moved)."""
    return torch.Generator().manual_seed(int(seed))
