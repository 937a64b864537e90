"""Children sliced from a parent: elastic width and depth (Once-for-All), the rest of a child seeded.

A child is any member of the family whose blocks are no wider and no deeper than the parent blocks they
map onto (the parent block nearest in scale) and that shares the parent's activation, residual unit and
mask update. Per block:

- the residual stream keeps one channel set everywhere in the block: the child's ``width`` channels with
  the largest summed L1 norm of the filters that write into the stream (conv0's second conv and the kept
  units' last convs), so every residual addition, PReLU and head reads the same channels;
- every other hidden set (conv0's first conv, a pair's inner channels, a head's hidden channels) is ranked
  by the L1 norm of its own filters over the kept inputs;
- depth k keeps k of the parent's units: the k that write most into the stream (``depth_rule="norm"``,
  the default: better than the first k after 0 and 100 fine-tuning steps, docs/results/parent.md) or the
  first k (``"first"``), in their order;
- the ranking reads the weights' magnitudes, or a data-aware importance of the same shape
  (``taylor_importance``: first-order Taylor, |w * dL/dw| on a few batches);
- input and output channels are matched by what they carry (frames, features, t, mask, flow): a channel
  the parent has no counterpart for reads zeros at the start (its weights are zeroed), so the child begins
  as the parent's function restricted to its own width;
- layers of a kind the parent lacks (a learned downsampler, depthwise-separable convs, another upsampler)
  start from the parent's layer they replace, rewritten exactly or fitted (``rife_core.model.layer_starts``);
  the context encoder and the cost volume, which the parent has no counterpart for, keep seeded weights.

The child reports the parameters it copied, rewrote and fitted (and what stayed seeded); a child of the
parent's shape copies all of them and computes the parent's output exactly.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import torch
from torch import nn

from rife_core.model.config import FLOW_CH, IMG_CH, MASK_CH, TIMESTEP_CH, ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.init import init_parameters, seeded_generator
from rife_core.model.layer_starts import (
    FIT_BUDGETS,
    FITTED,
    REWRITTEN,
    FitBudget,
    LayerStart,
    kind_refusals,
    needs_fit,
    replaced_kinds,
    start_from_twin,
    twin_config,
)

log = logging.getLogger(__name__)

DepthRule = Literal["first", "norm"]
DEPTH_RULES: tuple[str, ...] = ("first", "norm")
# Choices that change what a weight means: a child must share them with its parent.
SHARED_CHOICES = ("activation", "residual", "mask_update")


class ChildRefused(ValueError):
    """The parent cannot serve this child; the message says which block or choice and why."""


@dataclass
class SliceReport:
    """What a child took from its parent."""

    copied: int = 0  # parameters copied from the parent (a slice of its weights)
    total: int = 0  # parameters of the child
    parent_blocks: list[int] = field(default_factory=list)  # child block -> parent block it was sliced from
    seeded: list[str] = field(default_factory=list)  # modules that kept their seeded weights
    layers: list[LayerStart] = field(default_factory=list)  # layers rewritten or fitted from the parent's

    @property
    def rewritten(self) -> int:
        """Parameters of layers rewritten exactly from the parent's (another kind, the same function)."""
        return sum(s.params for s in self.layers if s.how == REWRITTEN)

    @property
    def fitted(self) -> int:
        """Parameters of layers fitted to the function of the parent's layer they replace."""
        return sum(s.params for s in self.layers if s.how == FITTED)

    @property
    def inherited(self) -> int:
        """Parameters that started from the parent: copied, rewritten or fitted."""
        return self.copied + self.rewritten + self.fitted

    @property
    def share(self) -> float:
        return self.inherited / self.total if self.total else 0.0

    def shares(self) -> dict[str, float]:
        """The share of the child's parameters copied, rewritten and fitted, apart."""
        n = self.total or 1
        return {"copied": self.copied / n, "rewritten": self.rewritten / n, "fitted": self.fitted / n}


def nearest_block(parent: ArchConfig, scale: int) -> int:
    """The parent block nearest in scale (log2 distance; a tie goes to the coarser block)."""
    dist = [abs(b.scale.bit_length() - scale.bit_length()) for b in parent.blocks]
    return dist.index(min(dist))


