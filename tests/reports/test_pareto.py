from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from reports.dashboard import write_dashboard
from reports.pareto import front_info, pareto_mask


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
