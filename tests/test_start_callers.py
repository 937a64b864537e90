"""Every caller that trains an architecture builds its start with the one constructor (``make_start``),
from the parent its command loaded: the search, the retraining, the reference table, the fidelity study,
the train CLI and the ablation runner. A spy around each caller's ``make_start`` sees the call, the parent
it was given (the same object, not a reload) and the start the caller then uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import torch

from rife_core.model.config import uniform_blocks
from rife_core.model.ifnet import IFNet
from rife_core.model.layer_starts import FIT_BUDGETS
from rife_core.model.presets import PRESETS
from rife_core.training import start as start_module
from search.proxy import ProxySettings
from tests.small_parent import small_parent

TINY = ProxySettings(
    steps=2, crop=32, batch=2, val_every=2, val_items=1, val_crop=32, size=(32, 32), latency_size=(32, 32), workers=0
)


class Spy:
    """Wraps ``make_start``: records each call's parent and kind and the start it returned."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, str | None, Any]] = []

    def __call__(self, parent: Any, kind: str | None = None, **kw: Any) -> Any:
        made = start_module.make_start(parent, kind, **kw)
        self.calls.append((parent, kind, made))
        return made


@pytest.fixture
def parent() -> IFNet:
    return small_parent()


def spy_on(monkeypatch: pytest.MonkeyPatch, module: Any) -> Spy:
    spy = Spy()
    monkeypatch.setattr(module, "make_start", spy)
    return spy


def test_the_search_objective(monkeypatch: pytest.MonkeyPatch, parent: IFNet) -> None:
    from search import objective
    from search.spec import SearchSpec
    from space.space import SearchSpace

    spy = spy_on(monkeypatch, objective)
    space = SearchSpace.load()
    obj = objective.Objective(SearchSpec(budget=500_000, proxy=TINY), space, "fp", parent)
    assert len(spy.calls) == 1 and spy.calls[0][0] is parent and obj.start is spy.calls[0][2]
    assert obj.start.kind == "sliced"
    assert obj.start.fit == FIT_BUDGETS["fast"]  # type: ignore[attr-defined]  # the proxy's fits, not the table's
    with pytest.raises(ValueError, match="load it once"):  # a space with a parent and no loaded parent
        objective.Objective(SearchSpec(budget=500_000, proxy=TINY), space, "fp", None)


def test_the_retraining(monkeypatch: pytest.MonkeyPatch, parent: IFNet) -> None:
    from dataclasses import replace

    from search import retrain
    from search.spec import SearchSpec

    spy = spy_on(monkeypatch, retrain)
    spec = SearchSpec(budget=500_000, proxy=TINY)
    assert retrain.retrain_start(spec, parent) is spy.calls[0][2] and spy.calls[0][0] is parent
    seeded = retrain.retrain_start(replace(spec, retrain=replace(spec.retrain, init="seeded")), parent)
    assert seeded.kind == "seeded" and spy.calls[1][1] == "seeded"


def test_the_reference_table(monkeypatch: pytest.MonkeyPatch, parent: IFNet) -> None:
    from fidelity import reference
    from space.space import SearchSpace

    spy = spy_on(monkeypatch, reference)
    recipe = reference.default_recipe(SearchSpace.load())
    start = reference.recipe_start(recipe, parent)
    assert start is spy.calls[0][2] and spy.calls[0][0] is parent and start.kind == "sliced"
    assert start.fit == FIT_BUDGETS["full"]  # type: ignore[attr-defined]  # the fits the table's rows were trained with


def test_the_fidelity_study(monkeypatch: pytest.MonkeyPatch, parent: IFNet) -> None:
    from fidelity import rows

    spy = spy_on(monkeypatch, rows)
    starts = rows.Starts(parent)
    first = starts(TINY)
    assert first is spy.calls[0][2] and spy.calls[0][0] is parent
    assert starts(TINY) is first and len(spy.calls) == 1  # one start per ranking, the parent loaded once


def test_the_train_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from rife_core.cli import train as train_cli

    release = tmp_path / "flownet.pkl"  # a release file of the parent's structure (random weights)
    from tests.rife_core.model.v3_reference import RefIFNetV3

    torch.manual_seed(0)
    torch.save({f"module.{k}": v for k, v in RefIFNetV3().state_dict().items()}, release)
    child = tmp_path / "child.json"
    child.write_text(PRESETS["rife_v3_hd"].replace(blocks=uniform_blocks([4, 2, 1], [8, 8, 8], 1)).to_json())
    import numpy as np
    from PIL import Image

    clip = tmp_path / "frames" / "clip"
    clip.mkdir(parents=True)
    base = np.random.default_rng(0).integers(0, 256, (48, 80, 3), dtype=np.uint8)
    for i in range(40):  # a texture moving 2 px per frame: small, real frames
        Image.fromarray(np.roll(base, 2 * i, axis=1)).save(clip / f"{i:04d}.png")
    data = f"frames:{tmp_path / 'frames'}"
    spy = spy_on(monkeypatch, train_cli)
    argv = f"--config {child} --init-from-parent rife_v3_hd:{release} --importance l1 --steps 1 --crop 32"
    argv += f" --batch 2 --val-every 1 --out {tmp_path / 'run'} --loss l1=1,parent=0.5 --data {data}"
    assert train_cli.main(argv.split()) == 0
    (called_parent, kind, made) = spy.calls[0]
    assert kind is None and made.kind == "sliced" and made.parent is called_parent
    assert made.inherited_share(PRESETS["rife_v3_hd"].replace(blocks=uniform_blocks([4, 2, 1], [8, 8, 8], 1))) == 1.0


def test_the_ablation_runner(monkeypatch: pytest.MonkeyPatch, parent: IFNet) -> None:
    from experiments import runner
    from experiments.spec import AblationSpec

    spy = spy_on(monkeypatch, runner)
    raw = {
        "name": "t",
        "base": "rife_v3_hd",
        "parent": "rife_v3_hd",
        "control": "a",
        "variants": {"a": {}, "b": {"arch": {"both_orders": False}}},
        "train": {"steps": 1},
    }
    spec = AblationSpec.from_dict(raw)
    assert spec.start.kind == "sliced" and spec.start.parent == "rife_v3_hd"
    start = runner.spec_start(spec, parent)
    assert start is spy.calls[0][2] and spy.calls[0][0] is parent
    seeded = AblationSpec.from_dict({**raw, "start": "seeded"})
    assert runner.spec_start(seeded, parent).kind == "seeded"
    # the start is part of a run's key; a seeded start without a parent adds nothing (older keys hold)
    fixed: dict[str, Any] = {"eval": ["x"]}
    v = spec.variants[0]
    assert v.key(0, {**fixed, **spec.start.key_fields()}) != v.key(0, {**fixed, **seeded.start.key_fields()})
    plain = AblationSpec.from_dict({k: v for k, v in raw.items() if k != "parent"})
    assert plain.start.key_fields() == {} and plain.start.kind == "seeded"
    with pytest.raises(ValueError, match="load it and pass it"):
        runner.spec_start(spec, None)
