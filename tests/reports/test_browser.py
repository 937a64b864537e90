"""A generated report renders in headless Chromium: every figure draws an SVG, and the console stays clean.

Needs Debian's ``chromium`` (``.ci/run`` installs it); skipped with the reason where it is missing.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from reports.build import build
from tests.reports.test_build import trials

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --allow-file-access-from-files --virtual-time-budget=15000".split()


def dump_dom(index: Path, profile: Path) -> subprocess.CompletedProcess[str]:
    """The page's DOM after its scripts ran, and Chromium's log (console messages) on stderr."""
    args = [f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--dump-dom", index.as_uri()]
    return subprocess.run([str(CHROMIUM), *FLAGS, *args], capture_output=True, text=True, timeout=120, check=False)


def figures_drawn(index: Path, dom: subprocess.CompletedProcess[str]) -> tuple[int, int]:
    """How many figures the page holds, and how many of them drew an SVG."""
    figures = index.read_text().count('class="figure"')
    return figures, sum('class="main-svg"' in chunk for chunk in dom.stdout.split('<div class="figure">')[1:])


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_report_draws_every_figure_without_console_errors(tmp_path: Path) -> None:
    import json

    src = tmp_path / "search"
    src.mkdir()
    trials().to_csv(src / "trials.csv", index=False)
    (src / "baselines.json").write_text(json.dumps({"blend (baseline)": 30.29}))
    index = build(src)
    profile = tmp_path / "profile"
    dom = dump_dom(index, profile)
    figures, drawn = figures_drawn(index, dom)
    assert figures == 7 and drawn == figures, dom.stderr[-2000:]
    console_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "rror" in line]
    assert not console_errors
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            CHROMIUM,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--screenshot={shot}",
            "--window-size=1280,3000",
            index.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert shot.is_file() and shot.stat().st_size > 20_000  # a blank page is a few kB


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_claims_page_draws_its_figures(tmp_path: Path) -> None:
    from reports.claims import END, START
    from reports.claims import main as claims_main
    from tests.reports.test_claims import write_fixture

    specs, runs, claims = write_fixture(tmp_path)
    page = tmp_path / "ablations.md"
    page.write_text(f"# claims\n\n{START}\n{END}\n")
    report = tmp_path / "report"
    args = ["--runs", str(runs), "--claims", str(claims), "--specs", str(specs), "--page", str(page)]
    assert claims_main([*args, "--report", str(report)]) == 0
    assert "**supported**" in page.read_text() and (tmp_path / "ablations.csv").is_file()
    index = report / "index.html"
    dom = dump_dom(index, tmp_path / "profile")
    figures, drawn = figures_drawn(index, dom)
    assert figures == 2 and drawn == figures, dom.stderr[-2000:]
    assert claims_main([*args, "--check"]) == 0
