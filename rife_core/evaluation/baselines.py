"""Reference methods every comparison includes: the 50/50 blend and classical DIS-flow interpolation."""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
from torch import nn

from rife_core.data.flow import DIS_PRESETS, backward_warp, dis_flows_at, to_u8
from rife_core.evaluation.evaluate import Predictor, evaluate, model_predictor


def blend(img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear cross-fade: (1 - t) * img0 + t * img1."""
    t = t.view(-1, 1, 1, 1)
    return (1 - t) * img0 + t * img1


def dis_preset(name: str) -> int:
    """OpenCV's DIS preset called ``name`` (ultrafast, fast, medium); another name is a ValueError."""
    if name not in DIS_PRESETS:
        raise ValueError(f"DIS preset {name!r}: choose one of {', '.join(DIS_PRESETS)}")
    return DIS_PRESETS[name]


def dis_interpolate(img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor, preset: str = "medium") -> torch.Tensor:
    """DIS optical flow both ways; each frame is warped part of the way to time t, then blended.

    Frame0 is sampled at p + t * F(1->0)(p) and frame1 at p + (1 - t) * F(0->1)(p) (``dis_flows_at``);
    ``preset`` is OpenCV's (ultrafast, fast, medium: the evaluation's).
    """
    code = dis_preset(preset)
    out = []
    for a, b, tt in zip(img0, img1, t.view(-1).tolist(), strict=True):
        a8, b8 = to_u8(a), to_u8(b)
        to0, to1 = dis_flows_at(a8, b8, tt, code)
        w0 = backward_warp(a8, to0).astype(np.float32)
        w1 = backward_warp(b8, to1).astype(np.float32)
        mix = (1 - tt) * w0 + tt * w1
        out.append(torch.from_numpy(mix / 255).permute(2, 0, 1))
    return torch.stack(out).to(img0.device, img0.dtype)


class TimedMethod(nn.Module):
    """A classical method (a ``Predictor``) as a module, so that it is timed as networks are
    (``rife_core.cost.latency``): it runs as itself, outside any graph, on every latency backend."""

    exportable = False

    def __init__(self, predict: Predictor) -> None:
        super().__init__()
        self.predict = predict

    def forward(self, img0: torch.Tensor, img1: torch.Tensor, timestep: float | torch.Tensor = 0.5) -> torch.Tensor:
        return self.predict(img0, img1, torch.as_tensor(timestep, dtype=img0.dtype).expand(img0.shape[0]))


class DISInterpolation(TimedMethod):
    """``dis_interpolate`` at one preset: OpenCV and NumPy on the CPU."""

    def __init__(self, preset: str = "medium") -> None:
        dis_preset(preset)  # refused here, not at the first frame
        super().__init__(partial(dis_interpolate, preset=preset))
        self.preset = preset


class BlendInterpolation(TimedMethod):
    """``blend``, timed beside the networks and DIS (it costs next to nothing)."""

    def __init__(self) -> None:
        super().__init__(blend)


METHODS = {"blend": blend, "dis": dis_interpolate}
BASELINES = tuple(METHODS)  # every evaluation table includes these
# Every classical method at each DIS preset, as named in a search's baselines ("dis" is DIS-medium)
TIMED_METHODS = {
    "blend": BlendInterpolation,
    "dis-ultrafast": lambda: DISInterpolation("ultrafast"),
    "dis-fast": lambda: DISInterpolation("fast"),
    "dis": lambda: DISInterpolation("medium"),
}


def blend_psnr(
    dataset, *, max_items: int | None = None, center: int | None = None, device: torch.device | str = "cpu"
) -> float:
    """The 50/50 blend's PSNR on ``dataset``, scored as ``evaluate`` scores a network: the plateau's level."""
    return evaluate(blend, dataset, max_items=max_items, center=center, device=device)["psnr"]


def baseline_psnr(
    dataset,
    parents: dict[str, torch.nn.Module] | None = None,
    *,
    max_items: int | None = None,
    center: int | None = None,
    dis_presets: tuple[str, ...] = (),
) -> dict[str, float]:
    """PSNR of the blend, DIS and each of ``parents`` (name -> loaded network) on the same triplets; DIS also
    at each of ``dis_presets`` (named ``dis-<preset>``)."""
    presets: dict[str, Predictor] = {f"dis-{p}": partial(dis_interpolate, preset=p) for p in dis_presets}
    parents_: dict[str, Predictor] = {name: model_predictor(net) for name, net in (parents or {}).items()}
    methods: dict[str, Predictor] = {**METHODS, **presets, **parents_}
    return {name: evaluate(fn, dataset, max_items=max_items, center=center)["psnr"] for name, fn in methods.items()}