def refusals(parent: ArchConfig, child: ArchConfig) -> list[str]:
    """Why ``parent`` cannot serve ``child`` (empty: it can)."""
    out = [
        f"{name}={getattr(child, name)!r} differs from the parent's {getattr(parent, name)!r}"
        for name in SHARED_CHOICES
        if getattr(child, name) != getattr(parent, name)
    ]
    out += kind_refusals(parent, child)
    for i, b in enumerate(child.blocks):
        p = parent.blocks[nearest_block(parent, b.scale)]
        if b.width > p.width:
            out.append(f"blocks[{i}].width={b.width} is wider than the parent's block at scale {p.scale} ({p.width})")
        if b.depth > p.depth:
            out.append(f"blocks[{i}].depth={b.depth} is deeper than the parent's block at scale {p.scale} ({p.depth})")
    return out


def check_child(parent: ArchConfig, child: ArchConfig) -> None:
    """Raise ``ChildRefused`` listing every reason ``parent`` cannot serve ``child`` (before any work)."""
    reasons = refusals(parent, child)
    if reasons:
        raise ChildRefused(f"the parent cannot serve {child.arch_id}: " + "; ".join(reasons))


# --- channel roles ------------------------------------------------------------------------------------
def input_roles(cfg: ArchConfig, index: int) -> list[str]:
    """What each input channel of block ``index``'s first convolution carries, in the forward's order."""
    roles = [f"img0.{c}" for c in range(IMG_CH)] + [f"img1.{c}" for c in range(IMG_CH)]
    roles += [f"feat0.{c}" for c in range(cfg.feat_ch)] + [f"feat1.{c}" for c in range(cfg.feat_ch)]
    roles += ["t"] * TIMESTEP_CH if cfg.timestep_input else []
    if index > 0 or cfg.has_prior:
        roles += ["mask"]
        roles += [f"pfeat.{c}" for c in range(cfg.passed_feat_ch)] if index > 0 else []
        roles += [f"flow.{c}" for c in range(FLOW_CH)]
    if index == 0:
        roles += [f"corr.{c}" for c in range(cfg.corr_planes)]
    return roles


def output_roles(cfg: ArchConfig, split: str | None) -> list[str]:
    """What each output channel of a head carries: ``split`` None (joint), "flow" or "rest"."""
    flow = [f"flow.{c}" for c in range(FLOW_CH)]
    rest = ["mask"] * MASK_CH + [f"pfeat.{c}" for c in range(cfg.passed_feat_ch)]
    rest += [f"spare.{c}" for c in range(cfg.spare_out_ch)]
    return flow if split == "flow" else rest if split == "rest" else flow + rest


def _match(child: list[str], parent: list[str]) -> list[int | None]:
    return [parent.index(r) if r in parent else None for r in child]


# --- the copier -------------------------------------------------------------------------------------
class _Copier:
    """Copies ``src[index]`` into child parameters and counts what it copied; ``score`` ranks the parent's
    weights (their magnitude, or a data-aware importance of the same shape)."""

    def __init__(self, report: SliceReport, importance: Mapping[int, torch.Tensor] | None = None) -> None:
        self.report = report
        self.importance = importance or {}
        self.counts: dict[int, int] = {}  # id(child parameter) -> entries copied into it

    def score(self, weight: torch.Tensor) -> torch.Tensor:
        return self.importance.get(id(weight), weight.detach().abs())

    @torch.no_grad()
    def take(self, dst: Any, src: Any, *index: Sequence[int | None] | None) -> None:
        """``index[d]``: for each child position along dim d, the parent position (None: zero it)."""
        padded = index + (None,) * (src.dim() - len(index))
        idx = [torch.arange(s) if ix is None else ix for s, ix in zip(src.shape, padded, strict=True)]
        keep = [None if isinstance(ix, torch.Tensor) else torch.tensor([j is not None for j in ix]) for ix in idx]
        pos = [ix if isinstance(ix, torch.Tensor) else torch.tensor([j or 0 for j in ix]) for ix in idx]
        value = src
        for d, p in enumerate(pos):
            value = value.index_select(d, p)
        mask = torch.ones(value.shape, dtype=torch.bool)
        for d, k in enumerate(keep):
            if k is not None:
                shape = [1] * value.dim()
                shape[d] = -1
                mask = mask & k.view(shape)
        if value.shape != dst.shape:
            raise ChildRefused(f"internal: slice {tuple(value.shape)} does not fit {tuple(dst.shape)}")
        dst.copy_(torch.where(mask, value, torch.zeros_like(value)).to(dst.dtype))
        self.report.copied += int(mask.sum())
        self.counts[id(dst)] = self.counts.get(id(dst), 0) + int(mask.sum())


