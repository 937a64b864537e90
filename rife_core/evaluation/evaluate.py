"""Scoring interpolation methods on triplet datasets: PSNR, SSIM, IE, L1, optionally LPIPS; tables, verdicts."""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import pandas as pd
import torch

from rife_core.data.spec import load
from rife_core.data.torch_data import center_crop, to_tensor
from rife_core.evaluation.metrics import interpolation_error, psnr, ssim
from rife_core.evaluation.perceptual import lpips_distance

Predictor = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]  # (img0, img1, t) -> frame

log = logging.getLogger(__name__)
Predict = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def spread_indices(n: int, k: int | None) -> list[int]:
    """``k`` indices spread evenly over ``range(n)`` (all of them when k is None or >= n)."""
    if k is None or k >= n:
        return list(range(n))
    return sorted({round(i * (n - 1) / max(1, k - 1)) for i in range(k)})


@torch.no_grad()
def evaluate(
    predict: Predict,
    dataset,
    *,
    device: torch.device | str = "cpu",
    max_items: int | None = None,
    center: int | None = None,
    lpips_net: str | None = None,
) -> dict[str, float]:
    """Mean metrics of ``predict`` over ``dataset`` (one triplet at a time, whole frames unless ``center``)."""

    rows: dict[str, list[float]] = {"psnr": [], "ssim": [], "ie": [], "l1": []}
    if lpips_net:
        rows["lpips"] = []
    for i in spread_indices(len(dataset), max_items):
        tri = dataset[i]
        if center is not None:
            tri = center_crop(tri, center)
        img0, imgt, img1 = (to_tensor(x).unsqueeze(0).to(device) for x in (tri.img0, tri.imgt, tri.img1))
        t = torch.tensor([tri.t], dtype=torch.float32, device=device)
        pred = predict(img0, img1, t).clamp(0, 1)
        rows["psnr"].append(float(psnr(pred, imgt)))
        rows["ssim"].append(float(ssim(pred, imgt)) if min(pred.shape[-2:]) >= 11 else float("nan"))
        rows["ie"].append(float(interpolation_error(pred, imgt)))
        rows["l1"].append(float((pred - imgt).abs().mean()))
        if lpips_net:
            rows["lpips"].append(float(lpips_distance(pred, imgt, lpips_net)))
    out = {k: float(np.nanmean(v)) if v else float("nan") for k, v in rows.items()}
    out["n"] = len(rows["psnr"])
    return out


HALVING_LEVELS = 8  # a network without a timestep input reaches t = k / 2^8 by halving


def model_predictor(model: torch.nn.Module, flip_tta: bool = False) -> Predict:
    """``model`` as a predictor; ``flip_tta``: averaged with its prediction on mirrored frames (``flip_averaged``).

    A network without a timestep input (``cfg.timestep_input`` False) computes middle frames; other times
    k / 2^m come from recursive halving (``halving_predict``), others are refused.
    """
    cfg = getattr(model, "cfg", None)

    def predict(img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        if cfg is not None and not cfg.timestep_input:
            return halving_predict(model, img0, img1, t)
        return model(img0, img1, t).frame

    return flip_averaged(predict) if flip_tta else predict


def halving_predict(model: torch.nn.Module, img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The frame at each item's t by halving the interval with middle frames until it ends on t."""
    times = torch.as_tensor(t, dtype=torch.float64).reshape(-1).tolist()
    if len(times) == 1:
        times = times * img0.shape[0]
    out = []
    for i, target in enumerate(times):
        a, b, lo, hi = img0[i : i + 1], img1[i : i + 1], 0.0, 1.0
        for _ in range(HALVING_LEVELS):
            mid = (lo + hi) / 2
            frame = model(a, b, 0.5).frame
            if abs(target - mid) < 1e-9:
                break
            a, b, lo, hi = (a, frame, lo, mid) if target < mid else (frame, b, mid, hi)
        else:
            raise ValueError(
                f"t = {target} is not k / 2^m for m <= {HALVING_LEVELS}: a network without a timestep input "
                "reaches only such times by halving"
            )
        out.append(frame)
    return torch.cat(out, 0)


def flip_averaged(predict: Predict) -> Predict:
    """Test-time augmentation: the mean of ``predict`` on the frames and, mirrored back, on the horizontally
    mirrored frames. Two calls, so twice the time (a flow prior's DIS included); for DIS itself it averages
    two flow estimates, so compare a model with it against ``flip_averaged`` DIS."""

    def averaged(img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return (predict(img0, img1, t) + predict(img0.flip(-1), img1.flip(-1), t).flip(-1)) / 2

    return averaged


def evaluation_table(
    methods: dict[str, Predictor], specs: list[str], split: str, *, lpips: bool, max_items: int | None, device: str
) -> pd.DataFrame:
    """One row per (dataset, method) with mean PSNR, SSIM, LPIPS, IE and the triplet count."""
    rows = []
    for spec in specs:
        ds = load(spec, split)
        for name, predict in methods.items():
            m = evaluate(predict, ds, device=device, max_items=max_items, lpips_net="alex" if lpips else None)
            rows.append({"dataset": str(spec), "method": name, **m})
            log.info("%s / %s: PSNR %.2f dB", spec, name, m["psnr"])
    cols = ["dataset", "method", "psnr", "ssim", "lpips", "ie", "n"]
    return pd.DataFrame(rows).reindex(columns=[c for c in cols if lpips or c != "lpips"])


def verdicts(table: pd.DataFrame, model_name: str) -> list[str]:
    """Say, per dataset, whether the model beats DIS (the bar a learned model must clear)."""
    out = []
    for ds, group in table.groupby("dataset", sort=False):
        by = group.set_index("method")["psnr"]
        if model_name in by and "dis" in by:
            gap = by[model_name] - by["dis"]
            word = "beats" if gap > 0 else "does NOT beat"
            note = "" if gap > 0 else " - not yet useful on this data"
            out.append(f"{ds}: {model_name} {word} DIS by {gap:+.2f} dB{note}")
    return out
