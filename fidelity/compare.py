"""Is one proxy's ranking better than another's? The paired difference of their Kendall tau against the
same reference, from two tables ``fidelity.run`` wrote (``fidelity_*.csv``) over the same architectures.

    python -m fidelity.compare runs/fid600/fidelity_A_R_test.csv runs/fid600v/fidelity_B_R_test.csv

Prints each table's tau and the second's less the first's, with a 95% bootstrap interval that resamples
architectures once for both (so the two rankings' shared luck cancels). Exit code 2 on unusable input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from fidelity.rank_stats import paired_tau_difference, rank_agreement

COLUMNS = ("arch_id", "proxy_psnr", "reference_psnr")


def read(path: Path) -> pd.DataFrame:
    """A fidelity table's architectures with both scores, indexed by ``arch_id``."""
    if not path.is_file():
        raise ValueError(f"{path}: no such file; fidelity.run writes fidelity_*.csv into its --out")
    df = pd.read_csv(path)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: not a fidelity table (no {', '.join(missing)})")
    return df.dropna(subset=["proxy_psnr", "reference_psnr"]).set_index("arch_id")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m fidelity.compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("first", type=Path, help="a fidelity table")
    p.add_argument("second", type=Path, help="another, against the same reference scores")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    args = p.parse_args(argv)
    try:
        a, b = read(args.first), read(args.second)
        shared = a.index.intersection(b.index)
        if len(shared) < 3:
            raise ValueError(f"the tables share {len(shared)} architectures; at least 3 are needed")
        a, b = a.loc[shared], b.loc[shared]
        if not np.allclose(a["reference_psnr"], b["reference_psnr"]):
            raise ValueError("the tables' reference scores differ: compare proxies against the same reference split")
    except ValueError as e:
        p.error(str(e))
    for name, t in (("first", a), ("second", b)):
        (tau, _) = rank_agreement(t["proxy_psnr"], t["reference_psnr"], seed=args.seed)
        print(f"{name}: {tau}")
    print(f"second - first: {paired_tau_difference(a['proxy_psnr'], b['proxy_psnr'], a['reference_psnr'], args.seed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
