"""Hypervolume on hand-made fronts."""

from __future__ import annotations

import itertools

import pytest

from reports.hypervolume import hypervolume_2d, hypervolume_over_trials


def test_single_point_is_its_box() -> None:
    assert hypervolume_2d([[1.0, 2.0]], [4.0, 5.0]) == pytest.approx(3.0 * 3.0)


def test_staircase_of_three_points() -> None:
    # points (1,3), (2,2), (3,1), reference (4,4): strips 1x1 + 1x2 + 1x3 = 6
    assert hypervolume_2d([[3, 1], [1, 3], [2, 2]], [4, 4]) == pytest.approx(6.0)


def test_dominated_and_outside_points_add_nothing() -> None:
    base = hypervolume_2d([[1, 3], [2, 2], [3, 1]], [4, 4])
    assert hypervolume_2d([[1, 3], [2, 2], [3, 1], [2.5, 2.5], [5, 0], [0, 6]], [4, 4]) == pytest.approx(base)
    assert hypervolume_2d([], [4, 4]) == 0.0


def test_curve_over_trials_never_falls() -> None:
    curve = hypervolume_over_trials([[3, 3], [2.5, 3.5], [1, 1], [2, 2]], [4, 4])
    assert curve == pytest.approx([1.0, 0.5 * 0.5 + 1.0, 9.0, 9.0])  # (2.5, 3.5) adds a 0.5 x 0.5 strip
    assert all(b >= a for a, b in itertools.pairwise(curve))
