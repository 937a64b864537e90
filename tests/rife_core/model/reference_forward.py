"""IFNet's forward as first written: concatenate at full resolution, then let each block downsample.

Kept as the reference for the exact rewrites of ``IFNet._forward_padded`` (resizing each input before
concatenating, the timestep plane made at the block's resolution): they must give the same outputs.
"""

from __future__ import annotations

import torch

from rife_core.model.config import FLOW_CH, MASK_CH
from rife_core.model.ifnet import IFNet, IFNetOutput, _frames_then_feats
from rife_core.model.layers import resize


def reference_forward(model: IFNet, img0: torch.Tensor, img1: torch.Tensor, timestep: float = 0.5) -> IFNetOutput:
    """Inputs must already be padded to ``cfg.pad_multiple``."""
    cfg = model.cfg
    t = model._timestep_plane(timestep, img0)
    f0 = model.encode(img0) if model.encode is not None else None
    f1 = model.encode(img1) if model.encode is not None else None
    src0 = img0 if f0 is None else torch.cat((img0, f0), 1)
    src1 = img1 if f1 is None else torch.cat((img1, f1), 1)
    warped0, warped1, warped_scale = src0, src1, 1
    flow = mask = feat = None
    flows, logits = [], []
    for i, (block, bcfg) in enumerate(zip(model.blocks, cfg.blocks, strict=True)):
        s = bcfg.scale
        if flow is None:
            x = torch.cat((*_frames_then_feats(warped0, warped1), t), 1)
        else:
            extra = [t, mask] + ([feat] if feat is not None else []) + [flow / s]
            if block.down is None:
                extra = [resize(e, 1.0 / s) for e in extra]
                w0 = warped0 if warped_scale == s else resize(warped0, warped_scale / s)
                w1 = warped1 if warped_scale == s else resize(warped1, warped_scale / s)
            else:
                w0, w1 = warped0, warped1
            x = torch.cat((*_frames_then_feats(w0, w1), *extra), 1)
        if block.down is not None:
            x = block.down(x)
        if i == 0 and model.corr is not None:
            x = torch.cat((x, model.corr(img0, img1)), 1)
        tmp = block.lastconv(block.convblock(block.conv0(x)))
        delta = tmp[:, :FLOW_CH] * block.lastconv.flow_gain
        flow = delta if flow is None else flow + delta
        mask = tmp[:, FLOW_CH : FLOW_CH + MASK_CH]
        feat = tmp[:, FLOW_CH + MASK_CH : FLOW_CH + MASK_CH + cfg.passed_feat_ch] if cfg.passed_feat_ch else None
        flows.append(flow)
        logits.append(mask)
        if cfg.warps_after(i):
            nxt = cfg.blocks[i + 1].scale if cfg.warp_resolution == "block" else 1
            if nxt == 1:
                warped0, warped1 = model.warp(src0, flow[:, :2]), model.warp(src1, flow[:, 2:4])
            else:
                small = resize(flow, 1.0 / nxt) / nxt
                warped0 = model.warp(resize(src0, 1.0 / nxt), small[:, :2])
                warped1 = model.warp(resize(src1, 1.0 / nxt), small[:, 2:4])
            warped_scale = nxt
    m = torch.sigmoid(logits[-1])
    frame = model.warp(img0, flow[:, :2]) * m + model.warp(img1, flow[:, 2:4]) * (1 - m)
    return IFNetOutput(frame, flows, logits)
