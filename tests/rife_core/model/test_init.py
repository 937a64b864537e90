from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from rife_core import create_model
from rife_core.model.init import init_parameters


def test_seeded_weights_do_not_depend_on_the_global_rng() -> None:
    torch.manual_seed(0)
    a = create_model("lite_s", seed=5).state_dict()
    torch.manual_seed(99)
    b = create_model("lite_s", seed=5).state_dict()
    c = create_model("lite_s", seed=6).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not torch.equal(a["blocks.0.conv0.0.0.weight"], c["blocks.0.conv0.0.0.weight"])


@pytest.mark.parametrize("conv", [nn.Conv2d(24, 32, 3), nn.ConvTranspose2d(32, 20, 4, 2, 1)])
def test_distribution_is_pytorchs_default(conv: nn.Module) -> None:
    """U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases, as nn's reset_parameters draws them."""
    init_parameters(conv, torch.Generator().manual_seed(0))
    fan_in = conv.weight.shape[1] * conv.weight[0, 0].numel()
    bound = 1 / math.sqrt(fan_in)
    w = conv.weight.detach()
    assert w.abs().max() <= bound and w.abs().max() > 0.95 * bound
    assert w.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)  # std of U(-b, b)
    assert conv.bias.abs().max() <= bound


def test_unknown_parameter_types_are_refused() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Linear(4, 4))
    with pytest.raises(TypeError, match="does not know"):
        init_parameters(model, torch.Generator().manual_seed(0))
