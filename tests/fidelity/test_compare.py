"""The paired comparison of two proxies' rankings against the same reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fidelity.compare import main
from fidelity.rank_stats import paired_tau_difference


def table(path: Path, proxy: np.ndarray, reference: np.ndarray) -> Path:
    ids = [f"arch{i}" for i in range(len(proxy))]
    pd.DataFrame({"arch_id": ids, "proxy_psnr": proxy, "reference_psnr": reference}).to_csv(path, index=False)
    return path


def test_the_difference_is_scipys_taus_difference_and_a_proxy_against_itself_is_zero() -> None:
    rng = np.random.default_rng(5)
    ref = rng.normal(size=10)
    good, poor = ref + rng.normal(scale=0.3, size=10), rng.normal(size=10)
    got = paired_tau_difference(poor, good, ref)
    want = stats.kendalltau(good, ref).statistic - stats.kendalltau(poor, ref).statistic
    assert got.value == pytest.approx(want) and got.low <= got.value <= got.high and got.n == 10
    same = paired_tau_difference(good, good, ref)
    assert same.value == same.low == same.high == 0.0  # paired: every resample cancels exactly
    with pytest.raises(ValueError, match="equally long"):
        paired_tau_difference(good[:5], good, ref)


def test_the_cli_compares_tables_over_their_shared_architectures(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(1)
    ref = rng.normal(size=8)
    a = table(tmp_path / "a.csv", rng.normal(size=8), ref)
    b = table(tmp_path / "b.csv", ref + 0.01 * rng.normal(size=8), ref)
    assert main([str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "second: kendall_tau" in out and "second - first: kendall_tau_difference" in out


@pytest.mark.parametrize(
    ("second", "message"),
    [
        ("missing.csv", "no such file"),
        ("other_ref.csv", "reference scores differ"),
        ("bad.csv", "not a fidelity table"),
    ],
)
def test_unusable_tables_are_one_clear_error(tmp_path: Path, capsys, second: str, message: str) -> None:
    ref = np.arange(6.0)
    a = table(tmp_path / "a.csv", ref[::-1], ref)
    table(tmp_path / "other_ref.csv", ref, ref + 1)
    pd.DataFrame({"arch_id": ["x"], "psnr": [1.0]}).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(SystemExit) as e:
        main([str(a), str(tmp_path / second)])
    assert e.value.code == 2 and message in capsys.readouterr().err
