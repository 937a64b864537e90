"""The ablation runner at tiny sizes: shipped specs parse, runs resume, MLflow holds them, summaries pair."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.run import main
from experiments.spec import SPECS_DIR, AblationSpec, SpecError
from rife_core.cost.params import count_params

TINY_ARCH = {
    "blocks": [{"scale": 4, "width": 8, "depth": 1}, {"scale": 1, "width": 8, "depth": 1}],
    "encoder_width": 0,
    "passed_feat_ch": 0,
}


def tiny_spec(tmp_path: Path) -> Path:
    spec = {
        "name": "tiny_upsample",
        "idea": "test",
        "base": TINY_ARCH,
        "control": "deconv",
        "variants": {"deconv": {"arch": {"upsample": "deconv"}}, "bilinear": {"arch": {"upsample": "bilinear"}}},
        "train": {
            "steps": 3,
            "crop": 48,
            "batch": 2,
            "lr": 1e-3,
            "synthetic_ratio": 0.0,
            "collapse_margin_db": None,
        },  # 3 steps from random weights sit far below the blend
        "eval": ["default"],
        "eval_items": 4,
        "size": [64, 64],
        "seeds": 2,
    }
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize("path", sorted(SPECS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_spec_builds_its_variants(path: Path) -> None:
    spec = AblationSpec.read(path)
    assert spec.control in {v.name for v in spec.variants} and len(spec.variants) >= 2
    archs = {v.name: v.arch for v in spec.variants}
    trains = {v.name: (v.train, v.data) for v in spec.variants}
    # each variant differs from the control in what the spec varies, and only there
    control = spec.variant(spec.control)
    for v in spec.variants:
        if v.name != spec.control:
            assert (v.arch, v.train, v.data) != (control.arch, control.train, control.data), v.name
    assert all(count_params(a) > 0 for a in archs.values()) and trains
    t = control.train  # the control trains the spec's budget: its stages' steps, or train.steps
    budget = sum(st["steps"] for st in t["stages"]) if t.get("stages") else t["steps"]
    assert control.train_config(0, (spec.eval[0],)).total_steps == budget >= 1000


def test_bad_specs_say_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"shipped specs: .*upsample"):
        AblationSpec.read(tmp_path / "nope.yaml")
    path = tiny_spec(tmp_path)
    with pytest.raises(SpecError, match="control 'x' is not one of"):
        AblationSpec.read(path, ["control=x"])
    with pytest.raises(SpecError, match="unknown train keys"):
        AblationSpec.read(path, ["train.stepz=4"])
    with pytest.raises(SystemExit) as e:
        main([str(tmp_path / "nope.yaml")])
    assert e.value.code == 2


def test_runs_resume_log_to_mlflow_and_pair_by_seed(tmp_path: Path, capsys) -> None:
    from mlflow.tracking import MlflowClient

    spec, out = tiny_spec(tmp_path), tmp_path / "out"
    assert main([str(spec), "--out", str(out), "--no-lpips"]) == 0
    lines = (out / "tiny_upsample" / "runs.jsonl").read_text().splitlines()
    rows = [json.loads(line) for line in lines]
    assert sorted((r["variant"], r["seed"]) for r in rows) == [
        ("bilinear", 0),
        ("bilinear", 1),
        ("deconv", 0),
        ("deconv", 1),
    ]
    assert all(r["status"] == "completed" and 0 < r["psnr@default"] < 60 for r in rows)
    printed = capsys.readouterr().out
    assert "bilinear" in printed and "deconv (control)" in printed
    assert main([str(spec), "--out", str(out), "--no-lpips"]) == 0
    assert (out / "tiny_upsample" / "runs.jsonl").read_text().splitlines() == lines  # nothing trained again
    diffs = (out / "tiny_upsample" / "differences.csv").read_text()
    assert "psnr@default" in diffs and "ssim@default" in diffs
    client = MlflowClient(tracking_uri=f"sqlite:///{(out / 'mlflow.db').resolve()}")
    exp = client.get_experiment_by_name("rife-nas-ablations")
    assert exp.tags["mlflow.experimentKind"] == "custom_model_development"  # the UI opens on the runs table
    runs = client.search_runs([exp.experiment_id])
    parents = [r for r in runs if r.data.tags.get("kind") == "ablation"]
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parents[0].info.run_id]
    assert len(parents) == 1 and len(children) == 4
    assert all(r.info.status == "FINISHED" for r in runs)
    assert {r.data.tags["variant"] for r in children} == {"deconv", "bilinear"}
    assert {"summary.md", "report"} <= {a.path for a in client.list_artifacts(parents[0].info.run_id)}
    assert (out / "tiny_upsample" / "report" / "index.html").is_file()
    from reports.build import main as build_main

    by_name = tmp_path / "by_name"
    uri = f"sqlite:///{(out / 'mlflow.db').resolve()}"
    assert build_main(["--mlflow-uri", uri, "--ablation", "tiny_upsample", "--out", str(by_name)]) == 0
    assert (by_name / "tiny_upsample" / "runs.jsonl").read_text().splitlines() == lines
    assert sorted(pd.read_csv(by_name / "runs.csv")["variant"]) == ["bilinear", "bilinear", "deconv", "deconv"]


def test_a_run_another_ablation_finished_is_reused_not_trained(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = tiny_spec(tmp_path)
    assert main([str(first), "--out", str(out), "--no-lpips", "--seeds", "1"]) == 0
    raw = yaml.safe_load(first.read_text())
    raw["name"] = "tiny_other"
    raw["variants"] = {"deconv": raw["variants"]["deconv"], "pixelshuffle": {"arch": {"upsample": "pixelshuffle"}}}
    second = tmp_path / "other.yaml"
    second.write_text(yaml.safe_dump(raw))
    assert main([str(second), "--out", str(out), "--no-lpips", "--seeds", "1"]) == 0
    a = {r["variant"]: r for r in map(json.loads, (out / "tiny_upsample" / "runs.jsonl").read_text().splitlines())}
    b = {r["variant"]: r for r in map(json.loads, (out / "tiny_other" / "runs.jsonl").read_text().splitlines())}
    assert b["deconv"]["reused_from"] == "tiny_upsample" and b["deconv"]["ablation"] == "tiny_other"
    assert b["deconv"]["psnr@default"] == a["deconv"]["psnr@default"] and b["deconv"]["key"] == a["deconv"]["key"]
    assert "reused_from" not in b["pixelshuffle"]  # a new variant is trained


def test_costs_prints_every_variant_without_training(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main([str(tiny_spec(tmp_path)), "--out", str(out), "--costs", "--threads", "1"]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()[1:] if line.strip()]
    assert sorted(r[0] for r in lines) == ["bilinear", "deconv"]
    assert all(float(r[-1]) > 0 and float(r[-2]) > 0 for r in lines)  # torch and onnxruntime milliseconds
    assert not out.exists()  # nothing trained or recorded


def test_variants_that_share_their_first_stage_train_it_once(tmp_path: Path) -> None:
    raw = yaml.safe_load(tiny_spec(tmp_path).read_text())
    first = {"steps": 3, "crop": 48, "batch": 2, "lr": 1e-3}
    raw.update(name="tiny_finetune", control="l1")
    raw["train"]["stages"] = [first, {"steps": 2, "crop": 48, "batch": 2, "lr": 2e-4}]
    raw["variants"] = {
        "l1": {},
        "charbonnier": {"train": {"stages": [first, {**first, "steps": 2, "loss": {"charbonnier": 1.0}}]}},
    }
    rows = {}
    for order in (["l1", "charbonnier"], ["charbonnier", "l1"]):
        raw["variants"] = {k: raw["variants"][k] for k in order}
        path, out = tmp_path / f"{order[0]}.yaml", tmp_path / order[0]
        path.write_text(yaml.safe_dump(raw, sort_keys=False))  # the runner trains variants in file order
        assert main([str(path), "--out", str(out), "--no-lpips", "--seeds", "1"]) == 0
        lines = (out / "tiny_finetune" / "runs.jsonl").read_text().splitlines()
        rows[order[0]] = {r["variant"]: r for r in map(json.loads, lines)}
    # the second variant of each order started from the first one's first stage; the same one trained
    # straight in the other order scores exactly the same
    assert rows["l1"]["charbonnier"]["shared_stages"] == 1 and "shared_stages" not in rows["l1"]["l1"]
    assert rows["charbonnier"]["l1"]["shared_stages"] == 1
    for v in ("l1", "charbonnier"):
        assert rows["l1"][v]["psnr@default"] == rows["charbonnier"][v]["psnr@default"]
        assert rows["l1"][v]["history"] == rows["charbonnier"][v]["history"]
