"""``python -m search.docs``: write the generated reference pages (every option of ``search.run``; the
results-table columns; the ``ArchConfig`` fields). ``--check`` exits 1 when a page is out of date (a test
runs it). ``python -m fidelity.docs`` writes the fidelity study's option page the same way.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import re
import sys
import typing
from collections.abc import Callable
from pathlib import Path

from results.schema import columns_markdown
from rife_core.model.config import ArchConfig, BlockConfig
from search import run
from search.spec import fingerprint_keys

DOCS = Path(__file__).resolve().parent.parent / "docs"
# Options whose destination differs from the fingerprint setting they set.
SETTING_OF = {"fix": "space"}


def options_table(parser: argparse.ArgumentParser, fingerprinted: set[str] | None) -> list[str]:
    """Markdown rows per option group: flags, default, help, and (for a study) whether it is fingerprinted."""
    head = "| option | default | what it changes |" + (" in the fingerprint |" if fingerprinted is not None else "")
    rule = "|---|---|---|" + ("---|" if fingerprinted is not None else "")
    lines: list[str] = []
    for group in parser._action_groups:  # argparse offers no public iterator over its groups
        actions = [a for a in group._group_actions if not isinstance(a, argparse._HelpAction)]
        if not actions:
            continue
        title = group.title if group.title not in ("options", "optional arguments", "positional arguments") else ""
        lines += ([f"**{title}**", ""] if title else []) + [head, rule]
        lines += [_row(a, fingerprinted) for a in actions] + [""]
    return lines


def _row(a: argparse.Action, fingerprinted: set[str] | None) -> str:
    flags = ", ".join(f"`{f}`" for f in a.option_strings) or f"`{a.dest}`"
    if a.metavar and a.option_strings:
        flags += f" `{a.metavar}`"
    unset = a.default is None or isinstance(a.default, bool) or a.default == []
    default = "required" if a.required else ("" if unset else f"`{a.default}`")
    if isinstance(a.default, dict):
        default = "`" + ",".join(f"{k}={v:g}" for k, v in a.default.items()) + "`"
    text = (a.help or "").replace("|", "\\|").replace("%%", "%")
    if a.choices and "choose" not in text:
        text += (" " if text else "") + "(" + ", ".join(map(str, a.choices)) + ")"
    row = f"| {flags} | {default} | {text} |"
    if fingerprinted is not None:
        setting = SETTING_OF.get(a.dest, a.dest)
        row += " yes |" if setting in fingerprinted else " |"
    return row


def search_options_markdown() -> str:
    return "\n".join(
        [
            "# `search.run` options",
            "",
            "Generated from the commands' parsers by `python -m search.docs`; a test fails when it is out of date.",
            "A setting *in the fingerprint* changes a trial's score: re-running into a study with another value",
            "stops with the differences named. The others (budget, limits, sampler, storage, workers) change which",
            "architectures are feasible or proposed, or where results go, never a score.",
            "",
            "## `python -m search.run`",
            "",
            *options_table(run.build_parser(), fingerprint_keys()),
            "`--latency-backend` enters the fingerprint when it is not `torch` (latencies of two backends do not "
            "compare), and `--latency-size` when it is not `--size` and latency is an objective or a limit (a study "
            "recorded before it timed at `--size`: pass `--latency-size` equal to it to resume one that used "
            "latency). The fidelity study's options: [fidelity options](fidelity-options.md).",
            "",
        ]
    )


def field_docs(cls: type) -> list[tuple[str, str, str, str]]:
    """(name, type, default, comment) of each field of a dataclass, comments read from its source: the
    comment block above a field and the one after it on its line."""
    rows, above = [], []
    defaults = {f.name: f.default for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for line in inspect.getsource(cls).splitlines()[1:]:
        text = line.strip()
        if text.startswith("#"):
            above.append(text.lstrip("# "))
            continue
        m = re.match(r"(\w+): ([^=#]+?)(?: = [^#]+)?(?:  # (.*))?$", text)
        if m and m.group(1) in defaults:
            default = defaults[m.group(1)]
            shown = "" if default is dataclasses.MISSING else f"`{default!r}`"
            hint = hints[m.group(1)]
            kind = " / ".join(map(repr, typing.get_args(hint))) if typing.get_origin(hint) is typing.Literal else None
            rows.append((m.group(1), kind or m.group(2).strip(), shown, " ".join([*above, m.group(3) or ""]).strip()))
        above = []
        if text.startswith("def "):
            break
    return rows


def arch_config_markdown() -> str:
    lines = [
        "# `ArchConfig` fields",
        "",
        "Every architecture of the family, and the Practical-RIFE reference models, is an `ArchConfig`",
        "(`rife_core/model/config.py`), a frozen dataclass saved as JSON (`to_json`, `from_json`) whose",
        "`arch_id` is a content hash. Generated from the dataclass and its comments by `python -m search.docs`;",
        "the [model family](model-family.md) page says what the choices do together.",
        "",
    ]
    for cls in (BlockConfig, ArchConfig):
        lines += [f"## `{cls.__name__}`", "", "| field | type | default | meaning |", "|---|---|---|---|"]
        lines += [f"| `{n}` | `{t}` | {d} | {c.replace('|', '/')} |" for n, t, d, c in field_docs(cls)]
        lines.append("")
    return "\n".join(lines)


PAGES = {
    DOCS / "guide" / "search-options.md": search_options_markdown,
    DOCS / "reference" / "columns.md": columns_markdown,
    DOCS / "reference" / "arch-config.md": arch_config_markdown,
}


def write_pages(pages: dict[Path, Callable[[], str]], check: bool, command: str) -> int:
    """Write each page whose text changed (``check``: only say which are stale, exit code 1)."""
    stale = []
    for path, make in pages.items():
        text = make()
        if path.is_file() and path.read_text() == text:
            continue
        if check:
            stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            print(f"wrote {path}")
    for path in stale:
        print(f"{path} is out of date: run {command}", file=sys.stderr)
    return 1 if stale else 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m search.docs", description=__doc__)
    p.add_argument("--check", action="store_true", help="only check that the pages are current (exit 1 if not)")
    return write_pages(PAGES, p.parse_args(argv).check, "python -m search.docs")


if __name__ == "__main__":
    sys.exit(main())
