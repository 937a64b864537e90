"""Hypervolume of a two-objective front (both minimised) against a fixed reference point.

The area dominated by the points and bounded by the reference point: the standard single number for how
good a whole front is. Maximised objectives (PSNR) are negated by the caller. Points that do not dominate
the reference point add nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def hypervolume_2d(points: Sequence[Sequence[float]], reference: Sequence[float]) -> float:
    """Area dominated by ``points`` (minimisation in both coordinates) inside the box up to ``reference``."""
    p = np.asarray(points, dtype=float).reshape(-1, 2)
    rx, ry = float(reference[0]), float(reference[1])
    p = p[(p[:, 0] < rx) & (p[:, 1] < ry) & np.isfinite(p).all(axis=1)]
    if not len(p):
        return 0.0
    p = p[np.lexsort((p[:, 1], p[:, 0]))]  # by x, then y
    front, lowest = [], ry  # the non-dominated points, x increasing, y decreasing
    for x, y in p:
        if y < lowest:
            front.append((x, y))
            lowest = y
    # each front point owns the strip from its x to the next point's x, from its y up to the reference
    xs_next = [x for x, _ in front[1:]] + [rx]
    area = sum((nx - x) * (ry - y) for (x, y), nx in zip(front, xs_next, strict=True))
    return float(area)


def hypervolume_over_trials(points: Sequence[Sequence[float]], reference: Sequence[float]) -> list[float]:
    """Hypervolume of the first k points, for k = 1..n (the curve of a search's progress)."""
    return [hypervolume_2d(points[: k + 1], reference) for k in range(len(points))]