def _l1_out(score: torch.Tensor, inputs: list[int] | None = None, transposed: bool = False) -> torch.Tensor:
    """Per-output-channel sum of a conv's weight scores (L1 norm by default) over the kept input channels."""
    w = score.transpose(0, 1) if transposed else score  # ConvTranspose2d stores (in, out, kh, kw)
    if inputs is not None:
        w = w[:, inputs]
    return w.flatten(1).sum(1)


def _top(scores: torch.Tensor, k: int) -> list[int]:
    """The ``k`` highest-scoring positions, in ascending order (the full set stays the identity)."""
    if k >= scores.numel():
        return list(range(scores.numel()))
    return sorted(torch.topk(scores, k).indices.tolist())


def _conv(seq_item: Any) -> Any:
    """The plain 3x3 conv of a ``conv_act`` (None for a depthwise-separable one)."""
    conv = seq_item[0]
    return conv if isinstance(conv, nn.Conv2d) else None


def _slice_block(
    cp: _Copier,
    child: Any,
    parent: Any,
    ccfg: ArchConfig,
    pcfg: ArchConfig,
    ci: int,
    pi: int,
    depth_rule: str,
) -> None:
    report = cp.report
    prefix = f"blocks.{ci}"
    if child.down is not None and child.down.convs is not None:
        report.seeded.append(f"{prefix}.down")
    pc0a, pc0b = _conv(parent.conv0[0]), _conv(parent.conv0[1])
    cc0a, cc0b = _conv(child.conv0[0]), _conv(child.conv0[1])
    trunk_plain = all(c is not None for c in (pc0a, pc0b, cc0a, cc0b))
    if not trunk_plain:  # depthwise-separable convs have no counterpart in a standard parent (or vice versa)
        report.seeded.append(f"{prefix}.conv0+convblock")
        stream = None
    else:
        units = list(parent.convblock)
        depth = len(child.convblock)
        if depth_rule == "first" or depth >= len(units):
            kept = list(range(depth))
        else:
            written = torch.stack([cp.score(_unit_out_conv(u).weight).sum() for u in units])
            kept = sorted(torch.topk(written, depth).indices.tolist())
        width = child.conv0[1][0].out_channels
        writes = _l1_out(cp.score(pc0b.weight)) + sum(_l1_out(cp.score(_unit_out_conv(units[u]).weight)) for u in kept)
        stream = _top(writes, width)
        # conv0: first conv's outputs by their own filters (inputs matched by role), second writes the stream
        cols = _match(input_roles(ccfg, ci), input_roles(pcfg, pi))
        hidden = _top(_l1_out(cp.score(pc0a.weight), [c for c in cols if c is not None]), cc0a.out_channels)
        _take_conv_act(cp, child.conv0[0], parent.conv0[0], hidden, cols)
        _take_conv_act(cp, child.conv0[1], parent.conv0[1], stream, hidden)
        for cu, pu in zip(child.convblock, (units[u] for u in kept), strict=True):
            _slice_unit(cp, cu, pu, stream)
    _slice_heads(cp, child, parent, ccfg, pcfg, stream, prefix)


def _unit_out_conv(unit: Any) -> Any:
    """The convolution of a residual unit that writes into the stream."""
    if hasattr(unit, "convs"):  # ResPair
        return unit.convs[1][0]
    return unit.conv  # ResConv


def _take_act(cp: _Copier, child: Any, parent: Any, index: list[int]) -> None:
    if isinstance(child, nn.PReLU) and isinstance(parent, nn.PReLU):
        cp.take(child.weight, parent.weight, index)


def _take_conv_act(cp: _Copier, child: Any, parent: Any, outs: list[int], ins: Sequence[int | None]) -> None:
    """A ``conv_act`` pair: the conv's filters ``outs`` over inputs ``ins``, its bias and activation ``outs``."""
    cp.take(child[0].weight, parent[0].weight, outs, ins)
    cp.take(child[0].bias, parent[0].bias, outs)
    _take_act(cp, child[1], parent[1], outs)


