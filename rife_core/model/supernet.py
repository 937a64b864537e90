"""A weight-sharing supernet whose subnets are exactly the ``ArchConfig``s of a search space.

Weights are shared where shapes allow and kept apart where they cannot be (the Once-for-All idea of
elastic layers, written for this family):

- every block's trunk (conv0 and the ResConv stack) has one weight set per (block role, conv type), at the
  largest width and depth; a subnet takes the first ``width`` channels and the first ``depth`` ResConvs;
- a block's role is (scale, first block or not): the first block sees no flow, so its inputs differ;
- learned downsamplers have one set per (role, kind), upsamplers one per (role, kind);
- the context encoder has one set at the largest width; warp policy needs no weights;
- the cost volume's siamese encoder has one set; its correlation channels (one per displacement) have fixed
  positions in the first block's input, so a smaller radius reads the columns of its own displacements;
- channels that come and go with a config (encoder features, passed features) keep fixed positions in a
  canonical input/output layout, so a subnet gathers exactly the rows and columns its config has.

``subnet_parameters(cfg)`` returns, for every parameter name of ``IFNet(cfg)``, a differentiable view of the
shared tensors; ``forward(cfg, ...)`` runs the subnet through ``torch.func.functional_call`` on those views
(gradients reach the shared weights); ``extract(cfg)`` copies them into a stand-alone ``IFNet`` with the
config's exact parameter count and the same outputs.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn
from torch.func import functional_call

from rife_core.model.config import (
    FLOW_CH,
    IMG_CH,
    MASK_CH,
    TIMESTEP_CH,
    V4_BLOCK_CHOICES,
    ArchConfig,
    BlockConfig,
    ConvType,
    DownsampleKind,
    UpsampleKind,
)
from rife_core.model.correlation import CostVolume, displacements
from rife_core.model.ifnet import IFBlock, IFNet, IFNetOutput
from rife_core.model.init import init_parameters
from rife_core.model.layers import Downsample, Head, Upsample
from rife_core.model.presets import create_model

SUBPIXELS = 4  # PixelShuffle(2): each output channel is four consecutive channels before the shuffle


@dataclass(frozen=True)
class SuperSpace:
    """The largest values and the categorical choices a supernet must cover (plain data)."""

    scales: tuple[int, ...]  # every scale any pyramid uses
    max_width: int
    max_depth: int
    conv_types: tuple[ConvType, ...]
    downsamples: tuple[DownsampleKind, ...]
    upsamples: tuple[UpsampleKind, ...]
    max_encoder_width: int
    encoder_ch: int
    max_passed_feat_ch: int
    max_corr_radius: int = 0
    corr_ch: int = 16

    def covers(self, cfg: ArchConfig) -> str | None:
        """None when ``cfg`` is a subnet of this space, else what is outside it."""
        checks = [
            (all(b.scale in self.scales for b in cfg.blocks), f"scales {[b.scale for b in cfg.blocks]}"),
            (all(b.width <= self.max_width for b in cfg.blocks), f"a width above {self.max_width}"),
            (all(b.depth <= self.max_depth for b in cfg.blocks), f"a depth above {self.max_depth}"),
            (cfg.conv_type in self.conv_types, f"conv_type {cfg.conv_type}"),
            (cfg.downsample in self.downsamples, f"downsample {cfg.downsample}"),
            (cfg.upsample in self.upsamples, f"upsample {cfg.upsample}"),
            (cfg.encoder_width <= self.max_encoder_width, f"encoder_width {cfg.encoder_width}"),
            (cfg.encoder_width == 0 or cfg.encoder_ch == self.encoder_ch, f"encoder_ch {cfg.encoder_ch}"),
            (cfg.passed_feat_ch <= self.max_passed_feat_ch, f"passed_feat_ch {cfg.passed_feat_ch}"),
            (cfg.spare_out_ch == 0, "spare output channels"),
            (cfg.corr_radius <= self.max_corr_radius, f"corr_radius {cfg.corr_radius}"),
            (cfg.corr_radius == 0 or cfg.corr_ch == self.corr_ch, f"corr_ch {cfg.corr_ch}"),
            (not cfg.has_prior, f"flow_init {cfg.flow_init} (the supernet shares no weights with a flow prior)"),
            (cfg.upsample != "deconv2", "upsample deconv2 (a parent's head: slice it from the parent instead)"),
            (
                all(getattr(cfg, k) == v for k, v in V4_BLOCK_CHOICES.items()),
                "RIFE v3's choices (PReLU, residual pairs, split heads, both orders, no t): a parent's children",
            ),
        ]
        bad = [what for ok, what in checks if not ok]
        return ", ".join(bad) if bad else None


# --- canonical channel layouts ---------------------------------------------------------------------------
def _input_layout(space: SuperSpace, cfg: ArchConfig, first: bool, with_corr: bool = True) -> list[int]:
    """Positions of block ``cfg``'s input channels within the supernet's widest input.

    ``with_corr``: include the cost volume, which joins the first block's input after its downsampling.
    """
    fc_max, fc = space.encoder_ch if space.max_encoder_width else 0, cfg.feat_ch
    idx = list(range(2 * IMG_CH))  # frame0, frame1
    idx += [2 * IMG_CH + i for i in range(fc)]  # features of frame0
    idx += [2 * IMG_CH + fc_max + i for i in range(fc)]  # features of frame1
    t_pos = 2 * IMG_CH + 2 * fc_max
    idx.append(t_pos)
    if first and with_corr and cfg.corr_radius:
        idx += [t_pos + TIMESTEP_CH + j for j in _displacement_layout(cfg.corr_radius, space.max_corr_radius)]
    if not first:
        idx.append(t_pos + TIMESTEP_CH)  # mask
        feat0 = t_pos + TIMESTEP_CH + MASK_CH
        idx += [feat0 + i for i in range(cfg.passed_feat_ch)]
        idx += [feat0 + space.max_passed_feat_ch + i for i in range(FLOW_CH)]
    return idx


def _max_in_ch(space: SuperSpace, first: bool, with_corr: bool = True) -> int:
    fc = space.encoder_ch if space.max_encoder_width else 0
    n = 2 * IMG_CH + 2 * fc + TIMESTEP_CH
    if first:
        return n + ((2 * space.max_corr_radius + 1) ** 2 if with_corr and space.max_corr_radius else 0)
    return n + MASK_CH + space.max_passed_feat_ch + FLOW_CH


def _output_layout(cfg: ArchConfig) -> list[int]:
    """Positions of the block outputs (flow, mask, passed features) in the widest output."""
    return list(range(FLOW_CH + MASK_CH + cfg.passed_feat_ch))


def _displacement_layout(radius: int, max_radius: int) -> list[int]:
    """Positions of a radius-``radius`` cost volume's channels within the largest one's."""
    where = {d: i for i, d in enumerate(displacements(max_radius))}
    return [where[d] for d in displacements(radius)]


def _subpixel(idx: list[int]) -> list[int]:
    return [c * SUBPIXELS + j for c in idx for j in range(SUBPIXELS)]


def _role(scale: int, first: bool) -> str:
    return f"s{scale}{'f' if first else ''}"


def _key(*parts: str) -> str:
    return "|".join(parts).replace(".", ":")  # ParameterDict keys may not hold dots


class SuperNet(nn.Module):
    """Shared weights for every subnet of ``space``; see the module docstring."""

    def __init__(self, space: SuperSpace, seed: int = 0) -> None:
        super().__init__()
        self.space = space
        self.shared = nn.ParameterDict()
        gen = torch.Generator().manual_seed(seed)
        w, d = space.max_width, space.max_depth
        out_max = FLOW_CH + MASK_CH + space.max_passed_feat_ch
        for first in (True, False):
            in_ch = _max_in_ch(space, first)
            for s in space.scales:
                role = _role(s, first)
                for ct in space.conv_types:
                    cfg = ArchConfig(blocks=(BlockConfig(s, w, d),), conv_type=ct, encoder_width=0, passed_feat_ch=0)
                    block = IFBlock(in_ch, cfg.blocks[0], cfg, downsample=False)
                    self._adopt(block.conv0, _key(role, f"trunk:{ct}", "conv0"), gen)
                    self._adopt(block.convblock, _key(role, f"trunk:{ct}", "convblock"), gen)
                for kind in space.downsamples:
                    if kind != "bilinear" and s > 1:
                        down_ch = _max_in_ch(space, first, with_corr=False)
                        self._adopt(Downsample(down_ch, s, kind), _key(role, f"down:{kind}"), gen)
                for up in space.upsamples:
                    self._adopt(Upsample(w, out_max, s, up), _key(role, f"up:{up}"), gen)
        if space.max_encoder_width:
            self._adopt(Head(space.max_encoder_width, space.encoder_ch), "head", gen)
        if space.max_corr_radius:
            self._adopt(CostVolume(space.max_corr_radius, space.corr_ch, 1).features, "corr:features", gen)

    def _adopt(self, module: nn.Module, prefix: str, gen: torch.Generator) -> None:
        init_parameters(module, gen)
        for name, p in module.named_parameters():
            self.shared[_key(prefix, name)] = nn.Parameter(p.detach().clone())

    # --- subnets -----------------------------------------------------------------------------------
    def _check(self, cfg: ArchConfig) -> None:
        outside = self.space.covers(cfg)
        if outside:
            raise ValueError(f"{cfg.arch_id} is not a subnet of this supernet: {outside}")

    def _source(self, cfg: ArchConfig, name: str) -> tuple[str, list[list[int] | None]]:
        """The shared tensor behind ``IFNet(cfg)``'s parameter ``name`` and the indices to take per dim."""
        if name.startswith("encode."):
            return _key("head", name[len("encode.") :]), []
        if name.startswith("corr.features."):
            return _key("corr:features", name[len("corr.features.") :]), []
        _, index, part, rest = name.split(".", 3)
        i = int(index)
        b = cfg.blocks[i]
        first = i == 0
        role = _role(b.scale, first)
        layout_in = _input_layout(self.space, cfg, first)
        if part in ("conv0", "convblock"):
            key = _key(role, f"trunk:{cfg.conv_type}", part, rest)
            if part == "conv0" and rest.startswith("0.0."):  # the first conv reads the block input
                if cfg.conv_type == "standard":
                    return key, [None, layout_in]
                # depthwise (one filter per input channel), then pointwise from the input channels
                return key, [layout_in] if rest.startswith("0.0.0.") else [None, layout_in]
            return key, []
        if part == "down":
            layout_down = _input_layout(self.space, cfg, first, with_corr=False)
            return _key(role, f"down:{cfg.downsample}", rest), [layout_down, layout_down]
        # lastconv: the output channels follow the canonical output layout
        out = _output_layout(cfg)
        key = _key(role, f"up:{cfg.upsample}", rest)
        if cfg.upsample == "deconv":  # ConvTranspose weight is (in, out, k, k)
            return key, ([None, _subpixel(out)] if rest.endswith("weight") else [_subpixel(out)])
        if cfg.upsample == "dsdeconv":
            return key, ([_subpixel(out)] if rest.startswith("learned.1.") else [])
        if cfg.upsample == "pixelshuffle":
            return key, [_subpixel(out)]
        return key, [out]  # bilinear

    def subnet_parameters(self, cfg: ArchConfig) -> dict[str, torch.Tensor]:
        """``IFNet(cfg)``'s parameters as views of the shared weights (differentiable)."""
        self._check(cfg)
        out = {}
        for name, shape in _template_shapes(cfg):
            key, gathers = self._source(cfg, name)
            t = self.shared[key]
            for dim in range(len(shape)):
                sel = gathers[dim] if dim < len(gathers) else None
                if sel is not None and t.shape[dim] > 1:  # a depthwise weight's size-1 dim has nothing to gather
                    t = t.index_select(dim, torch.as_tensor(sel, device=t.device))
                elif t.shape[dim] != shape[dim]:
                    t = t.narrow(dim, 0, shape[dim])  # elastic width: the first channels
            if tuple(t.shape) != shape:
                raise AssertionError(f"{name}: took {tuple(t.shape)} for {shape}")
            out[name] = t
        return out

    def forward(
        self, cfg: ArchConfig, img0: torch.Tensor, img1: torch.Tensor, timestep: float | torch.Tensor = 0.5
    ) -> IFNetOutput:
        """Run the subnet ``cfg`` on the shared weights."""
        return functional_call(self.template(cfg), self.subnet_parameters(cfg), (img0, img1, timestep), strict=True)

    @staticmethod
    def template(cfg: ArchConfig) -> IFNet:
        """The subnet's module structure; its own weights are never used (losses call its warp and merge)."""
        return _template(cfg)

    def extract(self, cfg: ArchConfig) -> IFNet:
        """A stand-alone ``IFNet(cfg)`` holding copies of its shared weights."""
        model = copy.deepcopy(_template(cfg))  # the structure only: every weight is overwritten below
        with torch.no_grad():
            params = self.subnet_parameters(cfg)
            for name, p in model.named_parameters():
                p.copy_(params[name])
        return model


@lru_cache(maxsize=64)
def _template(cfg: ArchConfig) -> IFNet:
    """The subnet's module structure (its own weights are never used: functional_call replaces them)."""
    return create_model(cfg, seed=0)


def _template_shapes(cfg: ArchConfig) -> list[tuple[str, tuple[int, ...]]]:
    return [(n, tuple(p.shape)) for n, p in _template(cfg).named_parameters()]


def count_shared(space: SuperSpace) -> int:
    """Parameters the supernet holds (for the README and memory estimates)."""
    return sum(p.numel() for p in SuperNet(space).parameters())


__all__ = ["SuperNet", "SuperSpace", "count_shared"]
