"""Checkpoints load as data only: pickled code is refused without running, a cut-short file is named."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from rife_core.model.presets import create_model
from rife_core.training.checkpoint import load_model, read_checkpoint, save_checkpoint
from rife_core.training.config import TrainConfig

from ..conftest import TINY


class _Touch:
    """Unpickling this calls Path.touch(evidence): what a hostile checkpoint would do with os.system."""

    def __init__(self, evidence: Path) -> None:
        self.evidence = evidence

    def __reduce__(self):
        return (Path.touch, (self.evidence,))


def test_a_checkpoint_that_would_run_code_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    evidence, path = tmp_path / "ran", tmp_path / "evil.pt"
    torch.save({"arch": TINY.to_dict(), "model": {}, "payload": _Touch(evidence)}, path)
    with pytest.raises(ValueError, match="refused"):
        load_model(path)
    assert not evidence.exists()
    pickle.loads(pickle.dumps(_Touch(evidence)))  # the payload is real: an unsafe load would have run it
    assert evidence.exists()


def test_a_saved_checkpoint_loads_as_data_and_a_truncated_one_is_named(tmp_path: Path) -> None:
    model = create_model(TINY, seed=0)
    opt = torch.optim.AdamW(model.parameters())
    path = save_checkpoint(tmp_path / "c.pt", model, opt, 3, TrainConfig(), progress={"history": [], "losses": [0.5]})
    ckpt = read_checkpoint(path)
    assert ckpt["step"] == 3 and ckpt["progress"]["losses"] == [0.5]
    restored = load_model(path)
    pairs = zip(model.state_dict().values(), restored.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ValueError, match="cut short"):
        load_model(cut)
