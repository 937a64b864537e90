from __future__ import annotations

from search.pruner import ParetoPruner, Reference

REFS = [
    Reference(0, cost=100.0, curve={100: 30.0, 200: 31.0}),
    Reference(1, cost=300.0, curve={100: 33.0, 200: 34.0}),
    Reference(2, cost=50.0, curve={100: 29.0, 200: 29.5}),
    Reference(3, cost=500.0, curve={100: 35.0, 200: 36.0}),
]
PRUNER = ParetoPruner(margin_db=0.5, warmup_steps=100, min_finished=4)


def test_prunes_when_a_cheaper_trial_was_clearly_better() -> None:
    d = PRUNER.decide(step=100, psnr=32.0, cost=400.0, finished=REFS)
    assert d.prune and d.better == (1,)  # trial 3 is better but costlier


def test_costlier_references_do_not_count() -> None:
    # Only trial 3 is far better, but it is costlier: this trial may still be on the front.
    d = PRUNER.decide(step=100, psnr=31.0, cost=200.0, finished=REFS)
    assert not d.prune and d.better == ()


def test_margin_is_required() -> None:
    assert not PRUNER.decide(step=100, psnr=32.6, cost=300.0, finished=REFS).prune  # 33.0 < 32.6 + 0.5
    assert PRUNER.decide(step=100, psnr=32.5, cost=300.0, finished=REFS).prune  # 33.0 >= 32.5 + 0.5


def test_warmup_and_minimum_history() -> None:
    assert not PRUNER.decide(step=50, psnr=10.0, cost=1e9, finished=REFS).prune
    assert not PRUNER.decide(step=100, psnr=10.0, cost=1e9, finished=REFS[:3]).prune


def test_only_the_same_step_is_compared() -> None:
    d = PRUNER.decide(step=150, psnr=10.0, cost=1e9, finished=REFS)
    assert not d.prune and "no cheaper trial" in d.reason
