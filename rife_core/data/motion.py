"""Large-motion subsets: the triplets whose classical (DIS) flow between the two inputs is large.

A triplet counts as large motion when the 90th percentile of the DIS optical-flow magnitude from frame0
to frame1, over the whole frame, is at least ``LARGE_MOTION_PX`` pixels: a tenth of the frame moves by at
least that much, whatever the static background does. On the embedded default data this keeps 15 of 44
validation triplets (bikes' fast segment and Big Buck Bunny's camera pan).
"""

from __future__ import annotations

import logging

import numpy as np

from rife_core.data.flow import dis_flow
from rife_core.data.triplets import Triplet

log = logging.getLogger(__name__)

# With t = 0.5 the middle frame then sits >= 4 px from each input for a tenth of the frame: displacements
# that a block at scale 1 cannot reach within its receptive field and a coarse level must find.
LARGE_MOTION_PX = 8.0
PERCENTILE = 90


def motion_px(tri: Triplet) -> float:
    """90th percentile of the DIS flow magnitude frame0 -> frame1, in pixels."""
    flow = dis_flow(tri.img0, tri.img1)
    return float(np.percentile(np.linalg.norm(flow, axis=-1), PERCENTILE))


class LargeMotion:
    """The items of ``base`` with ``motion_px >= min_px``; the flow of every item is computed once, on load."""

    def __init__(self, base, min_px: float = LARGE_MOTION_PX) -> None:
        self.base = base
        self.min_px = min_px
        self.motion = [motion_px(base[i]) for i in range(len(base))]
        self.indices = [i for i, m in enumerate(self.motion) if m >= min_px]
        self.name = f"large_motion({getattr(base, 'name', 'data')})"
        log.info("%s: %d of %d triplets move >= %g px", self.name, len(self.indices), len(base), min_px)

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, idx: int) -> Triplet:
        return self.base[self.indices[idx]]
