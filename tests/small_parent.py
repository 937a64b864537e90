"""A small stand-in for the parent ``rife_v3_hd`` (its structure at width 16, depth 2, seeded weights) and a
child it serves: the tests of starts and slicing that need no real weights use these."""

from __future__ import annotations

from rife_core.model.config import uniform_blocks
from rife_core.model.ifnet import IFNet
from rife_core.model.init import init_parameters, seeded_generator
from rife_core.model.presets import PRESETS

PARENT_CFG = PRESETS["rife_v3_hd"].replace(blocks=uniform_blocks([4, 2, 1], [16, 16, 16], 2))
CHILD = PARENT_CFG.replace(blocks=uniform_blocks([4, 2, 1], [8, 8, 8], 1), both_orders=False)


def small_parent() -> IFNet:
    """A fresh copy each call (the same weights)."""
    model = IFNet(PARENT_CFG)
    init_parameters(model, seeded_generator(0))
    return model.eval()