def _slice_unit(cp: _Copier, child: Any, parent: Any, stream: list[int]) -> None:
    if hasattr(child, "convs"):  # a pair: inner channels ranked by the first conv's filters
        inner = _top(_l1_out(cp.score(parent.convs[0][0].weight), stream), child.convs[0][0].out_channels)
        _take_conv_act(cp, child.convs[0], parent.convs[0], inner, stream)
        _take_conv_act(cp, child.convs[1], parent.convs[1], stream, inner)
    else:  # ResConv
        cp.take(child.conv.weight, parent.conv.weight, stream, stream)
        cp.take(child.conv.bias, parent.conv.bias, stream)
        cp.take(child.beta, parent.beta, None, stream)
        _take_act(cp, child.act, parent.act, stream)


def _slice_heads(
    cp: _Copier,
    child: Any,
    parent: Any,
    ccfg: ArchConfig,
    pcfg: ArchConfig,
    stream: list[int] | None,
    prefix: str,
) -> None:
    same_kind = ccfg.upsample == pcfg.upsample and ccfg.upsample in ("deconv", "deconv2")
    if stream is None or not same_kind or ccfg.split_heads != pcfg.split_heads:
        report_as = [f"{prefix}.lastconv"] + ([f"{prefix}.maskconv"] if child.maskconv is not None else [])
        cp.report.seeded.extend(report_as)
        return
    pairs = [("lastconv", "flow" if ccfg.split_heads else None)]
    if ccfg.split_heads:
        pairs.append(("maskconv", "rest"))
    for name, split in pairs:
        ch, ph = getattr(child, name).learned, getattr(parent, name).learned
        outs = _match(output_roles(ccfg, split), output_roles(pcfg, split))
        if ccfg.upsample == "deconv2":  # ConvT(c, c/2) + act + ConvT(c/2, k)
            hidden = _top(_l1_out(cp.score(ph[0].weight), stream, transposed=True), ch[0].out_channels)
            cp.take(ch[0].weight, ph[0].weight, stream, hidden)
            cp.take(ch[0].bias, ph[0].bias, hidden)
            _take_act(cp, ch[1], ph[1], hidden)
            cp.take(ch[2].weight, ph[2].weight, hidden, outs)
            cp.take(ch[2].bias, ph[2].bias, outs)
        else:  # deconv: ConvT(c, 4k) + PixelShuffle(2): output channel o is ConvT channels 4o .. 4o+3
            shuffled = [None if o is None else 4 * o + j for o in outs for j in range(4)]
            cp.take(ch[0].weight, ph[0].weight, stream, shuffled)
            cp.take(ch[0].bias, ph[0].bias, shuffled)


def taylor_importance(parent: IFNet, batches: Iterable[tuple[torch.Tensor, ...]]) -> dict[str, torch.Tensor]:
    """First-order Taylor importance of every parent weight, |w * dL/dw| summed over ``batches``.

    ``batches``: (img0, img1, imgt) tensors; L is the L1 error of the parent's frame. A data-aware ranking
    (what removing a weight would cost on these frames) beside the default magnitude.
    """
    params = dict(parent.named_parameters())
    total = {k: torch.zeros_like(p) for k, p in params.items()}
    was_training = parent.training
    parent.eval()
    for img0, img1, imgt in batches:
        parent.zero_grad(set_to_none=True)
        torch.nn.functional.l1_loss(parent(img0, img1).frame, imgt).backward()
        for k, p in params.items():
            if p.grad is not None:
                total[k] += (p.detach() * p.grad).abs()
    parent.zero_grad(set_to_none=True)
    parent.train(was_training)
    return total


