"""The claims table and figure: built from stored rows, without torch; intervals are scipy's t intervals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy import stats

from reports.claims import (
    CLAIMS,
    END,
    PAGE,
    SPECS,
    START,
    claims_figure,
    claims_markdown,
    claims_table,
    read_claims,
    spec_meta,
)
from results.paired import PairedDifference

CONTROL = [31.0, 32.0, 31.5]
VARIANTS = {  # psnr@lm per seed: a clear gain, a small loss, a large loss
    "wide": [31.6, 32.5, 32.2],
    "thin": [30.9, 31.85, 31.45],
    "bad": [29.0, 30.2, 29.4],
}


def write_fixture(tmp: Path) -> tuple[Path, Path, Path]:
    specs, runs = tmp / "specs", tmp / "runs"
    specs.mkdir()
    spec = {"name": "p_small", "control": "base", "eval": [{"name": "lm", "data": "x"}, "default"]}
    (specs / "small.yaml").write_text(yaml.safe_dump(spec))
    claims = {
        "margin_db": 0.3,
        "claims": [
            {"claim": "wider pays", "spec": "small", "variant": "wide", "expect": "gain"},
            {"claim": "thin costs little", "spec": "small", "variant": "thin", "expect": "no_loss"},
            {"claim": "bad costs little", "spec": "small", "variant": "bad", "expect": "no_loss"},
            {"claim": "wide costs", "spec": "small", "variant": "wide", "expect": "loss"},
            {"claim": "not yet", "spec": "small", "variant": "later", "expect": "gain"},
        ],
    }
    (tmp / "claims.yaml").write_text(yaml.safe_dump(claims))
    rows = []
    for name, psnr in {"base": CONTROL, **VARIANTS}.items():
        for seed, p in enumerate(psnr):
            params = 100_000 if name == "base" else 50_000
            rows.append(
                {
                    "variant": name,
                    "seed": seed,
                    "status": "completed",
                    "psnr@lm": p,
                    "lpips@lm": 0.1,
                    "psnr@default": p + 2,
                    "params": params,
                    "macs": 2 * params,
                }
            )
    (runs / "p_small").mkdir(parents=True)
    (runs / "p_small" / "runs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    ratio = {"base": 1.0, "wide": 1.4, "thin": 0.6, "bad": 0.5}
    (runs / "p_small" / "latency.json").write_text(json.dumps({"ratio": ratio}))
    return specs, runs, tmp / "claims.yaml"


def test_the_table_pairs_by_seed_with_scipys_interval_and_says_each_verdict(tmp_path: Path) -> None:
    specs, runs, claims = write_fixture(tmp_path)
    t = claims_table(runs, claims, specs).set_index("claim")
    d = np.array(VARIANTS["wide"]) - np.array(CONTROL)
    low, high = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
    row = t.loc["wider pays"]
    assert row["d_psnr_lm"] == pytest.approx(d.mean()) and row["seeds"] == 3
    assert (row["lo_psnr_lm"], row["hi_psnr_lm"]) == pytest.approx((low, high))
    assert row["d_psnr_default"] == pytest.approx(d.mean())  # the second eval set, paired the same way
    assert row["params_change"] == pytest.approx(-0.5) and row["latency_ratio"] == pytest.approx(1.4)
    assert row["verdict"] == "supported"
    assert t.loc["wide costs", "verdict"] == "refuted"
    assert t.loc["thin costs little", "verdict"] == "supported"  # -0.10 dB, interval above -0.3
    assert t.loc["bad costs little", "verdict"] == "refuted"  # about -2 dB
    assert t.loc["not yet", "verdict"] == "not run yet"
    md = claims_markdown(t.reset_index(), ["lm", "default"])
    assert md.count("\n") == 1 + len(t) and f"{d.mean():+.2f} [{low:+.2f}, {high:+.2f}]" in md
    fig = claims_figure(t.reset_index(), "lm")
    assert len(fig.data[0].x) == 4 and fig.data[0].x[0] == pytest.approx(40.0)


def test_verdicts_of_undecided_intervals_name_the_seeds() -> None:
    from reports.claims import verdict

    straddle = PairedDifference("psnr", -0.2, -0.5, 0.1, 3, True)
    assert verdict("gain", straddle, 0.3) == "no difference detected at 3 seeds"
    assert verdict("no_loss", straddle, 0.3) == "undecided at 3 seeds"
    assert verdict("no_gain", straddle, 0.3) == "supported"
    assert verdict("gain", PairedDifference("psnr", 0.1, float("nan"), float("nan"), 1, True), 0.3).startswith(
        "too few"
    )


def test_the_table_is_built_without_torch(tmp_path: Path) -> None:
    specs, runs, claims = write_fixture(tmp_path)
    code = (
        "import sys\nfrom pathlib import Path\nfrom reports.claims import claims_table, claims_figure\n"
        f"t = claims_table(Path({str(runs)!r}), Path({str(claims)!r}), Path({str(specs)!r}))\n"
        "claims_figure(t, 'lm')\n"
        "print(len(t), ','.join(n for n in ('torch', 'rife_core', 'experiments') if n in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["5"]


def test_every_shipped_claim_names_a_variant_of_a_parent_spec_and_the_page_is_current() -> None:
    from experiments.spec import AblationSpec

    claims, margin = read_claims(CLAIMS)
    assert margin > 0 and len(claims) >= 15
    for c in claims:
        spec = AblationSpec.read(SPECS / f"{c.spec}.yaml")
        assert c.variant in {v.name for v in spec.variants} and c.variant != spec.control, c
        assert spec_meta(c.spec)["control"] == spec.control
    page = PAGE.read_text()
    assert START in page and END in page
    from reports.claims import main

    assert main(["--check"]) == 0
