"""How much a network on top of the DIS prior could add: oracle bounds of mask-only and flow-refinement fixes.

A ``flow_init`` model starts from DIS interpolation (both frames warped part of the way by DIS flow, then
blended 1 - t : t) and learns a fusion mask and a flow residual. This measures, per triplet, PSNR of

- ``dis``: the prior itself (= ``rife_core.evaluate --method dis``);
- ``mask_patch``: the best of {warped frame0, warped frame1, the blend} chosen per 8x8 patch with the
  ground truth in hand: what a perfect, coarse occlusion mask could reach;
- ``mask_pixel``: the better warped frame per pixel (a loose bound: no network sees the target);
- ``shift_patch``: per 8x8 patch, the best blend of the two warped frames each moved by an integer shift
  in [-1, 1]^2 (81 candidates): what a perfect +-1 px flow correction with the baseline's blend could reach.

These are upper bounds (the oracle looks at the target); a gap of a few tenths of a dB says that a
sub-0.5M net on the prior has little to find in this footage, a gap of dBs that training fails to find it.

    python benchmarks/prior_headroom.py --data default --data ucf101:../shared/data/ucf101_adacof [--split test]
"""

from __future__ import annotations

import argparse
import itertools
import sys

import numpy as np

from rife_core.data.flow import backward_warp, dis_flows_at
from rife_core.data.spec import load

PATCH = 8


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return 10 * np.log10(1 / max(mse, 1e-12))


def patch_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """Sum of squared error per PATCH x PATCH patch (frames cropped to a multiple of PATCH)."""
    e = ((pred - gt) ** 2).sum(-1)
    h, w = e.shape
    return e.reshape(h // PATCH, PATCH, w // PATCH, PATCH).sum((1, 3))


def pick_by_patch(candidates: list[np.ndarray], gt: np.ndarray) -> np.ndarray:
    """The candidate with the lowest error, chosen independently in every patch."""
    errs = np.stack([patch_errors(c, gt) for c in candidates])
    best = errs.argmin(0).repeat(PATCH, 0).repeat(PATCH, 1)
    return np.take_along_axis(np.stack(candidates), best[None, ..., None], 0)[0]


def shift(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``out(p) = img(p + (dy, dx))``, borders replicated."""
    pad = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = img.shape[:2]
    return pad[1 + dy : 1 + dy + h, 1 + dx : 1 + dx + w]


def bounds(img0: np.ndarray, imgt: np.ndarray, img1: np.ndarray, t: float) -> dict[str, float]:
    h, w = (s // PATCH * PATCH for s in img0.shape[:2])
    img0, imgt, img1 = img0[:h, :w], imgt[:h, :w], img1[:h, :w]
    to0, to1 = dis_flows_at(img0, img1, t)
    w0 = backward_warp(img0, to0).astype(np.float32) / 255
    w1 = backward_warp(img1, to1).astype(np.float32) / 255
    gt = imgt.astype(np.float32) / 255
    mix = (1 - t) * w0 + t * w1
    pixel = np.where(np.abs(w0 - gt).sum(-1, keepdims=True) <= np.abs(w1 - gt).sum(-1, keepdims=True), w0, w1)
    offsets = list(itertools.product((-1, 0, 1), repeat=2))
    s0 = [shift(w0, *o) for o in offsets]
    s1 = [shift(w1, *o) for o in offsets]
    shifted = [(1 - t) * a + t * b for a in s0 for b in s1]
    return {
        "dis": psnr(mix, gt),
        "mask_patch": psnr(pick_by_patch([w0, w1, mix], gt), gt),
        "mask_pixel": psnr(pixel, gt),
        "shift_patch": psnr(pick_by_patch(shifted, gt), gt),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", action="append", required=True, metavar="SPEC")
    p.add_argument("--split", default="test")
    args = p.parse_args(argv)
    print(f"{'data':<40} {'n':>3} " + " ".join(f"{k:>11}" for k in ("dis", "mask_patch", "mask_pixel", "shift_patch")))
    for spec in args.data:
        ds = load(spec, args.split)
        rows = [bounds(tr.img0, tr.imgt, tr.img1, tr.t) for tr in (ds[i] for i in range(len(ds)))]
        mean = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
        print(f"{spec:<40} {len(rows):>3} " + " ".join(f"{v:>11.2f}" for v in mean.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
