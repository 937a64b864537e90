"""The supernet that ships: listed, intact, of the default space, and its subnets are stand-alone IFNets."""

from __future__ import annotations

from dataclasses import asdict

import pytest
import torch

from rife_core.cost.params import count_params
from rife_core.model.presets import create_model
from rife_core.training.checkpoint import read_checkpoint
from search.oneshot import SHIPPED_STEPS, SupernetSettings, find_snapshot, load_snapshot
from search.sampling import spread_sample
from search.shipped import MANIFEST, ShippedError, find_shipped, sha256, shipped_entries
from space.space import V4_SPACE, SearchSpace

BUDGET = 500_000


@pytest.fixture(scope="module")
def space() -> SearchSpace:
    return SearchSpace.load(V4_SPACE)


def test_the_default_search_inherits_from_a_shipped_snapshot(space: SearchSpace, tmp_path) -> None:
    key = SupernetSettings().key(space, BUDGET)
    (entry,) = [e for e in shipped_entries() if e["key"] == key]
    assert entry["step"] == SHIPPED_STEPS == SupernetSettings().steps
    path = MANIFEST.parent / entry["file"]
    assert sha256(path) == entry["sha256"]
    assert find_snapshot(tmp_path, key, SHIPPED_STEPS) == path  # found without any cache
    ckpt = read_checkpoint(path)
    assert ckpt["step"] == SHIPPED_STEPS and ckpt["meta"]["key"] == key
    assert ckpt["meta"]["super_space"] == asdict(space.super_space())
    assert all(v.dtype == torch.float16 for v in ckpt["shared"].values() if v.is_floating_point())
    assert "--supernet-steps N" in entry["continue"]


def test_a_damaged_shipped_file_is_refused_by_its_checksum(tmp_path) -> None:
    (entry, *_) = shipped_entries()
    manifest = tmp_path / "manifest.json"
    manifest.write_text(MANIFEST.read_text())
    (tmp_path / entry["file"]).write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(ShippedError, match="does not match its SHA-256"):
        find_shipped(entry["key"], int(entry["step"]), manifest)


def test_an_extracted_subnet_equals_a_stand_alone_ifnet_with_the_copied_weights(space: SearchSpace) -> None:
    key = SupernetSettings().key(space, BUDGET)
    path = find_shipped(key, SHIPPED_STEPS)
    assert path is not None
    supernet = load_snapshot(path, space)
    g = torch.Generator().manual_seed(0)
    a, b = torch.rand(1, 3, 64, 96, generator=g), torch.rand(1, 3, 64, 96, generator=g)
    for cfg in spread_sample(space, BUDGET, 3, seed=0):
        alone = create_model(cfg, seed=1)
        alone.load_state_dict(supernet.extract(cfg).state_dict())
        assert sum(p.numel() for p in alone.parameters()) == count_params(cfg)
        with torch.no_grad():
            want = supernet(cfg, a, b, 0.5).frame
            got = alone.eval()(a, b, 0.5).frame
        assert torch.allclose(got, want, atol=1e-5)
