"""Scoring an interpolation method on a triplet dataset: PSNR, SSIM, IE, L1 and optionally LPIPS."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from rife_core.data.torch_data import center_crop, to_tensor
from rife_core.metrics import interpolation_error, psnr, ssim

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
    from rife_core.perceptual import lpips_distance

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


def model_predictor(model: torch.nn.Module) -> Predict:
    def predict(img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return model(img0, img1, t).frame

    return predict
