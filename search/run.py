"""``python -m search.run --budget 0.5M``: the architecture search's command line.

The trained search (Optuna trials on proxy training, MLflow tracking) needs the data and training
layers, which are not in this release yet. Today the command parses the budget exactly as the search
will and prints the cost (parameters, MACs with the warp counted) of every named architecture that fits
it, so the budget arithmetic can be checked before any training compute is spent.
"""

from __future__ import annotations

import argparse
import logging
import sys

from rife_core.cost import parse_size
from rife_core.flops import UNIT, count_macs
from rife_core.params import count_params
from rife_core.presets import PRESETS, create_model
from space.budget import BudgetError, parse_count

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m search.run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", default="0.5M", help="parameter budget, e.g. 0.5M, 500k, 500000, 5e5")
    parser.add_argument("--size", type=parse_size, default=(256, 256), help="HEIGHTxWIDTH for MACs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        budget = parse_count(args.budget)
    except BudgetError as e:
        parser.error(f"--budget: {e}")

    fits = [(n, count_params(c)) for n, c in PRESETS.items() if count_params(c) < budget]
    log.info("budget: %s parameters; %d of %d named architectures fit", f"{budget:,}", len(fits), len(PRESETS))
    h, w = args.size
    print(f"{'architecture':<20} {'params':>10} {f'G{UNIT} @ {h}x{w}':>16} {'warp share':>10}")
    for name, params in sorted(fits, key=lambda x: x[1]):
        macs = count_macs(create_model(name).eval(), args.size)
        print(f"{name:<20} {params:>10,} {macs.total / 1e9:>16.3f} {100 * macs.warp_share:>9.2f}%")
    log.warning("the trained search is not available in this release: it needs the data and training layers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
