"""Every command line the README, the guide and the reference pages document parses with its command's real
parser, and every documented command shows its ``--help``: a page cannot document a command or an option
that no longer exists. (The commands themselves run at tiny sizes in their packages' tests.)

Lines naming the tag ``shared-supernet-final`` document retired commands that run at that tag only.
"""

from __future__ import annotations

import argparse
import re
import runpy
import shlex
import sys
from pathlib import Path

import pytest

# runpy warns when a package's __init__ imported the module it runs (reports.build): harmless here
pytestmark = pytest.mark.filterwarnings("ignore:.*found in sys.modules:RuntimeWarning")
ROOT = Path(__file__).resolve().parent.parent
PAGES = [
    ROOT / "README.md",
    *sorted((ROOT / "docs" / "guide").glob("*.md")),
    *sorted((ROOT / "docs" / "reference").glob("*.md")),
]
RETIRED = "shared-supernet-final"
SKIP = ("python -m pytest",)  # the test suite itself
COMMAND = re.compile(r"python (?:-m [\w.]+|benchmarks/\w+\.py)")


def _commands_of(text: str) -> list[str]:
    """Command lines of code blocks (fenced or indented, continued lines joined, comments cut) and inline
    code spans; a paragraph that names the retired tag is left out."""
    found: list[str] = []
    prose: list[str] = []
    lines = text.splitlines()
    fenced = False
    for i, line in enumerate(lines):
        if line.strip().startswith("```"):
            fenced = not fenced
            continue
        if (fenced or line.startswith("    ")) and line.strip().startswith("python "):
            cmd, j = line.strip(), i
            while cmd.endswith("\\") and j + 1 < len(lines):
                j += 1
                cmd = cmd[:-1] + " " + lines[j].strip()
            if RETIRED not in cmd:
                found.append(re.split(r"\s+#\s", cmd)[0])
        elif not fenced:
            prose.append(line)
    for paragraph in "\n".join(prose).split("\n\n"):
        for row in paragraph.split("\n|"):  # a table row is a paragraph of its own
            if RETIRED not in row:
                found += [" ".join(m.split()) for m in re.findall(r"`(python [^`]+)`", row) if COMMAND.match(m)]
    return found


def documented() -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for page in PAGES:
        for cmd in _commands_of(page.read_text()):
            cmd = cmd.replace("\\|", "|").replace("[", "").replace("]", "").strip()
            if COMMAND.match(cmd) and not cmd.startswith(SKIP) and "<" not in cmd:
                out.setdefault(cmd, page.relative_to(ROOT).as_posix())
    return sorted((page, cmd) for cmd, page in out.items())


class Parsed(Exception):
    """Raised in place of running the command once its arguments parsed."""


def _run(cmd: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run ``cmd``'s entry point in this process up to its argument parsing (``Parsed``) or its exit."""
    original = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        original(self, args, namespace)  # exits 2 on an unknown option or a bad value
        raise Parsed

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    words = shlex.split(cmd)
    if words[1] == "-m":
        module, argv = words[2], words[3:]
        monkeypatch.setattr(sys, "argv", [module, *argv])
        runpy.run_module(module, run_name="__main__", alter_sys=False)
    else:
        script, argv = ROOT / words[1], words[2:]
        monkeypatch.setattr(sys, "argv", [str(script), *argv])
        monkeypatch.syspath_prepend(str(script.parent))
        runpy.run_path(str(script), run_name="__main__")


def test_the_pages_document_commands() -> None:
    commands = {cmd.split()[2] if cmd.split()[1] == "-m" else cmd.split()[1] for _, cmd in documented()}
    assert {"search.run", "fidelity.run", "fidelity.reference", "experiments.run", "rife_core.train"} <= commands


def with_arguments() -> list[tuple[str, str]]:
    """The documented lines that give arguments (a bare ``python -m X`` in prose names the command)."""
    return [(page, cmd) for page, cmd in documented() if len(shlex.split(cmd)) > (3 if " -m " in cmd else 2)]


@pytest.mark.parametrize(("page", "cmd"), with_arguments())
def test_a_documented_command_line_parses(page: str, cmd: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.raises((Parsed, SystemExit)) as e:
        _run(cmd, monkeypatch)
    if isinstance(e.value, SystemExit):
        pytest.fail(f"{page}: `{cmd}` exits with {e.value.code} before its arguments parse")


@pytest.mark.parametrize(
    "entry", sorted({c.split()[2] if c.split()[1] == "-m" else c.split()[1] for _, c in documented()})
)
def test_a_documented_command_shows_its_help(entry: str, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(ROOT)
    with pytest.raises(SystemExit) as e:
        word = "-m " + entry if not entry.endswith(".py") else entry
        _help(f"python {word} --help", monkeypatch)
    assert e.value.code == 0 and "usage:" in capsys.readouterr().out


def _help(cmd: str, monkeypatch: pytest.MonkeyPatch) -> None:
    words = shlex.split(cmd)
    if words[1] == "-m":
        monkeypatch.setattr(sys, "argv", [words[2], *words[3:]])
        runpy.run_module(words[2], run_name="__main__", alter_sys=False)
    else:
        script = ROOT / words[1]
        monkeypatch.setattr(sys, "argv", [str(script), *words[2:]])
        monkeypatch.syspath_prepend(str(script.parent))
        runpy.run_path(str(script), run_name="__main__")
