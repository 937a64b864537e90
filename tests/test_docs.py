"""The docs a user reads: generated pages current, README short, every relative link resolves."""

from __future__ import annotations

import re
from pathlib import Path

from fidelity.docs import main as fidelity_docs_main
from search.docs import main as docs_main

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_generated_reference_pages_are_current() -> None:
    assert docs_main(["--check"]) == 0, "run python -m search.docs and commit the pages"
    assert fidelity_docs_main(["--check"]) == 0, "run python -m fidelity.docs and commit the page"


def _packages() -> set[str]:
    """The tree's top-level packages (and the benchmark scripts' folder)."""
    found = {p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name != "tests"}
    return found | {"benchmarks"}


def test_the_package_tables_name_every_package_of_the_tree() -> None:
    contributing = (ROOT / "CONTRIBUTING.md").read_text()
    packages_page = (ROOT / "docs" / "reference" / "packages.md").read_text()
    rows = set(re.findall(r"^\| `(\w+)/", contributing, flags=re.M))
    assert rows == _packages(), "CONTRIBUTING's package table must match the tree"
    named = set(re.findall(r"^\| `(\w+)[/`.]", packages_page, flags=re.M))
    assert _packages() - {"benchmarks"} <= named | {"rife_core"}, "docs/reference/packages.md misses a package"


def test_readme_is_short() -> None:
    assert len((ROOT / "README.md").read_text().splitlines()) <= 200


def test_every_relative_link_in_the_docs_resolves() -> None:
    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        for target in LINK.findall(page.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            if not (page.parent / target).exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken, broken
