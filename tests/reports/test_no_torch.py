"""Dashboards can be rebuilt from a CSV without torch, Optuna or the search engine."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import reports


def test_every_reports_module_imports_without_torch() -> None:
    modules = [f"reports.{m.name}" for m in pkgutil.iter_modules(reports.__path__)]
    assert {"reports.schema", "reports.pareto", "reports.dashboard"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "heavy = sorted(n for n in ('torch', 'optuna', 'mlflow', 'search', 'rife_core') if n in sys.modules)\n"
        "print(','.join(heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""
