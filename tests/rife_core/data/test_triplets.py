from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rife_core.data.frames import DataError
from rife_core.data.triplets import SPLITS, sequence_windows


@given(n=st.integers(3, 400), spans=st.lists(st.integers(2, 6), min_size=1, max_size=3))
@settings(max_examples=80, deadline=None)
def test_splits_share_no_frame(n: int, spans: list[int]) -> None:
    used = {s: {f for w in sequence_windows(n, s, (), spans) for f in range(w[0], w[2] + 1)} for s in SPLITS}
    assert not used["train"] & used["val"] and not used["train"] & used["test"] and not used["val"] & used["test"]


def test_windows_skip_cuts_and_carry_timesteps() -> None:
    wins = sequence_windows(100, "train", cuts=[29], spans=(2,))
    assert (28, 29, 30) not in wins and (29, 30, 31) not in wins
    assert (27, 28, 29) in wins and (30, 31, 32) in wins
    arb = sequence_windows(100, "train", spans=(4,))
    assert {(k - i) / (j - i) for i, k, j in arb} == {0.25, 0.5, 0.75}
    assert len(sequence_windows(100, "train", spans=(2,))) == 78  # frames 0..79, windows start 0..77


def test_bad_split_and_span() -> None:
    with pytest.raises(DataError, match="unknown split"):
        sequence_windows(10, "training")
    with pytest.raises(DataError, match="span 1"):
        sequence_windows(10, "train", spans=(1,))
