"""Specs on a parent: bases written as children of its space, variants served or refused before any
training, runs reproducible from (spec, variant, seed), a control shared by two specs trained once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml

from experiments.parent_child import changed, child_config
from experiments.run import main
from experiments.runner import check_served, plan_runs
from experiments.spec import SPECS_DIR, AblationSpec, SpecError, resolve
from rife_core.model.config import ArchConfig, ConfigError
from rife_core.model.parents import parent_config
from rife_core.model.presets import create_model

PARENT_SPECS = sorted((SPECS_DIR / "parent").glob("*.yaml"))


@pytest.mark.parametrize("path", PARENT_SPECS, ids=lambda p: p.stem)
def test_every_parent_spec_is_served_and_changes_one_choice(path: Path) -> None:
    spec = AblationSpec.read(path)
    assert spec.on_parent_space and spec.start.kind == "sliced"
    how = check_served(spec)  # raises for a variant the parent cannot serve
    assert set(how) == {v.name for v in spec.variants}
    control = spec.variant(spec.control)
    # the shared base (reference child of the table) is the control, or a variant one choice from it
    assert "97663de0337b" in {v.arch.arch_id for v in spec.variants}
    for v in spec.variants:
        if v.name == spec.control:
            continue
        dims = changed(control.arch, v.arch)
        # an architecture variant changes one choice of the space; a recipe variant changes none
        assert len(dims) == 1 or (not dims and (v.train, v.data) != (control.train, control.data)), (v.name, dims)
        if dims:
            assert_computes_otherwise(control.arch, v.arch, v.name)
    assert [e.name for e in spec.evals][:3] == ["lm", "val", "test"]  # the claims table reads these three
    assert resolve(f"parent/{path.stem}") == path  # runnable by its shipped name


def assert_computes_otherwise(control: ArchConfig, variant: ArchConfig, name: str) -> None:
    """A variant whose weights fit the control's must compute something else with them: a choice the
    base makes moot (block-resolution warping where the only warp feeds the full-resolution block) is a
    variant that tests nothing."""
    a, b = create_model(control, seed=0), create_model(variant, seed=0)
    shapes = {k: v.shape for k, v in a.state_dict().items()}
    if shapes != {k: v.shape for k, v in b.state_dict().items()}:
        return  # other layers: another function
    b.load_state_dict(a.state_dict())
    g = torch.Generator().manual_seed(0)
    img0, img1 = torch.rand(1, 3, 64, 96, generator=g), torch.rand(1, 3, 64, 96, generator=g)
    with torch.no_grad():
        out_a, out_b = a(img0, img1, 0.5).frame, b(img0, img1, 0.5).frame
    assert not torch.allclose(out_a, out_b, atol=1e-6), f"{name} computes what the control does"


def test_a_moot_variant_is_caught() -> None:
    base = child_config("rife_v3_hd", {"scales": [8, 2, 1], "width": [40, 48, 24], "depth": [4, 3, 3], "warp_every": 2})
    moot = child_config(
        "rife_v3_hd",
        {"scales": [8, 2, 1], "width": [40, 48, 24], "depth": [4, 3, 3], "warp_every": 2, "warp_resolution": "block"},
    )
    with pytest.raises(AssertionError, match="computes what the control does"):
        assert_computes_otherwise(base, moot, "block_resolution")


def test_a_child_is_written_in_the_parent_spaces_dimensions() -> None:
    pcfg = parent_config("rife_v3_hd")
    child = child_config("rife_v3_hd", {"width": 32, "depth": [2, 3, 4], "upsample": "pixelshuffle"})
    assert [b.scale for b in child.blocks] == [b.scale for b in pcfg.blocks]  # the parent's pyramid
    assert [(b.width, b.depth) for b in child.blocks] == [(32, 2), (32, 3), (32, 4)]
    assert child.upsample == "pixelshuffle" and child.both_orders == pcfg.both_orders
    with pytest.raises(ConfigError, match="unknown child choices"):
        child_config("rife_v3_hd", {"width": 32, "depth": 2, "widht": 3})
    with pytest.raises(ConfigError, match="3 levels"):
        child_config("rife_v3_hd", {"width": [32, 32], "depth": 2})


def test_a_variant_the_parent_cannot_serve_is_refused_before_any_training(tmp_path: Path, capsys) -> None:
    raw = yaml.safe_load((SPECS_DIR / "parent" / "trunk.yaml").read_text())
    raw["variants"]["too_wide"] = {"arch": {"width": [96, 48, 24]}}
    raw["variants"]["too_deep"] = {"arch": {"depth": [5, 3, 3]}}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw))
    with pytest.raises(SpecError) as refused:
        check_served(AblationSpec.read(path))
    assert "too_wide: blocks[0].width=96 is wider" in str(refused.value)  # every refused variant, with its reason
    assert "too_deep: blocks[0].depth=5 is deeper" in str(refused.value)
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as e:  # a good spec first: every spec is checked before any trains
        main(["parent/warp", str(path), "--out", str(out)])
    assert e.value.code == 2 and "cannot serve" in capsys.readouterr().err
    assert not out.exists()  # refused before anything was trained or recorded


def tiny_parent_spec(tmp_path: Path, release: Path, name: str, variants: dict) -> Path:
    spec = {
        "name": name,
        "parent": f"rife_v3_hd:{release}",
        "base": {"scales": [4, 1], "width": [8, 8], "depth": [1, 1]},
        "control": "base",
        "variants": {"base": {}, **variants},
        "train": {"steps": 2, "crop": 32, "batch": 2, "lr": 1e-3, "synthetic_ratio": 0.0, "collapse_margin_db": None},
        "eval": [{"name": "lm", "data": "default", "crop": 64, "items": 2}],
        "size": [64, 64],
        "seeds": 1,
    }
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def rows(folder: Path) -> dict[str, dict]:
    return {r["variant"]: r for r in map(json.loads, (folder / "runs.jsonl").read_text().splitlines())}


def test_parent_runs_reproduce_and_a_shared_control_trains_once(tmp_path: Path, release: Path) -> None:
    first = tiny_parent_spec(tmp_path, release, "tiny_kinds", {"learned_down": {"arch": {"downsample": "conv"}}})
    second = tiny_parent_spec(tmp_path, release, "tiny_orders", {"one_order": {"arch": {"both_orders": False}}})
    out, again = tmp_path / "out", tmp_path / "again"
    assert main([str(first), str(second), "--out", str(out), "--no-lpips"]) == 0  # in turn, in one command
    a, b = rows(out / "tiny_kinds"), rows(out / "tiny_orders")
    assert b["base"]["reused_from"] == "tiny_kinds" and b["base"]["key"] == a["base"]["key"]
    assert "reused_from" not in a["learned_down"] and "reused_from" not in b["one_order"]
    assert a["learned_down"]["start_shares"]["rewritten"] > 0  # the learned downsampler is rewritten exactly
    assert a["base"]["start_shares"] == {"copied": 1.0, "rewritten": 0.0, "fitted": 0.0}
    # each trained row says which kernels ran it (scores reproduce on the same ones)
    assert a["base"]["machine"]["capability"] == torch.backends.cpu.get_cpu_capability()
    assert a["base"]["machine"]["torch"] == torch.__version__ and a["base"]["machine"]["device"] == "cpu"
    latency = json.loads((out / "tiny_kinds" / "latency.json").read_text())
    assert latency["ratio"]["base"] == 1.0 and latency["ratio"]["learned_down"] > 0
    # the same (spec, variant, seed) in a fresh folder: the same row
    assert main([str(first), "--out", str(again), "--no-lpips"]) == 0
    c = rows(again / "tiny_kinds")
    for v in ("base", "learned_down"):
        assert c[v]["key"] == a[v]["key"]
        assert c[v]["psnr@lm"] == pytest.approx(a[v]["psnr@lm"], abs=1e-6)
        assert c[v]["history"] == a[v]["history"]


def test_a_variant_with_more_seeds_is_paired_with_as_many_control_runs() -> None:
    raw = yaml.safe_load((SPECS_DIR / "parent" / "kinds.yaml").read_text())
    for over in raw["variants"].values():
        (over or {}).pop("seeds", None)  # the spec's 3 for all
    plain = AblationSpec.from_dict(raw)
    raw["variants"]["dsconv"] = {**raw["variants"]["dsconv"], "seeds": 5}
    more = AblationSpec.from_dict(raw)
    seeds: dict[str, list[int]] = {}
    for v, s in more.jobs():
        seeds.setdefault(v.name, []).append(s)
    assert seeds["dsconv"] == seeds["base"] == [0, 1, 2, 3, 4]
    assert all(seeds[v.name] == [0, 1, 2] for v in plain.variants if v.name not in ("dsconv", "base"))
    assert len(more.jobs()) == len(plain.jobs()) + 4  # two more runs each for the variant and the control
    fixed = {"eval": list(more.eval)}
    for v in plain.variants:  # a run's key holds no seed count: the rows already run are reused
        assert more.variant(v.name).key(2, fixed) == v.key(2, fixed)
    raw["variants"]["dsconv"]["seeds"] = "many"
    with pytest.raises(SpecError, match="variant 'dsconv': seeds must be a whole number"):
        AblationSpec.from_dict(raw)


def test_a_variant_trained_on_other_kernels_gets_its_own_control_runs() -> None:
    raw = yaml.safe_load((SPECS_DIR / "parent" / "kinds.yaml").read_text())
    raw["variants"] = {"base": {}, "learned_down": raw["variants"]["learned_down"], "one_order": None}
    raw["variants"]["one_order"] = {"arch": {"both_orders": False}}
    raw["seeds"] = 2
    spec = AblationSpec.from_dict(raw)
    fixed = {"eval": list(spec.eval)}
    old, new = "cpu AVX2, torch 2.14.1", "cpu AVX512, torch 2.14.1"
    # base and learned_down ran earlier on other kernels; one_order never ran
    have = {(spec.variant(v).key(s, fixed), old) for v in ("base", "learned_down") for s in (0, 1)}
    plan = {(v.name, s): groups for v, s, groups in plan_runs(spec, fixed, have, new)}
    assert plan[("learned_down", 0)] == [old]  # its pair is stored: nothing to train
    assert plan[("one_order", 0)] == [new]  # trained here, and so is a control run to pair it with
    assert plan[("base", 0)] == [old, new] and plan[("base", 1)] == [old, new]
    # once the pair on the new kernels is stored, the new kernels' runs are the ones used
    have |= {(spec.variant(v).key(s, fixed), new) for v in ("base", "learned_down", "one_order") for s in (0, 1)}
    plan = {(v.name, s): groups for v, s, groups in plan_runs(spec, fixed, have, new)}
    assert plan[("learned_down", 1)] == [new] and plan[("base", 1)] == [new]
