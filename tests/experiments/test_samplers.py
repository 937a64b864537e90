"""The sampler comparison at tiny sizes: one real study per (sampler, seed), hypervolumes, paired verdict."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from experiments.samplers import main

TINY_SEARCH = "-- --proxy-steps 4 --proxy-val-every 2 --val-items 2 --proxy-crop 48 --proxy-batch 2 --size 64x64 --latency-size 64x64 --fix scales=4,1 --fix depth=1".split()


@pytest.mark.slow  # over a minute on 2 cores
def test_each_sampler_and_seed_is_a_study_compared_by_hypervolume(tmp_path: Path, capsys) -> None:
    out = tmp_path / "samplers"
    args = ["--budget", "0.5M", "--trials", "2", "--seeds", "2", "--samplers", "tpe,random", "--out", str(out)]
    assert main([*args, *TINY_SEARCH]) == 0
    assert (
        sorted(p.name for p in out.iterdir() if p.is_dir() and p.name != "report")
        == "random_seed0 random_seed1 tpe_seed0 tpe_seed1".split()
    )
    final = pd.read_csv(out / "hypervolume_final.csv")
    assert len(final) == 4 and (final["hypervolume"] >= 0).all()
    curve = pd.read_csv(out / "hypervolume_over_trials.csv")
    for _, g in curve.groupby(["sampler", "seed"]):
        assert g["hypervolume"].is_monotonic_increasing
    printed = capsys.readouterr().out
    assert "reference point: PSNR" in printed and "tpe: hypervolume" in printed and "vs random" in printed
    page = (out / "report" / "index.html").read_text()
    assert page.count('class="figure"') == 2 and "Final hypervolume per sampler" in page
