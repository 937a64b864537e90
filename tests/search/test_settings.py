"""The settings tree: options generated from the fields, read back equal, fingerprints stable across formats."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict, replace
from pathlib import Path

from search.proxy import ProxySettings
from search.run import build_parser, spec_from_args
from search.settings import add_options, from_options
from search.spec import SearchSpec, fingerprint, fingerprint_keys

# The flat names studies were fingerprinted under before the tree: changing one would refuse to resume them.
LEGACY_FINGERPRINT_KEYS = {
    "data",
    "val_data",
    "proxy_steps",
    "proxy_crop",
    "proxy_batch",
    "proxy_lr",
    "proxy_synthetic_ratio",
    "proxy_loss",
    "proxy_val_every",
    "val_items",
    "val_crop",
    "lpips",
    "size",
    "seed",
    "strategy",  # the retired one-shot strategy's: held at "proxy" so that these studies resume
    "finetune_steps",  # likewise, at 0
    "space",
}


def test_options_parse_back_to_the_fields_defaults() -> None:
    p = argparse.ArgumentParser()
    add_options(p, ProxySettings, "proxy")
    args = p.parse_args([])
    assert from_options(ProxySettings, args, "proxy") == ProxySettings()
    args = p.parse_args("--proxy-steps 7 --no-lpips --size 32x48 --data a --data b".split())
    proxy = from_options(ProxySettings, args, "proxy")
    assert (proxy.steps, proxy.lpips, proxy.size, proxy.data) == (7, False, (32, 48), ("a", "b"))


def test_the_fingerprint_keeps_its_flat_keys() -> None:
    assert fingerprint_keys() == LEGACY_FINGERPRINT_KEYS | {"proxy_importance", "proxy_fit"}
    proxy_only = set(SearchSpec(budget=1).fingerprint_settings({}))  # a space without a parent: as before
    assert proxy_only == LEGACY_FINGERPRINT_KEYS
    settings = SearchSpec(budget=1).fingerprint_settings({})
    assert settings["strategy"] == "proxy" and settings["finetune_steps"] == 0
    # with a parent, how its children are sliced changes their scores; how they are fitted, where one can be
    with_parent = set(SearchSpec(budget=1).fingerprint_settings({"parent": "rife_v3_hd"}))
    assert with_parent == proxy_only | {"proxy_importance"}
    kinds = {"parent": "rife_v3_hd", "conv_type": ["standard"], "upsample": ["deconv2", "pixelshuffle"]}
    assert set(SearchSpec(budget=1).fingerprint_settings(kinds)) == with_parent | {"proxy_fit"}
    rewritten_only = {"parent": "rife_v3_hd", "downsample": ["bilinear", "conv"], "upsample": ["subpixel2"]}
    assert set(SearchSpec(budget=1).fingerprint_settings(rewritten_only)) == with_parent


def test_a_flat_search_spec_file_reads_as_the_same_settings(tmp_path: Path) -> None:
    p = build_parser()
    spec, _ = spec_from_args(p, p.parse_args(f"--budget 0.5M --out {tmp_path} --proxy-steps 60 --no-lpips".split()))
    nested = SearchSpec.read(spec.write())
    assert nested == spec
    flat = {k: v for k, v in asdict(spec).items() if k not in ("proxy", "retrain", "tracking")}
    flat.update(strategy="proxy", finetune_steps=0)  # the retired one-shot strategy's, as old files hold them
    flat.update(
        {
            ("proxy_" + k if k in ("steps", "crop", "batch", "lr", "synthetic_ratio", "loss", "val_every") else k): v
            for k, v in asdict(spec.proxy).items()
            if k not in ("importance", "fit")  # newer than the flat files
        }
    )
    flat.update(supernet_steps=4000, supernet_crop=128, supernet_rule="sandwich", supernet_lr=1e-3)
    flat.update(
        retrain_top=0,
        retrain_steps=2000,
        retrain_init=None,
        storage=None,
        study_name="rife-nas",
        mlflow_uri=None,
        out=str(tmp_path),
    )
    (tmp_path / "old.json").write_text(json.dumps(flat, default=list))
    old = SearchSpec.read(tmp_path / "old.json")
    assert fingerprint(old.fingerprint_settings({})) == fingerprint(spec.fingerprint_settings({}))
    assert old.proxy == spec.proxy and old == spec


def test_the_deployment_recipe_adds_the_parents_frame_only_where_there_is_a_parent() -> None:
    spec = SearchSpec(budget=1)
    with_parent = spec.retrain_config("rife_v3_hd")
    assert with_parent.loss == {"l1": 1.0, "parent": 0.5} and with_parent.parent == "rife_v3_hd"
    assert spec.retrain_config(None).loss == {"l1": 1.0} and spec.retrain_config(None).parent is None
    own = replace(spec, retrain=replace(spec.retrain, loss={"l1": 1.0})).retrain_config("rife_v3_hd")
    assert own.loss == {"l1": 1.0} and own.parent is None  # --retrain-loss l1=1: the user's, as given
    assert with_parent.total_steps == spec.retrain.steps
