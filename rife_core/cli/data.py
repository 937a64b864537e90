"""``python -m rife_core.data --info SPEC [SPEC ...]``: splits, triplet counts and frame sizes.

Specs: default (the embedded clips), synthetic[:COUNT], or NAME:PATH with NAME one of vimeo_triplet,
vimeo_septuplet, frames/adobe240, atd12k, middlebury, ucf101, video.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter

from rife_core.cli.args import configure_output
from rife_core.data.frames import DataError
from rife_core.data.spec import load, parse_spec
from rife_core.data.triplets import SPLITS

SIZE_PROBES = 64  # items read per split to report frame sizes (reading all of Vimeo would take minutes)


def frame_sizes(ds) -> tuple[Counter, bool]:
    """Frame sizes (W x H) per triplet, exact for decoded videos, else over a spread of sampled items.

    Returns the counts and whether they were sampled.
    """
    parts = getattr(ds, "parts", None)
    if parts and all(hasattr(p, "frames") for p in parts):
        return Counter({f"{p.frames.shape[2]}x{p.frames.shape[1]}": len(p) for p in parts}), False
    n = len(ds)
    k = min(n, SIZE_PROBES)
    idx = sorted({round(i * (n - 1) / max(1, k - 1)) for i in range(k)})
    return Counter(f"{ds[i].img0.shape[1]}x{ds[i].img0.shape[0]}" for i in idx), len(idx) < n


def describe(spec_text: str) -> str:
    spec = parse_spec(spec_text)
    lines = [f"dataset {spec}"]
    for split in SPLITS:
        try:
            ds = load(spec, split)
        except DataError as e:
            lines.append(f"  {split:<5}  -      ({e})")
            continue
        sizes = "-"
        if len(ds):
            counts, sampled = frame_sizes(ds)
            sizes = ", ".join(f"{s} ({c})" for s, c in counts.most_common())
            if sampled:
                sizes += f"  [counts over {sum(counts.values())} sampled triplets]"
        lines.append(f"  {split:<5} {len(ds):>6} triplets   frame sizes (W x H): {sizes}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rife_core.data", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--info", nargs="+", metavar="SPEC", required=True, help="datasets to describe")
    args = parser.parse_args(argv)
    configure_output()
    try:
        specs = [parse_spec(s) for s in args.info]
        for spec in specs:
            print(describe(str(spec)))
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
