"""Parameter budgets: parsing the CLI's ``--budget`` (a config is within it when ``count_params`` is below)."""

from __future__ import annotations

import math
import re

_SUFFIX = {"": 1, "k": 1_000, "m": 1_000_000, "g": 1_000_000_000}
_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmg]?)\s*$", re.IGNORECASE)
EXAMPLES = "0.5M, 500k, 500000 or 5e5"


class BudgetError(ValueError):
    """A budget string that is not a positive count."""


def parse_count(text: str) -> int:
    """``"0.5M"``, ``"500k"``, ``"500000"``, ``"5e5"`` -> 500000 (also used for ``--max-macs 2G``)."""
    match = _PATTERN.match(str(text))
    if not match:
        raise BudgetError(f"cannot read {text!r} as a count; write it like {EXAMPLES}")
    value = float(match.group(1)) * _SUFFIX[match.group(2).lower()]
    if not math.isfinite(value) or value < 1:
        raise BudgetError(f"{text!r} is not a positive count; write it like {EXAMPLES}")
    return round(value)
