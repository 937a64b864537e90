"""The one start decision: ``make_start`` gives a child sliced from a loaded parent, or seeded weights, and
every caller that trains an architecture builds its start there."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch

from rife_core.model.presets import create_model
from rife_core.model.slicing import slice_child
from rife_core.training.config import Stage, TrainConfig
from rife_core.training.start import Seeded, Sliced, StartError, make_start, weight_seed
from tests.small_parent import CHILD, small_parent

ROOT = Path(__file__).resolve().parents[3]
RUN = TrainConfig(stages=(Stage(steps=1, crop=32, batch_size=2),), seed=3)


def test_a_parent_gives_a_sliced_start_and_none_a_seeded_one() -> None:
    parent = small_parent()
    sliced = make_start(parent, importance="l1")
    assert isinstance(sliced, Sliced) and sliced.kind == "sliced" and sliced.parent is parent
    seeded = make_start(None)
    assert isinstance(seeded, Seeded) and seeded.kind == "seeded" and seeded.parent is None
    kept = make_start(parent, "seeded")  # seeded weights, the parent kept for a ``parent`` loss term
    assert isinstance(kept, Seeded) and kept.parent is parent


def test_a_sliced_start_is_the_slicing_of_the_parent_with_the_candidates_seed() -> None:
    parent = small_parent()
    start = make_start(parent, importance="l1")
    child = start.prepare(CHILD, RUN)
    expected, report = slice_child(parent, CHILD, seed=weight_seed(RUN.seed, CHILD.arch_id))
    assert all(
        torch.equal(a, b) for a, b in zip(child.state_dict().values(), expected.state_dict().values(), strict=True)
    )
    assert start.inherited_share(CHILD) == report.share == 1.0


def test_a_child_with_a_kind_the_parent_lacks_is_fitted_on_the_importances_crops() -> None:
    from rife_core.training.importance import importance_batches

    parent, cfg = small_parent(), CHILD.replace(upsample="pixelshuffle")
    start = make_start(parent, importance="l1")
    child = start.prepare(cfg, RUN)
    expected, report = slice_child(
        parent, cfg, seed=weight_seed(RUN.seed, cfg.arch_id), batches=importance_batches(RUN.data)
    )
    assert all(
        torch.equal(a, b) for a, b in zip(child.state_dict().values(), expected.state_dict().values(), strict=True)
    )
    assert start.reports[cfg.arch_id].fitted == report.fitted > 0 and start.inherited_share(cfg) == report.share


def test_a_seeded_start_is_the_candidates_own_generator() -> None:
    net = make_start(None).prepare(CHILD, RUN)
    expected = create_model(CHILD, seed=weight_seed(RUN.seed, CHILD.arch_id))
    assert all(
        torch.equal(a, b) for a, b in zip(net.state_dict().values(), expected.state_dict().values(), strict=True)
    )
    assert make_start(None).inherited_share(CHILD) == 0.0


@pytest.mark.parametrize(
    ("kind", "importance", "fit", "message"),
    [
        ("sliced", "taylor", "full", "needs a parent"),
        ("inherited", "taylor", "full", "choose sliced or seeded"),
        (None, "x", "full", "taylor"),
        (None, "taylor", "slow", "choose full or fast"),
    ],
)
def test_a_start_that_cannot_be_made_names_the_fix(kind: str | None, importance: str, fit: str, message: str) -> None:
    with pytest.raises(StartError, match=message):
        make_start(None, kind, importance=importance, fit=fit)


def test_the_start_is_decided_in_one_place() -> None:
    """No module outside rife_core/training/start.py builds a start, slices a child or loads a parent for a
    training: the commands load the parent once and every caller goes through make_start."""
    built = re.compile(r"\b(Sliced|Seeded)\(|\bslice_child\(")
    offenders = []
    for path in sorted(ROOT.glob("*/**/*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.split("/")[0] in ("tests", "benchmarks") or rel == "rife_core/training/start.py":
            continue
        if rel == "rife_core/model/slicing.py":  # where slicing itself lives
            continue
        offenders += [f"{rel}: {m.group(0)}" for m in built.finditer(path.read_text())]
    assert offenders == []
