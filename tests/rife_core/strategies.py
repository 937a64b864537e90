"""Hypothesis strategies over the whole ArchConfig family."""

from __future__ import annotations

from hypothesis import strategies as st

from rife_core.model.config import (
    ACTIVATIONS,
    CONV_TYPES,
    DOWNSAMPLE_TYPES,
    FLOW_RESOLUTIONS,
    MASK_UPDATES,
    RESIDUAL_UNITS,
    UPSAMPLE_TYPES,
    ArchConfig,
    BlockConfig,
)


@st.composite
def arch_configs(draw: st.DrawFn, max_width: int = 48, max_depth: int = 3) -> ArchConfig:
    """Any valid architecture: 1-5 blocks with decreasing power-of-two scales and every option."""
    n = draw(st.integers(1, 5))
    top = draw(st.integers(n - 1, 4))  # log2 of the coarsest scale
    exps = sorted(draw(st.lists(st.integers(0, top), min_size=n, max_size=n)), reverse=True)
    blocks = tuple(
        BlockConfig(2**e, 2 * draw(st.integers(1, max_width // 2)), draw(st.integers(0, max_depth))) for e in exps
    )
    warp_resolution = draw(st.sampled_from(("full", "block")))
    downsample = "bilinear" if warp_resolution == "block" else draw(st.sampled_from(DOWNSAMPLE_TYPES))
    encoder_width = draw(st.sampled_from((0, 4, 8, 16)))
    both_orders = draw(st.booleans())
    return ArchConfig(
        blocks=blocks,
        conv_type=draw(st.sampled_from(CONV_TYPES)),
        downsample=downsample,
        upsample=draw(st.sampled_from(UPSAMPLE_TYPES)),
        warp_every=draw(st.integers(0, 3)),
        warp_resolution=warp_resolution,
        encoder_width=encoder_width,
        encoder_ch=draw(st.integers(1, 8)),
        passed_feat_ch=0 if both_orders else draw(st.integers(0, 8)),
        spare_out_ch=draw(st.integers(0, 2)),
        flow_resolution=draw(st.sampled_from(FLOW_RESOLUTIONS)),
        activation=draw(st.sampled_from(ACTIVATIONS)),
        residual=draw(st.sampled_from(RESIDUAL_UNITS)),
        split_heads=draw(st.booleans()),
        mask_update=draw(st.sampled_from(MASK_UPDATES)),
        both_orders=both_orders,
        timestep_input=draw(st.booleans()),
    )
