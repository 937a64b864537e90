"""How a child's layers of kinds the parent lacks start from the parent's function.

The child's *twin* is the same architecture with the parent's layer kinds (its conv type, downsampler and
upsampler), sliced from the parent. Every layer the child shares with its twin is copied; each other layer
starts from the twin's layer it replaces, by the rule its kind owns:

==========================  ==================  =============================================================
child's layer               twin's layer        start
==========================  ==================  =============================================================
learned downsampler         bilinear resize     rewritten: fixed stride-2 taps (``rewrite.bilinear_taps``)
``subpixel2`` head          ``deconv2`` head    rewritten: each transposed conv as its sub-pixel conv
``pixelshuffle`` /          ``deconv2`` head    fitted: least squares (CGLS) to the twin head's full-
``bilinear`` / ``deconv``                       resolution output on the twin's features (affine layers)
``dsdeconv`` head           ``deconv2`` head    fitted: Adam on the same targets
depthwise-separable trunk   standard trunk      fitted: each conv's rank-1 factorisation per input channel,
(conv0 + residual units)                        then the whole trunk by Adam to the twin trunk's output
==========================  ==================  =============================================================

A head is fitted on the child's own trunk output, so a fitted trunk's error is partly absorbed by its head.
The activations come from the twin on fixed training crops (the importance's), so a start is a function of
(parent, child, data, seed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from rife_core.model.config import FLOW_CH, ArchConfig
from rife_core.model.fitting import fit_adam, fit_linear, rank1_dsconv, relative_error
from rife_core.model.ifnet import IFNet
from rife_core.model.layers import resize
from rife_core.model.rewrite import rewrite_bilinear_down, rewrite_deconv2

log = logging.getLogger(__name__)

COPIED, REWRITTEN, FITTED, SEEDED = "copied", "rewritten", "fitted", "seeded"
KIND_CHOICES = ("conv_type", "downsample", "upsample")  # the layer kinds a child may change from its parent's
LINEAR_HEADS = ("pixelshuffle", "bilinear", "deconv")  # output affine in the weights: closed-form fit
EXACT_HEADS = ("subpixel2",)  # heads rewritten exactly from the parent's deconv2 (no fit)
TRUNK_FIT_LR = 3e-3  # 1e-3 left 25% more block-output error after 300 steps (docs/results/layer-kinds.md)


@dataclass(frozen=True)
class FitBudget:
    """What a fitted start spends: optimiser steps per fit, and the share of the fit crops a head's fit runs on."""

    trunk_steps: int = 300  # Adam steps fitting a depthwise-separable trunk (0: the rank-1 factorisation alone)
    head_iters: int = 60  # CGLS steps of a least-squares head; its normal equations converge well within this
    head_steps: int = 300  # Adam steps of a dsdeconv head
    # Fit the heads on the centre window of at most this side (pixels at the block's resolution) of each
    # crop; None: whole crops. A head is local (convolutions, resizes), so a window poses the same fit with
    # fewer pixels. Trunks always fit on whole crops: at a 32 window their 3x3 stacks run on 8x8 features
    # that are mostly zero padding, and the fit scored lower than none (docs/results/layer-kinds.md).
    window: int | None = None

    def __post_init__(self) -> None:
        if min(self.trunk_steps, self.head_iters, self.head_steps) < 0:
            raise ValueError("fit steps must be >= 0")
        if self.window is not None and (self.window < 8 or self.window % 8):
            raise ValueError(f"fit window {self.window}: use a multiple of 8 (>= 8), or none for whole crops")


# "full": the budget the layer-kind curves and the reference table were measured with; "fast": the search's
# proxy, the same trunk fit and the heads fitted on windows (docs/results/layer-kinds.md#the-fit-budget).
FIT_BUDGETS = {"full": FitBudget(), "fast": FitBudget(head_iters=20, window=32)}


@dataclass(frozen=True)
class LayerStart:
    """How one replaced layer of a child started."""

    name: str  # module path in the child, e.g. blocks.0.lastconv
    how: str  # rewritten or fitted
    params: int
    error: float | None = None  # relative output error against the twin's layer on the fit data, after the start
    error_before: float | None = None  # the same for the naive start (the rank-1 factorisation) before fitting
    seconds: float = 0.0


def twin_config(parent: ArchConfig, child: ArchConfig) -> ArchConfig:
    """``child`` with the parent's layer kinds: the architecture slicing serves by copying."""
    return child.replace(**{k: getattr(parent, k) for k in KIND_CHOICES})


def replaced_kinds(parent: ArchConfig, child: ArchConfig) -> list[str]:
    """The layer-kind choices where ``child`` differs from ``parent``."""
    return [k for k in KIND_CHOICES if getattr(child, k) != getattr(parent, k)]


def needs_fit(parent: ArchConfig, child: ArchConfig) -> bool:
    """Whether starting ``child`` fits a layer (and so needs crops); rewrites and copies need none."""
    kinds = replaced_kinds(parent, child)
    return "conv_type" in kinds or ("upsample" in kinds and child.upsample not in EXACT_HEADS)


