"""Immutable, serialisable description of one RIFE-style IFNet architecture.

Every architecture of the search space, and the Practical-RIFE reference models, is an ``ArchConfig``.
The builder (``rife_core.model.ifnet.IFNet``) and the analytic parameter count (``rife_core.cost.params``) both
read only this description, so a stored config rebuilds exactly the same network.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, get_args

# Named channel counts; block input widths are computed from these, never written as literals.
IMG_CH = 3  # RGB frame
FLOW_CH = 4  # two 2-D flows: middle->frame0 and middle->frame1
MASK_CH = 1  # fusion mask logit
TIMESTEP_CH = 1  # constant plane holding t in (0, 1)

ConvType = Literal["standard", "dsconv"]
DownsampleKind = Literal["bilinear", "conv", "dsconv"]
UpsampleKind = Literal["bilinear", "deconv", "dsdeconv", "pixelshuffle", "deconv2", "subpixel2"]
Activation = Literal["leaky_relu", "prelu"]
ResidualUnit = Literal["resconv", "pair"]
MaskUpdate = Literal["replace", "residual"]
Resolution = Literal["full", "block"]
# A classical flow prior the first block refines: OpenCV DIS both ways at one of its presets ("none" = RIFE).
FlowInit = Literal["none", "dis_ultrafast", "dis_fast", "dis_medium"]
# The same choices as data, for validation and messages.
CONV_TYPES: tuple[str, ...] = get_args(ConvType)
DOWNSAMPLE_TYPES: tuple[str, ...] = get_args(DownsampleKind)
UPSAMPLE_TYPES: tuple[str, ...] = get_args(UpsampleKind)
WARP_RESOLUTIONS: tuple[str, ...] = get_args(Resolution)
FLOW_RESOLUTIONS: tuple[str, ...] = get_args(Resolution)
FLOW_INITS: tuple[str, ...] = get_args(FlowInit)
ACTIVATIONS: tuple[str, ...] = get_args(Activation)
RESIDUAL_UNITS: tuple[str, ...] = get_args(ResidualUnit)
MASK_UPDATES: tuple[str, ...] = get_args(MaskUpdate)
OFF_WHEN_NO_CORR = ("corr_radius", "corr_ch")
# Fields added after architectures were first stored: written only when they differ from this default.
# RIFE v4's block choices, the defaults of the fields that express RIFE v3.
V4_BLOCK_CHOICES: dict[str, Any] = {
    "activation": "leaky_relu",
    "residual": "resconv",
    "split_heads": False,
    "mask_update": "replace",
    "both_orders": False,
    "timestep_input": True,
}
WRITTEN_WHEN_SET: dict[str, Any] = {"flow_resolution": "full", "flow_init": "none", **V4_BLOCK_CHOICES}


class ConfigError(ValueError):
    """An architecture description that cannot be built; the message names the field and the fix."""


def _is_power_of_two(n: int) -> bool:
    return n >= 1 and (n & (n - 1)) == 0


@dataclass(frozen=True)
class BlockConfig:
    """One IFBlock of the coarse-to-fine pyramid."""

    scale: int  # the block works on the input downsampled by this factor (RIFE's scale_list entry)
    width: int  # channels of the block's trunk (RIFE's ``c``); conv0 goes in -> width//2 -> width
    depth: int  # residual units in the trunk (``ArchConfig.residual``; 8 ResConvs in Practical-RIFE v4, 4 pairs in v3)

    def validate(self, index: int) -> None:
        if not _is_power_of_two(self.scale):
            raise ConfigError(f"blocks[{index}].scale={self.scale}: use a power of two such as 1, 2, 4, 8, 16")
        if self.width < 2 or self.width % 2:
            raise ConfigError(f"blocks[{index}].width={self.width}: use an even width >= 2 (conv0 halves it)")
        if self.depth < 0:
            raise ConfigError(f"blocks[{index}].depth={self.depth}: use 0 or more ResConv layers")


@dataclass(frozen=True)
class ArchConfig:
    """A whole IFNet: the blocks plus the choices shared by all of them.

    The defaults are Practical-RIFE v4's choices; see ``rife_core.presets`` for named variants.
    """

    blocks: tuple[BlockConfig, ...]  # the pyramid, coarsest first: one IFBlock each
    conv_type: ConvType = "standard"  # conv0 and ResConv: "standard" 3x3 or "dsconv" (depthwise 3x3 + pointwise 1x1)
    # How a block brings its full-resolution input down by ``scale``: RIFE's bilinear resize, or a chain of
    # log2(scale) learned stride-2 3x3 convolutions ("conv") or depthwise-separable ones ("dsconv").
    downsample: DownsampleKind = "bilinear"
    # How a block's trunk output returns to full resolution. "deconv" is RIFE v4: ConvTranspose2d(c, 4k, 4, 2, 1)
    # + PixelShuffle(2), then bilinear by ``scale``. "dsdeconv": depthwise ConvTranspose2d + pointwise conv +
    # PixelShuffle(2). "pixelshuffle": 3x3 conv to 4k + PixelShuffle(2), then bilinear by 2*scale.
    # "bilinear": 3x3 conv to k at the trunk's resolution, then bilinear by 4*scale. "deconv2" is RIFE v3:
    # ConvTranspose2d(c, c/2, 4, 2, 1) + activation + ConvTranspose2d(c/2, k, 4, 2, 1), then bilinear by scale.
    upsample: UpsampleKind = "deconv"
    # Re-warp frames (and encoder features) for the next block after every k-th block; 1 = after every
    # block (RIFE), 0 = never between blocks (only the final merge warps).
    warp_every: int = 1
    # "full": warp at full resolution, then the next block downsamples (RIFE). "block": warp the frames
    # already downsampled to the next block's resolution (cheaper); the final merge always warps at full.
    warp_resolution: Resolution = "full"
    encoder_width: int = 16  # Head's hidden width; 0 turns the context encoder off (RIFE v4.25: 16)
    encoder_ch: int = 4  # per-frame feature channels the Head emits (RIFE v4.25: 4)
    passed_feat_ch: int = 8  # hidden channels a block hands to the next (v4.25: 8, v4.15-lite: 0)
    # Output channels computed but read by nothing; v4.15-lite's ConvT emits 6 = 4 flow + 1 mask + 1 spare.
    spare_out_ch: int = 0
    # Local correlation (cost volume) of the two frames at the first block's input resolution, displacements
    # up to ``corr_radius`` pixels of that resolution each way (see ``rife_core.model.correlation``); 0 = off.
    corr_radius: int = 0
    corr_ch: int = 16  # feature channels the cost volume's siamese encoder correlates
    # Where a block's output (flow, mask, passed features) lives. "full": upsampled to full resolution, and
    # the next block shrinks it again (RIFE). "block": left where the upsampler's learned part puts it
    # (1/scale for deconv kinds, 1/(2*scale) pixelshuffle, 1/(4*scale) bilinear), handed to the next block by
    # one resize, brought to full resolution only for the final merge. Changes the function (up then down is
    # a blur), not the weights.
    flow_resolution: Resolution = "full"
    # Start from a classical flow instead of none: OpenCV DIS both ways, scaled to time t (see
    # ``rife_core.model.flow_prior``). The first block then sees frames warped by it, the flow and the
    # blend's mask, as later blocks see their predecessor's, and learns a residual; every block's mask is
    # relative to the baseline's blend weights (logit(1 - t)). Not a neural cost: its
    # time is part of measured latency, not of MACs. A hybrid beyond RIFE; "none" is RIFE.
    flow_init: FlowInit = "none"
    # The nonlinearity of the blocks (conv0, residual units, learned downsamplers, deconv2's hidden layer):
    # LeakyReLU(0.2) as RIFE v4, or PReLU with one learned slope per channel as RIFE v3. The context encoder
    # and the cost volume keep v4's LeakyReLU.
    activation: Activation = "leaky_relu"
    # The trunk's residual unit: "resconv" is v4's act(conv(x) * beta + x); "pair" is v3's
    # x + act(conv(act(conv(x)))), two convolutions per unit (a block's ``depth`` counts units).
    residual: ResidualUnit = "resconv"
    # One upsampler emitting flow, mask and passed features together (v4), or two of ``upsample``'s kind:
    # one for the flow, one for the mask and the rest (v3's conv1 and conv2).
    split_heads: bool = False
    # Each block's mask logit replaces its predecessor's ("replace", v4) or is added to it ("residual", v3).
    mask_update: MaskUpdate = "replace"
    # Run every block on both frame orders and average (v3): the second pass sees the frames swapped, the mask
    # negated, the flow's halves swapped and 1 - t, and its outputs are mapped back the same way. Twice a
    # block's MACs for an estimate symmetric in the two frames.
    both_orders: bool = False
    # Whether the blocks read a plane holding t (v4). Without it (v3) the network computes the middle frame
    # only, t = 0.5; a video is then multiplied by recursive halving.
    timestep_input: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "blocks", tuple(self.blocks))
        self.validate()

    # --- derived quantities -------------------------------------------------------------------------
    @property
    def feat_ch(self) -> int:
        """Encoder channels per frame actually fed to the blocks (0 when the encoder is off)."""
        return self.encoder_ch if self.encoder_width > 0 else 0

    @property
    def out_ch(self) -> int:
        """Channels each block predicts at full resolution: flow residual, mask, passed features, spare."""
        return FLOW_CH + MASK_CH + self.passed_feat_ch + self.spare_out_ch

    @property
    def corr_planes(self) -> int:
        """Cost-volume channels the first block's conv0 reads besides its input: one per displacement."""
        return (2 * self.corr_radius + 1) ** 2 if self.corr_radius else 0

    def block_in_ch(self, index: int) -> int:
        """Input channels of block ``index`` (named arithmetic, see RIFE v4's ``7+8`` and ``8+4+8+8``)."""
        first = 2 * IMG_CH + 2 * self.feat_ch + (TIMESTEP_CH if self.timestep_input else 0)
        # The first block has no mask or flow to read (RIFE v3 hands it all-zero planes, which add nothing to
        # a convolution, so the family leaves them out); with a prior it reads the prior's (no passed features).
        if index == 0:
            return first + (MASK_CH + FLOW_CH if self.has_prior else 0)
        return first + MASK_CH + self.passed_feat_ch + FLOW_CH

    @property
    def has_prior(self) -> bool:
        """Whether the network starts from a classical flow (``flow_init``) computed outside the network."""
        return self.flow_init != "none"

    @property
    def pad_multiple(self) -> int:
        """Input H and W are padded to a multiple of this: scale, then conv0's two stride-2 convs."""
        return 4 * max(b.scale for b in self.blocks)

    def padded_size(self, h: int, w: int) -> tuple[int, int]:
        """(H, W) after padding up to ``pad_multiple``."""
        m = self.pad_multiple
        return -(-h // m) * m, -(-w // m) * m

    def warps_after(self, index: int) -> bool:
        """Whether frames are re-warped after block ``index`` for the next block."""
        if index >= len(self.blocks) - 1:
            return False
        return self.warp_every > 0 and (index + 1) % self.warp_every == 0

    # --- validation ---------------------------------------------------------------------------------
    def validate(self) -> None:
        if not self.blocks:
            raise ConfigError("blocks is empty: give at least one block, e.g. [{scale: 1, width: 32, depth: 2}]")
        for i, b in enumerate(self.blocks):
            if not isinstance(b, BlockConfig):
                raise ConfigError(f"blocks[{i}] is {type(b).__name__}, expected BlockConfig")
            b.validate(i)
        choices = {
            "conv_type": CONV_TYPES,
            "downsample": DOWNSAMPLE_TYPES,
            "upsample": UPSAMPLE_TYPES,
            "warp_resolution": WARP_RESOLUTIONS,
            "flow_resolution": FLOW_RESOLUTIONS,
            "flow_init": FLOW_INITS,
            "activation": ACTIVATIONS,
            "residual": RESIDUAL_UNITS,
            "mask_update": MASK_UPDATES,
        }
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ConfigError(f"{name}={getattr(self, name)!r}: choose one of {', '.join(allowed)}")
        if self.warp_every < 0:
            raise ConfigError(f"warp_every={self.warp_every}: use 1 (every block), k > 1, or 0 (final only)")
        if self.warp_resolution == "block" and self.downsample != "bilinear":
            # Low-resolution warping hands the block inputs that are already at its resolution, so there is
            # nothing left for a learned downsampler to do.
            raise ConfigError("warp_resolution='block' needs downsample='bilinear'")
        for name in ("encoder_width", "encoder_ch", "passed_feat_ch", "spare_out_ch"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name}={getattr(self, name)} must be >= 0")
        if self.encoder_width > 0 and self.encoder_ch < 1:
            raise ConfigError("encoder_ch must be >= 1 when the encoder is on (or set encoder_width=0)")
        if self.corr_radius < 0:
            raise ConfigError(f"corr_radius={self.corr_radius}: use 0 (no cost volume) or a radius >= 1")
        if self.corr_radius and (self.corr_ch < 2 or self.corr_ch % 2):
            raise ConfigError(f"corr_ch={self.corr_ch}: use an even number >= 2 (its encoder halves it first)")
        if self.both_orders:
            # Each of these has a frame order of its own that the swapped pass would have to mirror.
            clashes = {
                "passed_feat_ch": self.passed_feat_ch,
                "corr_radius": self.corr_radius,
                "flow_init": self.flow_init != "none",
            }
            if on := [k for k, v in clashes.items() if v]:
                raise ConfigError(
                    f"both_orders=True needs {', '.join(on)} off (passed_feat_ch=0, corr_radius=0, flow_init='none'): "
                    "their inputs have a frame order the swapped pass cannot mirror"
                )

    # --- serialisation ------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Plain data; the cost volume's fields are written only when it is on, ``WRITTEN_WHEN_SET`` ones only
        when not at their default.

        Leaving them out keeps the description (and so ``arch_id``, the initial weights seeded from it, and
        stored checkpoints) of every architecture that does not use them what it was before they existed.
        """
        d = asdict(self)
        d["blocks"] = [asdict(b) for b in self.blocks]
        if not self.corr_radius:
            for name in OFF_WHEN_NO_CORR:
                d.pop(name)
        for name, default in WRITTEN_WHEN_SET.items():
            if d[name] == default:
                d.pop(name)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ArchConfig:
        data = dict(data)
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown config field(s) {unknown}; known fields: {sorted(known)}")
        try:
            blocks = tuple(BlockConfig(**b) for b in data.pop("blocks"))
        except KeyError as e:
            raise ConfigError("config has no 'blocks' list") from e
        except TypeError as e:
            raise ConfigError(f"bad block entry: {e}; each block needs scale, width, depth") from e
        return cls(blocks=blocks, **data)

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(), sort_keys=True, indent=indent)

    @classmethod
    def from_json(cls, text: str) -> ArchConfig:
        return cls.from_dict(json.loads(text))

    @property
    def arch_id(self) -> str:
        """Short content hash: equal configs give equal ids across processes and machines."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]

    def replace(self, **changes: Any) -> ArchConfig:
        return replace(self, **changes)


def uniform_blocks(scales: list[int], widths: list[int], depth: int | list[int]) -> tuple[BlockConfig, ...]:
    """Blocks from parallel lists; ``depth`` may be one number for all blocks."""
    depths = [depth] * len(scales) if isinstance(depth, int) else list(depth)
    if not (len(scales) == len(widths) == len(depths)):
        raise ConfigError(f"scales, widths and depths differ in length: {scales}, {widths}, {depths}")
    return tuple(BlockConfig(s, w, d) for s, w, d in zip(scales, widths, depths, strict=True))


__all__ = [
    "ACTIVATIONS",
    "CONV_TYPES",
    "DOWNSAMPLE_TYPES",
    "FLOW_CH",
    "FLOW_INITS",
    "FLOW_RESOLUTIONS",
    "IMG_CH",
    "MASK_CH",
    "MASK_UPDATES",
    "RESIDUAL_UNITS",
    "TIMESTEP_CH",
    "UPSAMPLE_TYPES",
    "V4_BLOCK_CHOICES",
    "WARP_RESOLUTIONS",
    "ArchConfig",
    "BlockConfig",
    "ConfigError",
    "uniform_blocks",
]
