"""The configurable RIFE-style IFNet: a coarse-to-fine stack of IFBlocks refining a bidirectional flow."""

from __future__ import annotations

from functools import cached_property

import torch
import torch.nn.functional as F
from torch import nn

from rife_core.model.config import FLOW_CH, IMG_CH, MASK_CH, ArchConfig, BlockConfig
from rife_core.model.correlation import CostVolume
from rife_core.model.flow_prior import dis_prior, prior_mask_logit
from rife_core.model.layers import Downsample, Head, Upsample, conv_act, residual_unit, resize
from rife_core.model.warp import BackwardWarp


class IFNetOutput:
    """What one forward pass returns.

    Attributes:
        frame: the interpolated frame, (B, 3, H, W) in [0, 1].
        flows: per-block accumulated flows (B, 4, H, W) in pixels; channels 0-1 point from the target
            into frame0, 2-3 into frame1.
        masks: per-block fusion masks (B, 1, H, W) after the sigmoid: weight of warped frame0.

    The blocks' flows and mask logits are kept as produced: blocks that keep their output at their own
    resolution (``flow_resolution="block"``) hand over smaller ones, brought to (H, W) only when ``flows`` or
    ``masks`` is first read, so inference, which reads only ``frame``, never pays for them.
    """

    def __init__(
        self,
        frame: torch.Tensor,
        flows: list[torch.Tensor],
        mask_logits: list[torch.Tensor],
        padded: tuple[int, int] | None = None,
    ) -> None:
        """``padded``: the (H, W) the network ran at, when larger than ``frame``'s (outputs are cropped)."""
        self.frame = frame
        self.block_flows, self.mask_logits = flows, mask_logits
        self._padded = padded or tuple(frame.shape[-2:])

    @cached_property
    def flows(self) -> list[torch.Tensor]:
        return [self._full(f) for f in self.block_flows]

    @cached_property
    def masks(self) -> list[torch.Tensor]:
        return [torch.sigmoid(self._full(m)) for m in self.mask_logits]

    def _full(self, x: torch.Tensor) -> torch.Tensor:
        h, w = self.frame.shape[-2:]
        x = resize(x, self._padded[-1] // x.shape[-1])  # resizing keeps flows in full-resolution pixels
        return x[..., :h, :w]


class IFBlock(nn.Module):
    """One pyramid level: downsample, conv0 (two stride-2 convs), residual trunk, upsample (to full resolution,
    or to the block's own 1/scale with ``flow_resolution="block"``).

    With ``split_heads`` the flow has an upsampler of its own (``lastconv``) and ``maskconv`` emits the
    rest; either way the block returns one tensor, flow channels first.
    """

    def __init__(self, in_ch: int, block: BlockConfig, cfg: ArchConfig, downsample: bool, extra_ch: int = 0) -> None:
        super().__init__()
        self.scale = block.scale
        act = cfg.activation
        # With low-resolution warping the caller hands inputs already at 1/scale.
        self.down = Downsample(in_ch, block.scale, cfg.downsample, act) if downsample else None
        self.conv0 = nn.Sequential(  # ``extra_ch``: channels joined after the downsampling (the cost volume)
            conv_act(in_ch + extra_ch, block.width // 2, 2, cfg.conv_type, act),
            conv_act(block.width // 2, block.width, 2, cfg.conv_type, act),
        )
        self.convblock = nn.Sequential(
            *[residual_unit(cfg.residual, block.width, cfg.conv_type, act) for _ in range(block.depth)]
        )
        to_full = cfg.flow_resolution == "full"
        head_ch = FLOW_CH if cfg.split_heads else cfg.out_ch
        self.lastconv = Upsample(block.width, head_ch, block.scale, cfg.upsample, to_full=to_full, act=act)
        self.maskconv = (
            Upsample(block.width, cfg.out_ch - FLOW_CH, block.scale, cfg.upsample, to_full=to_full, act=act)
            if cfg.split_heads
            else None
        )

    @property
    def learned_down(self) -> bool:
        """Whether this block brings its input down with learned convolutions (they read full resolution)."""
        return self.down is not None and self.down.convs is not None

    def forward(self, x: torch.Tensor, cost: torch.Tensor | None = None) -> torch.Tensor:
        """``x``: the block input already at 1/scale (``IFNet`` brings it down); ``cost``: a cost volume."""
        if cost is not None:
            x = torch.cat((x, cost), 1)
        feat = self.convblock(self.conv0(x))
        if self.maskconv is None:
            return self.lastconv(feat)
        return torch.cat((self.lastconv(feat), self.maskconv(feat)), 1)


class IFNet(nn.Module):
    """Builds the network an ``ArchConfig`` describes.

    Forward takes two frames in [0, 1] of any size and a timestep t in (0, 1) (a float or one value per
    batch item) and returns an ``IFNetOutput``. Frames are padded (replicate) to ``cfg.pad_multiple`` and
    the outputs cropped back.
    """

    def __init__(self, cfg: ArchConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.encode = Head(cfg.encoder_width, cfg.encoder_ch) if cfg.encoder_width > 0 else None
        full_res = cfg.warp_resolution == "full"
        self.blocks = nn.ModuleList(
            # Block 0 sees raw frames, so it always downsamples itself.
            IFBlock(
                cfg.block_in_ch(i), b, cfg, downsample=full_res or i == 0, extra_ch=cfg.corr_planes if i == 0 else 0
            )
            for i, b in enumerate(cfg.blocks)
        )
        self.warp = BackwardWarp()
        self.corr = CostVolume(cfg.corr_radius, cfg.corr_ch, cfg.blocks[0].scale) if cfg.corr_radius else None

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        img0: torch.Tensor,
        img1: torch.Tensor,
        timestep: float | torch.Tensor = 0.5,
        flow_init: torch.Tensor | None = None,
    ) -> IFNetOutput:
        """``flow_init``: the (B, 4, H, W) prior of ``cfg.flow_init`` computed elsewhere (the ONNX graph takes
        it as an input); None computes it here (``flow_prior.dis_prior``). Refused without ``cfg.flow_init``."""
        if img0.shape != img1.shape or img0.dim() != 4 or img0.shape[1] != 3:
            raise ValueError(
                f"img0 and img1 must both be (B, 3, H, W); got {tuple(img0.shape)} and {tuple(img1.shape)}"
            )
        b, _, h, w = img0.shape
        self._timestep_plane(timestep, img0)  # checks the batch size before any work
        # The check reads t's value, which tracing and export (graphs without control flow on data) cannot.
        if not self.cfg.timestep_input and not (torch.jit.is_tracing() or torch.compiler.is_compiling()):
            t = torch.as_tensor(timestep, dtype=torch.float64)
            if not bool(torch.all(t == 0.5)):
                raise ValueError(
                    "this architecture has no timestep input (timestep_input=False): it computes the middle frame "
                    f"only (t = 0.5), got t = {t.flatten().tolist()[:4]}; halve recursively for other times"
                )
        # Once per forward, not once per block: every block's plane is a view of this tensor.
        timestep = torch.as_tensor(timestep, dtype=img0.dtype, device=img0.device).reshape(-1, 1, 1, 1)
        if flow_init is not None and not self.cfg.has_prior:
            raise ValueError("flow_init given, but this architecture has no flow prior (cfg.flow_init='none')")
        if self.cfg.has_prior:
            if flow_init is None:
                flow_init = dis_prior(img0, img1, timestep, self.cfg.flow_init)
            elif flow_init.shape != (b, FLOW_CH, h, w):
                raise ValueError(f"flow_init must be (B, 4, H, W) = {(b, FLOW_CH, h, w)}; got {tuple(flow_init.shape)}")
        padded_h, padded_w = self.cfg.padded_size(h, w)
        ph, pw = padded_h - h, padded_w - w
        if ph or pw:
            img0 = F.pad(img0, (0, pw, 0, ph), mode="replicate")
            img1 = F.pad(img1, (0, pw, 0, ph), mode="replicate")
            if flow_init is not None:
                flow_init = F.pad(flow_init, (0, pw, 0, ph), mode="replicate")
        out = self._forward_padded(img0, img1, timestep, flow_init)
        if ph or pw:
            out = IFNetOutput(out.frame[..., :h, :w], out.block_flows, out.mask_logits, padded=(padded_h, padded_w))
        return out

    @staticmethod
    def _timestep_plane(timestep: float | torch.Tensor, like: torch.Tensor, scale: int = 1) -> torch.Tensor:
        """t as a (B, 1, H/scale, W/scale) plane (a broadcast view: constant, so no resize is needed)."""
        b, _, h, w = like.shape
        t = torch.as_tensor(timestep, dtype=like.dtype, device=like.device).reshape(-1, 1, 1, 1)
        if t.shape[0] not in (1, b):
            raise ValueError(f"timestep has {t.shape[0]} values for a batch of {b}")
        return t.expand(b, 1, h // scale, w // scale)

    def _forward_padded(
        self, img0: torch.Tensor, img1: torch.Tensor, timestep: torch.Tensor, prior: torch.Tensor | None
    ) -> IFNetOutput:
        cfg = self.cfg
        f0 = self.encode(img0) if self.encode is not None else None
        f1 = self.encode(img1) if self.encode is not None else None
        # "Sources" are what gets warped: the frames plus their encoder features.
        src0 = img0 if f0 is None else torch.cat((img0, f0), 1)
        src1 = img1 if f1 is None else torch.cat((img1, f1), 1)
        warped0, warped1 = src0, src1  # not yet warped: the first blocks see the frames as they are
        warped_scale = 1  # resolution factor of warped0/warped1
        state_scale = 1  # resolution factor of flow, mask and feat (below full with flow_resolution="block")
        flow = mask = feat = None
        flows, mask_logits = [], []
        if prior is not None:  # the first block refines the prior as later blocks refine their predecessor
            prior_logit = prior_mask_logit(timestep)
            flow, mask = prior, prior_logit.expand(img0.shape[0], 1, *img0.shape[2:])
            nxt = cfg.blocks[0].scale if cfg.warp_resolution == "block" else 1
            warped0 = self._warp_at(src0, flow[:, :2], 1, nxt)
            warped1 = self._warp_at(src1, flow[:, 2:4], 1, nxt)
            warped_scale = nxt
        for i, (block, bcfg) in enumerate(zip(self.blocks, cfg.blocks, strict=True)):
            s = bcfg.scale
            # The block sees the flow in pixels of its own resolution, as RIFE's IFBlock rescales it.
            state = [] if flow is None else [mask] + ([feat] if feat is not None else []) + [flow / s]
            frames = _frames_then_feats(warped0, warped1)
            x = self._block_input(block, frames, timestep, img0, state, warped_scale, state_scale, s)
            cost = self.corr(img0, img1) if i == 0 and self.corr is not None else None
            if cfg.both_orders:
                # The same block on the swapped order, batched with the first: frames swapped, mask negated,
                # flow halves swapped, 1 - t; its outputs are mapped back the same way and averaged.
                swapped = [] if flow is None else [-mask, _swap_flow(flow) / s]
                x_sw = self._block_input(
                    block,
                    _frames_then_feats(warped1, warped0),
                    1 - timestep,
                    img0,
                    swapped,
                    warped_scale,
                    state_scale,
                    s,
                )
                tmp, tmp_sw = block(torch.cat((x, x_sw), 0)).chunk(2, 0)
                tmp = torch.cat(
                    (
                        (tmp[:, :FLOW_CH] + _swap_flow(tmp_sw[:, :FLOW_CH])) / 2,
                        (tmp[:, FLOW_CH : FLOW_CH + MASK_CH] - tmp_sw[:, FLOW_CH : FLOW_CH + MASK_CH]) / 2,
                        (tmp[:, FLOW_CH + MASK_CH :] + tmp_sw[:, FLOW_CH + MASK_CH :]) / 2,
                    ),
                    1,
                )
            else:
                tmp = block(x, cost)
            delta = tmp[:, :FLOW_CH] * block.lastconv.flow_gain
            grid = block.lastconv.out_scale  # the resolution factor of this block's outputs
            if flow is not None and grid != state_scale:
                flow = resize(flow, state_scale / grid)
                if cfg.mask_update == "residual":
                    mask = resize(mask, state_scale / grid)
            flow = delta if flow is None else flow + delta
            state_scale = grid
            m_new = tmp[:, FLOW_CH : FLOW_CH + MASK_CH]
            if cfg.mask_update == "residual" and mask is not None:
                mask = mask + m_new  # v3: mask logits accumulate as the flow does (a prior's logit starts them)
            elif prior is not None:  # with a prior, masks are relative to the baseline's blend weights
                mask = m_new + prior_logit
            else:
                mask = m_new
            feat = tmp[:, FLOW_CH + MASK_CH : FLOW_CH + MASK_CH + cfg.passed_feat_ch] if cfg.passed_feat_ch else None
            flows.append(flow)
            mask_logits.append(mask)
            if cfg.warps_after(i):
                nxt = cfg.blocks[i + 1].scale if cfg.warp_resolution == "block" else 1
                warped0 = self._warp_at(src0, flow[:, :2], state_scale, nxt)
                warped1 = self._warp_at(src1, flow[:, 2:4], state_scale, nxt)
                warped_scale = nxt
        # The final merge always warps the frames at full resolution.
        flow, m = resize(flow, state_scale), torch.sigmoid(resize(mask, state_scale))
        frame = self.warp(img0, flow[:, :2]) * m + self.warp(img1, flow[:, 2:4]) * (1 - m)
        return IFNetOutput(frame, flows, mask_logits)

    def _block_input(
        self,
        block: IFBlock,
        frames: tuple[torch.Tensor, ...],
        timestep: torch.Tensor,
        like: torch.Tensor,
        state: list[torch.Tensor],
        warped_scale: int,
        state_scale: int,
        s: int,
    ) -> torch.Tensor:
        """Block input at 1/``s``: frames (and features), the t plane where the blocks read one, the state."""
        tplane = (
            [self._timestep_plane(timestep, like, 1 if block.learned_down else s)] if self.cfg.timestep_input else []
        )
        if block.learned_down:  # learned downsampling reads the full-resolution concatenation
            state = [resize(e, state_scale) for e in state]
            return block.down(torch.cat((*frames, *tplane, *state), 1))
        # Bilinear resizing is per channel, so resizing each input before concatenating equals resizing the
        # concatenation (RIFE), without a full-resolution concatenation.
        return torch.cat(
            (
                *(self._at_scale(f, warped_scale, s) for f in frames),
                *tplane,
                *(resize(e, state_scale / s) for e in state),
            ),
            1,
        )

    def _warp_at(self, src: torch.Tensor, flow: torch.Tensor, flow_scale: int, scale: int) -> torch.Tensor:
        """Warp full-resolution ``src`` at 1/``scale`` by ``flow`` (full-resolution pixels, at 1/``flow_scale``)."""
        if flow_scale != scale:
            flow = resize(flow, flow_scale / scale)  # onto the target grid
        if scale != 1:
            flow = flow / scale  # into the target grid's pixels
        return self.warp(src if scale == 1 else resize(src, 1.0 / scale), flow)

    @staticmethod
    def _at_scale(x: torch.Tensor, current: int, target: int) -> torch.Tensor:
        return x if current == target else resize(x, current / target)

    def merge(self, img0: torch.Tensor, img1: torch.Tensor, flow: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Fuse two frames warped by ``flow`` with ``mask`` (after sigmoid), e.g. for deep supervision."""
        return self.warp(img0, flow[:, :2]) * mask + self.warp(img1, flow[:, 2:4]) * (1 - mask)


class FrameOnly(nn.Module):
    """``model(img0, img1, t).frame`` as a plain tensor output, for tracers and exporters."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(
        self, img0: torch.Tensor, img1: torch.Tensor, t: torch.Tensor, flow_init: torch.Tensor | None = None
    ) -> torch.Tensor:
        if flow_init is None:
            return self.model(img0, img1, t).frame
        return self.model(img0, img1, t, flow_init).frame


def example_inputs(cfg: ArchConfig | None, size: tuple[int, int], timestep: float = 0.5) -> tuple[torch.Tensor, ...]:
    """``FrameOnly``'s inputs for probes, tracing and export at ``size``: img0, img1 (random, from a private
    generator), t and, with a prior, flow_init (zeros: its values change neither the graph nor the count).
    ``cfg`` None: a model without a config (or without a prior)."""
    g = torch.Generator().manual_seed(0)
    h, w = size
    x = (torch.rand(1, 3, h, w, generator=g), torch.rand(1, 3, h, w, generator=g), torch.full((1,), timestep))
    return (*x, torch.zeros(1, FLOW_CH, h, w)) if cfg is not None and cfg.has_prior else x


def _swap_flow(flow: torch.Tensor) -> torch.Tensor:
    """The two flows exchanged: what the other frame order calls flow to frame0 is flow to frame1."""
    return torch.cat((flow[:, 2:4], flow[:, :2]), 1)


def _frames_then_feats(w0: torch.Tensor, w1: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """RIFE v4's channel order: frame0, frame1, then feature0, feature1."""
    if w0.shape[1] == IMG_CH:
        return (w0, w1)
    return (w0[:, :IMG_CH], w1[:, :IMG_CH], w0[:, IMG_CH:], w1[:, IMG_CH:])
