from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reports.build import study_report
from reports.dashboard import write_dashboard
from reports.pareto import front_info, pareto_mask
from results.schema import label


def test_pareto_mask_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"psnr": rng.normal(30, 2, 60).round(1), "macs": rng.integers(1, 50, 60).astype(float)})
    mask = pareto_mask(df, ["psnr"], ["macs"])
    for i, r in df.iterrows():
        dominated = (
            (df["psnr"] >= r["psnr"])
            & (df["macs"] <= r["macs"])
            & ((df["psnr"] > r["psnr"]) | (df["macs"] < r["macs"]))
        ).any()
        assert mask[i] == (not dominated)


def test_front_is_sorted_by_cost_and_ignores_unfinished(tmp_path: Path) -> None:
    df = pd.DataFrame(
        {
            "trial": [0, 1, 2, 3],
            "state": ["COMPLETE", "COMPLETE", "PRUNED", "COMPLETE"],
            "arch_id": list("abcd"),
            "params": [10, 20, 30, 40],
            "macs": [5.0, 1.0, 0.5, 3.0],
            "psnr": [30.0, 29.0, 40.0, 28.0],
            "latency_ms": [1.0] * 4,
            "ssim": [0.9] * 4,
            "pareto": [True, True, False, False],
        }
    )
    info = front_info(df)
    assert list(info.front["trial"]) == [1, 0]  # trial 2 was pruned, trial 3 is dominated by trial 1
    page = write_dashboard(df, tmp_path / "d.html", baselines={"blend": 27.0}).read_text()
    assert '<script src="plotly.min.js">' in page and "Pareto front" in page and "<table" in page
    assert (tmp_path / "plotly.min.js").stat().st_size > 1_000_000  # the library itself, for offline use


def test_every_report_chart_draws_the_front_of_its_own_axes() -> None:
    """A (PSNR, MACs) front drawn on SSIM, LPIPS or latency axes zigzags: each chart's line is checked
    against a brute-force front of the two columns it plots."""
    rng = np.random.default_rng(1)
    n = 24
    df = pd.DataFrame(
        {
            "trial": range(n),
            "state": "COMPLETE",
            "arch_id": [f"a{i}" for i in range(n)],
            "params": rng.integers(50_000, 500_000, n),
            "macs": rng.uniform(1e8, 1e9, n),
            "latency_ms": rng.uniform(20, 200, n),
            "psnr": rng.normal(31, 1, n),
            "ssim": rng.uniform(0.85, 0.95, n),
            "lpips": rng.uniform(0.05, 0.2, n),
        }
    )
    df["pareto"] = pareto_mask(df, ["psnr"], ["macs"])
    figs, _ = study_report(df, {"blend": 29.0})
    drawn = 0
    for fig in figs:
        line = next((t for t in fig.data if (t.name or "").startswith("Pareto front of")), None)
        if line is None:
            continue
        column = {label(c): c for c in df.columns}
        x, y = column[fig.layout.xaxis.title.text], column[fig.layout.yaxis.title.text]
        hi = [c for c in (x, y) if c in ("psnr", "ssim")]
        expected = df[pareto_mask(df, hi, [c for c in (x, y) if c not in hi])]
        assert sorted(line.x) == sorted(expected[x].astype(float)), (x, y)
        assert list(line.x) == sorted(line.x)  # drawn left to right: a line, not a zigzag
        drawn += 1
    assert drawn == 6  # (MACs, latency) x (PSNR, SSIM, LPIPS)
