"""fidelity.run end to end at tiny sizes: sampling, cached results, resume, outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from fidelity.run import main
from fidelity.sampling import spread_sample
from rife_core.cost.params import count_params
from space.space import V4_SPACE, SearchSpace

TINY = "--reference train --n 3 --val-items 2 --proxy-steps 4 --proxy-crop 48 --proxy-batch 2 --ref-steps 8 --ref-crop 48 --ref-batch 2 --fix scales=4,1 --fix depth=1 --fix encoder_width=0".split()
# the parent's layer kinds: starts copied, not fitted (fits cost tens of seconds per child; tests/rife_core cover them)
TINY += "--fix conv_type=standard --fix downsample=bilinear --fix upsample=deconv2".split()


def test_sample_is_deterministic_distinct_and_spread_over_the_budget() -> None:
    space = SearchSpace.load(V4_SPACE)
    a = spread_sample(space, 500_000, 6, seed=0)
    assert [c.arch_id for c in a] == [c.arch_id for c in spread_sample(space, 500_000, 6, seed=0)]
    params = [count_params(c) for c in a]
    assert len({c.arch_id for c in a}) == 6 and params == sorted(params) and max(params) < 500_000
    assert params[-1] > 4 * params[0]  # spread, not clustered


def test_fidelity_run_resumes_from_its_cache(tmp_path: Path, capsys) -> None:
    out = tmp_path / "fid"
    assert main(["--budget", "0.5M", "--out", str(out), *TINY]) == 0
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == 6  # 3 architectures x (proxy, reference)
    printed = capsys.readouterr().out
    assert "kendall_tau" in printed and "spearman_rho" in printed and "above the blend" in printed
    assert main(["--budget", "0.5M", "--out", str(out), *TINY]) == 0
    assert (out / "results.jsonl").read_text().splitlines() == lines  # nothing retrained
    table = pd.read_csv(next(out.glob("fidelity_*.csv")))
    assert len(table) == 3 and table["proxy_psnr"].notna().all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n"] == 3 and {a["name"] for a in summary["agreement"]} == {"kendall_tau", "spearman_rho"}
    assert '<script src="plotly.min.js">' in (out / "fidelity.html").read_text()


@pytest.mark.slow  # over a minute on 2 cores
def test_parallel_jobs_give_the_serial_scores(tmp_path: Path) -> None:
    assert main(["--budget", "0.5M", "--out", str(tmp_path / "serial"), *TINY]) == 0
    assert main(["--budget", "0.5M", "--out", str(tmp_path / "jobs"), "--jobs", "2", *TINY]) == 0

    def scores(out: Path) -> dict:
        rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
        return {(r["arch_id"], r["settings"]): r["psnr"] for r in rows}

    serial, jobs = scores(tmp_path / "serial"), scores(tmp_path / "jobs")
    assert serial.keys() == jobs.keys() and len(serial) == 6
    assert all(abs(serial[k] - jobs[k]) < 0.01 for k in serial)  # thread counts differ: float summation order
