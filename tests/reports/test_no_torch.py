"""Dashboards can be rebuilt from a CSV without torch, Optuna or the search engine."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import reports
import results


def test_every_reports_and_results_module_imports_without_torch() -> None:
    modules = [f"reports.{m.name}" for m in pkgutil.iter_modules(reports.__path__)]
    modules += [f"results.{m.name}" for m in pkgutil.iter_modules(results.__path__)]
    assert {"results.schema", "results.record", "reports.pareto", "reports.dashboard"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "heavy = sorted(n for n in ('torch', 'optuna', 'mlflow', 'search', 'rife_core', 'experiments') "
        "if n in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
