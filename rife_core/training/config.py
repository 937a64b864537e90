"""What a training run is: stages (progressive training), optimiser, loss, validation, data."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from rife_core.training.losses import BACKBONE_OF_TERM, DEFAULT_LOSS, PARENT_TERMS


@dataclass(frozen=True)
class Stage:
    """One stage of progressive training; the budget is ``steps``, ``seconds``, or whichever ends first."""

    steps: int | None = 1000
    seconds: float | None = None
    crop: int = 128  # square training crop (RIFE trains at 224; small crops first, larger later)
    batch_size: int = 8
    lr: float = 3e-4  # peak learning rate of this stage
    p_resize: float = 0.0  # probability of random resize before cropping (large-motion remedy)
    resize_range: tuple[float, float] = (0.5, 2.0)
    loss: dict[str, float] | None = None  # this stage's loss terms (e.g. a perceptual fine-tune); None: the run's

    def __post_init__(self) -> None:
        if self.steps is None and self.seconds is None:
            raise ValueError("a stage needs a budget: steps, seconds, or both")
        if (self.steps is not None and self.steps < 1) or (self.seconds is not None and self.seconds <= 0):
            raise ValueError(f"stage budget must be positive, got steps={self.steps}, seconds={self.seconds}")


@dataclass(frozen=True)
class TrainConfig:
    data: tuple[str, ...] = ("default",)  # training specs (name:path), concatenated
    val_data: tuple[str, ...] | None = None  # None: the validation split of ``data``
    synthetic_ratio: float = 0.0  # share of synthetic large-motion triplets mixed into training
    stages: tuple[Stage, ...] = (Stage(),)
    loss: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_LOSS))
    weight_decay: float = 1e-4
    warmup_steps: int = 50  # linear warm-up at the start of each stage, then cosine to min_lr_ratio
    min_lr_ratio: float = 0.01
    grad_clip: float = 1.0  # max global gradient norm
    # Validate and keep an exponential moving average of the weights (e.g. 0.999); None: the last step's.
    ema_decay: float | None = None
    seed: int = 0
    val_every: int = 250  # steps between validations (and at the end)
    val_items: int | None = 64  # validation triplets used (evenly spread); None = all
    val_crop: int | None = 256  # centre crop for validation batches; None = whole frames, batch 1
    val_lpips: bool = False
    # A validation this far below the 50/50 blend of the same triplets ends the run as diverged. Collapsed
    # runs seen here sat ~25 dB below it; a healthy net's first steps (random initial flows) dipped up to ~5 dB.
    collapse_margin_db: float | None = 10.0
    workers: int | None = None  # data-loader workers; None = cores - 1 (at most 4)
    checkpoint_every: int | None = None  # steps; the final checkpoint is always written
    # Teacher flows for the distill loss: cached on disk (default) or computed per item (huge datasets).
    cache_teacher_flows: bool = True
    augment: dict[str, Any] = field(default_factory=dict)  # AugmentConfig overrides, e.g. {"p_rotate": 0}
    # The pretrained parent whose output frame the ``parent`` loss term pulls towards: a name of
    # ``rife_core.model.parents.PARENTS`` or PRESET:PATH; None: no parent (written only when set).
    parent: str | None = None
    # Compute the parent's frame once per training triplet at full size and cache it (pays when several
    # trainings share it); False: the parent runs on every batch's crops (written only when set).
    cache_parent_frames: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "data", tuple(self.data))
        object.__setattr__(self, "stages", tuple(Stage(**s) if isinstance(s, dict) else s for s in self.stages))
        if self.val_data is not None:
            object.__setattr__(self, "val_data", tuple(self.val_data))
        if not self.stages:
            raise ValueError("stages is empty: give at least one Stage")
        if self.ema_decay is not None and not 0 < self.ema_decay < 1:
            raise ValueError(f"ema_decay={self.ema_decay}: use a value in (0, 1), e.g. 0.999, or None")
        if self.warmup_steps < 0:
            raise ValueError(f"warmup_steps={self.warmup_steps}: use 0 or more steps")
        if not 0 <= self.synthetic_ratio < 1:
            raise ValueError(f"synthetic_ratio={self.synthetic_ratio}: use a fraction in [0, 1)")
        if self.needs_parent and self.parent is None:
            raise ValueError("the 'parent' loss term needs a parent: set parent, e.g. parent='rife_v3_hd'")

    @property
    def needs_parent(self) -> bool:
        losses = [self.loss, *(s.loss for s in self.stages if s.loss)]
        return any(t in loss for loss in losses for t in PARENT_TERMS)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["parent"] is None:  # configs written before parents existed keep their content (and keys)
            d.pop("parent")
        if not d["cache_parent_frames"]:
            d.pop("cache_parent_frames")
        return d

    def backbones(self) -> set[str]:
        """ImageNet backbones ("vgg") the loss terms of any stage need on disk."""
        losses = [self.loss, *(s.loss for s in self.stages if s.loss)]
        return {BACKBONE_OF_TERM[t] for loss in losses for t in loss if t in BACKBONE_OF_TERM}

    @property
    def total_steps(self) -> int | None:
        """Planned steps over all stages when every stage has a step budget."""
        if any(s.steps is None for s in self.stages):
            return None
        return sum(s.steps or 0 for s in self.stages)