def choices_need_fit(choices: dict[str, Any]) -> bool:
    """Whether a space with these choices (after --fix) holds a child whose start fits a layer, for a parent
    of the served kinds (standard convs, ``deconv2`` heads): the fit budget changes its scores only then."""
    convs, ups = choices.get("conv_type", []), choices.get("upsample", [])
    return any(c != "standard" for c in convs) or any(u not in ("deconv2", *EXACT_HEADS) for u in ups)


def kind_refusals(parent: ArchConfig, child: ArchConfig) -> list[str]:
    """Replacements no rule above serves (the parent's kind is not the one the rules start from)."""
    out = []
    if child.conv_type != parent.conv_type and parent.conv_type != "standard":
        out.append(f"conv_type={child.conv_type!r} from a parent with {parent.conv_type!r} convs")
    if child.downsample != parent.downsample and parent.downsample != "bilinear":
        out.append(f"downsample={child.downsample!r} from a parent with a {parent.downsample!r} downsampler")
    if child.upsample != parent.upsample and parent.upsample != "deconv2":
        out.append(f"upsample={child.upsample!r} from a parent with {parent.upsample!r} heads (served: deconv2)")
    return out


def _module_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def _replaced_prefixes(child: IFNet, kinds: Sequence[str]) -> list[str]:
    out = []
    for i, block in enumerate(child.blocks):
        if "downsample" in kinds and block.down is not None and block.down.convs is not None:
            out.append(f"blocks.{i}.down.")
        if "conv_type" in kinds:
            out += [f"blocks.{i}.conv0.", f"blocks.{i}.convblock."]
        if "upsample" in kinds:
            out += [f"blocks.{i}.lastconv."] + ([f"blocks.{i}.maskconv."] if block.maskconv is not None else [])
    return out


@torch.no_grad()
def copy_shared(child: IFNet, twin: IFNet, kinds: Sequence[str]) -> list[str]:
    """Copy every parameter outside the replaced layers from ``twin``; returns the replaced prefixes."""
    prefixes = _replaced_prefixes(child, kinds)
    theirs = dict(twin.named_parameters())
    for name, p in child.named_parameters():
        if not any(name.startswith(x) for x in prefixes):
            p.copy_(theirs[name])
    return prefixes


def _capture(twin: IFNet, batches: Sequence[tuple[torch.Tensor, ...]]) -> list[list[torch.Tensor]]:
    """Per twin block, its trunk's input (block input joined with any cost volume) on every batch."""
    seen: list[list[torch.Tensor]] = [[] for _ in twin.blocks]
    hooks = [
        block.conv0.register_forward_pre_hook(lambda _m, args, i=i: seen[i].append(args[0].detach()))
        for i, block in enumerate(twin.blocks)
    ]
    was_training = twin.training
    twin.eval()
    try:
        with torch.no_grad():
            for img0, img1, *_ in batches:
                twin(img0, img1)
    finally:
        for h in hooks:
            h.remove()
        twin.train(was_training)
    return seen


def _full(head: Any, feat: torch.Tensor, flow_ch: int) -> torch.Tensor:
    """A head's output at full resolution, its flow channels in full-resolution pixels (as the network uses it)."""
    y = resize(head.learned(feat), head.flow_gain)
    if flow_ch:
        y = torch.cat((y[:, :flow_ch] * head.flow_gain, y[:, flow_ch:]), 1)
    return y


def _start_trunk(cb: Any, tb: Any, inputs: list[torch.Tensor], steps: int) -> LayerStart:
    """A depthwise-separable trunk from the twin's standard one: rank-1 factors, then fitted as a whole."""
    t0 = time.perf_counter()
    with torch.no_grad():
        convs = [m for m in tb.modules() if isinstance(m, nn.Conv2d)]
        seps = [m for m in cb.modules() if isinstance(m, nn.Sequential) and len(m) == 2 and _is_dsconv(m)]
        for sep, conv in zip(seps, convs, strict=True):
            dw, pw, b = rank1_dsconv(conv.weight, conv.bias)
            sep[0].weight.copy_(dw)
            sep[1].weight.copy_(pw)
            sep[1].bias.copy_(b)
        for mine, theirs in zip(_others(cb), _others(tb), strict=True):  # PReLU slopes, ResConv betas
            mine.copy_(theirs)
    trunk = nn.Sequential(cb.conv0, cb.convblock)
    target = nn.Sequential(tb.conv0, tb.convblock)
    with torch.no_grad():
        pairs = [(x, target(x)) for x in inputs]
    before = relative_error(trunk, pairs)
    fit_adam(trunk, pairs, trunk, steps=steps, lr=TRUNK_FIT_LR)
    after = relative_error(trunk, pairs)
    return LayerStart("", FITTED, _module_params(trunk), after, before, time.perf_counter() - t0)


def _is_dsconv(seq: nn.Sequential) -> bool:
    dw, pw = seq[0], seq[1]
    return isinstance(dw, nn.Conv2d) and dw.groups > 1 and isinstance(pw, nn.Conv2d) and pw.kernel_size == (1, 1)


