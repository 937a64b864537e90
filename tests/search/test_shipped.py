"""Shipping a supernet: a manifest entry is checked by its SHA-256, and a subnet extracted from a supernet is
a stand-alone IFNet. No supernet ships now (the default space's candidates start sliced from a parent)."""

from __future__ import annotations

import json

import pytest
import torch

from rife_core.cost.params import count_params
from rife_core.model.presets import create_model
from rife_core.model.supernet import SuperNet
from search.sampling import spread_sample
from search.shipped import MANIFEST, ShippedError, find_shipped, sha256, shipped_entries
from space.space import V4_SPACE, SearchSpace

BUDGET = 500_000


def test_nothing_ships_now() -> None:
    assert shipped_entries() == [] and not list(MANIFEST.parent.glob("supernet_*.pt"))


def test_a_listed_file_is_found_when_intact_and_refused_when_damaged(tmp_path) -> None:
    snapshot = tmp_path / "supernet_k_step5.pt"
    snapshot.write_bytes(b"weights")
    manifest = tmp_path / "manifest.json"
    entry = {"file": snapshot.name, "key": "k", "step": 5, "sha256": sha256(snapshot)}
    manifest.write_text(json.dumps({"supernets": [entry]}))
    assert find_shipped("k", 5, manifest) == snapshot and find_shipped("k", 6, manifest) is None
    snapshot.write_bytes(b"version https://git-lfs.github.com/spec/v1\n")
    with pytest.raises(ShippedError, match="does not match its SHA-256"):
        find_shipped("k", 5, manifest)
    snapshot.unlink()
    with pytest.raises(ShippedError, match="missing"):
        find_shipped("k", 5, manifest)


def test_an_extracted_subnet_equals_a_stand_alone_ifnet_with_the_copied_weights() -> None:
    space = SearchSpace.load(V4_SPACE)
    supernet = SuperNet(space.super_space(), seed=3).eval()
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