def slice_child(
    parent: IFNet,
    cfg: ArchConfig,
    *,
    seed: int = 0,
    depth_rule: str = "norm",
    importance: Mapping[str, torch.Tensor] | None = None,
    batches: Sequence[tuple[torch.Tensor, ...]] | None = None,
    fit: FitBudget = FIT_BUDGETS["full"],
) -> tuple[IFNet, SliceReport]:
    """``cfg`` with the weights it inherits from ``parent``; the rest drawn from a generator seeded by ``seed``.

    ``importance``: parent parameter name -> a score of the same shape ranking its weights instead of their
    magnitude (``taylor_importance``). ``batches``: (img0, img1, ...) crops the layers of kinds the parent
    lacks are fitted on (needed only by such a child; ``rife_core.model.layer_starts``); ``fit``: what those
    fits spend (``FitBudget``; ``trunk_steps=0`` keeps a depthwise-separable trunk's naive rank-1 factorisation).

    Raises:
        ChildRefused: the parent cannot serve ``cfg`` (the message lists every reason).
    """
    if depth_rule not in DEPTH_RULES:
        raise ValueError(f"depth_rule={depth_rule!r}: choose one of {', '.join(DEPTH_RULES)}")
    check_child(parent.cfg, cfg)
    kinds = replaced_kinds(parent.cfg, cfg)
    if kinds:
        return _start_replaced(parent, cfg, kinds, seed, depth_rule, importance, batches, fit)
    child = IFNet(cfg)
    init_parameters(child, seeded_generator(seed))
    report = SliceReport(total=sum(p.numel() for p in child.parameters()))
    _slice_into(child, parent, report, depth_rule, importance)
    log.debug("sliced %s: %.1f%% inherited, seeded %s", cfg.arch_id, 100 * report.share, report.seeded)
    return child, report


def _slice_into(
    child: IFNet,
    parent: IFNet,
    report: SliceReport,
    depth_rule: str,
    importance: Mapping[str, torch.Tensor] | None,
) -> _Copier:
    cfg = child.cfg
    # Slicing indexes CPU tensors; the caller's parent stays where it is.
    src: Any = parent if all(p.device.type == "cpu" for p in parent.parameters()) else copy.deepcopy(parent).cpu()
    named = dict(src.named_parameters())
    cp = _Copier(report, {id(named[k]): v.detach().cpu() for k, v in (importance or {}).items()})
    for ci, block in enumerate(child.blocks):
        pi = nearest_block(parent.cfg, cfg.blocks[ci].scale)
        report.parent_blocks.append(pi)
        _slice_block(cp, block, src.blocks[pi], cfg, parent.cfg, ci, pi, depth_rule)
    for name in ("encode", "corr"):
        if getattr(child, name) is not None:
            report.seeded.append(name)
    return cp


def _start_replaced(
    parent: IFNet,
    cfg: ArchConfig,
    kinds: list[str],
    seed: int,
    depth_rule: str,
    importance: Mapping[str, torch.Tensor] | None,
    batches: Sequence[tuple[torch.Tensor, ...]] | None,
    fit: FitBudget,
) -> tuple[IFNet, SliceReport]:
    """A child with layer kinds the parent lacks: its twin (the parent's kinds) sliced, then each replaced
    layer rewritten or fitted from the twin's."""
    if needs_fit(parent.cfg, cfg) and not batches:
        raise ValueError(f"{cfg.arch_id} changes {', '.join(kinds)}: its start is fitted, pass batches of crops")
    twin = IFNet(twin_config(parent.cfg, cfg))
    init_parameters(twin, seeded_generator(seed))
    twin_report = SliceReport(total=sum(p.numel() for p in twin.parameters()))
    cp = _slice_into(twin, parent, twin_report, depth_rule, importance)
    child = IFNet(cfg)
    init_parameters(child, seeded_generator(seed))
    layers = start_from_twin(child, twin, kinds, batches or [], fit)
    prefixes = [p for s in layers for p in _prefixes(s.name)]
    copied = sum(
        cp.counts.get(id(p), 0) for n, p in twin.named_parameters() if not any(n.startswith(x) for x in prefixes)
    )
    report = SliceReport(
        copied=copied,
        total=sum(p.numel() for p in child.parameters()),
        parent_blocks=twin_report.parent_blocks,
        seeded=twin_report.seeded,
        layers=layers,
    )
    log.debug("started %s: shares %s, seeded %s", cfg.arch_id, report.shares(), report.seeded)
    return child, report


def _prefixes(name: str) -> list[str]:
    """``blocks.0.conv0+convblock`` -> the module prefixes it names."""
    block, _, modules = name.rpartition(".")
    return [f"{block}.{m}." for m in modules.split("+")]
