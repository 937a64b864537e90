"""``python -m fidelity.docs``: write the generated option page of the fidelity study's commands
(``--check``: exit 1 when it is out of date; a test runs it)."""

from __future__ import annotations

import argparse
import sys

from fidelity import reference
from fidelity.settings import build_parser
from search.docs import DOCS, options_table, write_pages

PAGE = DOCS / "guide" / "fidelity-options.md"


def fidelity_options_markdown() -> str:
    return "\n".join(
        [
            "# `fidelity.run` and `fidelity.reference` options",
            "",
            "Generated from the commands' parsers by `python -m fidelity.docs`; a test fails when it is out of date.",
            "The guide: [fidelity](fidelity.md).",
            "",
            "## `python -m fidelity.run`",
            "",
            "The `--proxy-*` options are `search.run`'s ([search options](search-options.md)); `--ref-*` set the "
            "reference training the proxy is ranked against (`--reference train`).",
            "",
            *options_table(build_parser(), None),
            "## `python -m fidelity.reference`",
            "",
            *options_table(reference.parser(), None),
        ]
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fidelity.docs", description=__doc__)
    p.add_argument("--check", action="store_true", help="only check that the page is current (exit 1 if not)")
    return write_pages({PAGE: fidelity_options_markdown}, p.parse_args(argv).check, "python -m fidelity.docs")


if __name__ == "__main__":
    sys.exit(main())