def _others(block: Any) -> list[torch.Tensor]:
    """A trunk's parameters outside its convolutions, in order (activation slopes, residual betas)."""
    convs = {id(p) for m in block.modules() if isinstance(m, nn.Conv2d) for p in m.parameters()}
    trunk = list(block.conv0.parameters()) + list(block.convblock.parameters())
    return [p for p in trunk if id(p) not in convs]


def _start_head(
    child_head: Any,
    twin_head: Any,
    kind: str,
    feats: list[tuple[torch.Tensor, torch.Tensor]],
    flow_ch: int,
    budget: FitBudget,
) -> LayerStart:
    t0 = time.perf_counter()
    if kind == "subpixel2":
        n = rewrite_deconv2(child_head.learned, twin_head.learned)
        how = REWRITTEN
    else:
        with torch.no_grad():
            pairs = [(mine, _full(twin_head, theirs, flow_ch)) for mine, theirs in feats]
        fwd = lambda f: _full(child_head, f, flow_ch)  # noqa: E731
        with torch.no_grad():
            for p in child_head.parameters():
                p.zero_()  # the least-squares fit starts from the zero map; dsdeconv's from its seeded factors
        if kind in LINEAR_HEADS:
            fit_linear(child_head, pairs, fwd, iters=budget.head_iters)
        else:
            _reseed(child_head)
            fit_adam(child_head, pairs, fwd, steps=budget.head_steps)
        n, how = _module_params(child_head), FITTED
    err = relative_error(
        lambda f: _full(child_head, f, flow_ch), [(mine, _full(twin_head, t, flow_ch)) for mine, t in feats]
    )
    return LayerStart("", how, n, err, None, time.perf_counter() - t0)


@torch.no_grad()
def _reseed(head: Any) -> None:
    """Nonzero factors for a bilinear-in-weights head (zero factors have zero gradients)."""
    g = torch.Generator().manual_seed(0)
    for m in head.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
            bound = 1 / max(1, m.weight[0].numel()) ** 0.5
            m.weight.copy_((torch.rand(m.weight.shape, generator=g) * 2 - 1) * bound)


def start_from_twin(
    child: IFNet,
    twin: IFNet,
    kinds: Sequence[str],
    batches: Sequence[tuple[torch.Tensor, ...]],
    budget: FitBudget | None = None,
) -> list[LayerStart]:
    """Start ``child``'s layers from ``twin`` (copy, rewrite, fit within ``budget``); returns one entry per
    replaced layer. ``budget``: default ``FIT_BUDGETS["full"]``."""
    budget = budget or FIT_BUDGETS["full"]
    copy_shared(child, twin, kinds)
    ccfg: ArchConfig = child.cfg
    inputs = _capture(twin, batches) if {"conv_type", "upsample"} & set(kinds) else [[] for _ in twin.blocks]
    out: list[LayerStart] = []
    cbs: list[Any] = list(child.blocks)
    for i, (cb, tb) in enumerate(zip(cbs, twin.blocks, strict=True)):
        prefix = f"blocks.{i}"
        if "downsample" in kinds and cb.learned_down:
            t0 = time.perf_counter()
            n = rewrite_bilinear_down(cb.down.convs, ccfg.blocks[i].scale)
            out.append(LayerStart(f"{prefix}.down", REWRITTEN, n, None, None, time.perf_counter() - t0))
        if "conv_type" in kinds:
            s = _start_trunk(cb, tb, inputs[i], budget.trunk_steps)
            out.append(_named(s, f"{prefix}.conv0+convblock"))
        if "upsample" in kinds:
            with torch.no_grad():
                xs = _windows(inputs[i], budget.window)
                feats = [(cb.convblock(cb.conv0(x)), tb.convblock(tb.conv0(x))) for x in xs]
            heads = [("lastconv", FLOW_CH)] + ([("maskconv", 0)] if cb.maskconv is not None else [])
            for name, flow_ch in heads:
                s = _start_head(getattr(cb, name), getattr(tb, name), ccfg.upsample, feats, flow_ch, budget)
                out.append(_named(s, f"{prefix}.{name}"))
    for s in out:
        err = "" if s.error is None else f", error {s.error:.3f}"
        log.info("%s %s (%d params%s, %.1f s)", s.name, s.how, s.params, err, s.seconds)
    return out


def _windows(xs: list[torch.Tensor], side: int | None) -> list[torch.Tensor]:
    return xs if side is None else [_centre(x, side) for x in xs]


def _centre(x: torch.Tensor, side: int) -> torch.Tensor:
    """The centre ``side`` x ``side`` window of ``x`` (N, C, H, W) where it is larger, on the stride-8 grid."""
    h, w = x.shape[-2:]
    top = max(0, (h - side) // 2) // 8 * 8
    left = max(0, (w - side) // 2) // 8 * 8
    return x[..., top : top + min(side, h), left : left + min(side, w)].contiguous()


def _named(s: LayerStart, name: str) -> LayerStart:
    return LayerStart(name, s.how, s.params, s.error, s.error_before, s.seconds)
