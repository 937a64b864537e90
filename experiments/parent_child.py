"""A spec's base as a child of a pretrained parent, written in the parent space's own dimensions.

A spec that names a ``parent`` writes its ``base`` (and each variant's ``arch`` changes) with the dimensions
of ``space/parent_space.yaml``: ``scales``, ``width`` and ``depth`` (one per level, or one for all levels),
and the global choices (``both_orders``, ``warp_every``, ``warp_resolution``, ``conv_type``, ``downsample``,
``upsample``); every choice left out is the parent's. ``base`` may also name a shipped child
(``experiments/bases.yaml``), so that specs comparing against one control share it exactly.
Before any training each variant is served by the parent (copied, rewritten or fitted layers) or refused
with the reason (``served``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from rife_core.model.config import ArchConfig, BlockConfig, ConfigError
from rife_core.model.layer_starts import needs_fit, replaced_kinds
from rife_core.model.parents import parent_config
from rife_core.model.slicing import refusals
from space.space import GLOBAL, PER_LEVEL

BASES_FILE = Path(__file__).parent / "bases.yaml"
CHILD_KEYS = ("scales", *PER_LEVEL, *GLOBAL)


def shipped_bases() -> dict[str, dict[str, Any]]:
    """Named children of parents (``bases.yaml``): name -> space dimensions."""
    return dict(yaml.safe_load(BASES_FILE.read_text()) or {})


def base_choices(base: str | dict[str, Any]) -> dict[str, Any]:
    """A spec's ``base`` as space dimensions: a mapping as written, or a shipped child by name."""
    if isinstance(base, dict):
        return dict(base)
    bases = shipped_bases()
    if base not in bases:
        raise ConfigError(
            f"unknown base child {base!r}: write the child's choices (scales, width, depth, ...) or name one of "
            f"{', '.join(bases)} ({BASES_FILE.name})"
        )
    return dict(bases[base])


def child_config(parent: str, choices: dict[str, Any]) -> ArchConfig:
    """The child of ``parent`` with these space choices; a choice left out is the parent's."""
    if unknown := sorted(set(choices) - set(CHILD_KEYS)):
        raise ConfigError(f"unknown child choices {unknown}: use {', '.join(CHILD_KEYS)}")
    pcfg = parent_config(parent)
    scales = [int(s) for s in choices.get("scales", [b.scale for b in pcfg.blocks])]
    per_level = {}
    for name in PER_LEVEL:
        value = choices.get(name)
        if value is None:
            raise ConfigError(f"a child needs its {name}: one per level of scales {scales}, or one for all")
        values = list(value) if isinstance(value, (list, tuple)) else [value] * len(scales)
        if len(values) != len(scales):
            raise ConfigError(f"{name} {values} has {len(values)} entries for the {len(scales)} levels {scales}")
        per_level[name] = [int(v) for v in values]
    blocks = tuple(BlockConfig(s, w, d) for s, w, d in zip(scales, per_level["width"], per_level["depth"], strict=True))
    return pcfg.replace(blocks=blocks, **{k: v for k, v in choices.items() if k in GLOBAL})


def served(parent: str, child: ArchConfig) -> tuple[bool, str]:
    """Whether ``parent`` serves ``child`` and how (the kinds rewritten or fitted), or why it does not."""
    pcfg = parent_config(parent)
    reasons = refusals(pcfg, child)
    if reasons:
        return False, "; ".join(reasons)
    kinds = replaced_kinds(pcfg, child)
    how = "sliced" + (f"; {', '.join(kinds)} from the parent's layers" if kinds else "")
    return True, how + (" (fitted)" if needs_fit(pcfg, child) else "")


def changed(base: ArchConfig, other: ArchConfig) -> list[str]:
    """The space dimensions in which ``other`` differs from ``base`` (what a variant changes)."""
    out = []
    if [b.scale for b in base.blocks] != [b.scale for b in other.blocks]:
        out.append("scales")
    else:
        out += [n for n in PER_LEVEL if [getattr(b, n) for b in base.blocks] != [getattr(b, n) for b in other.blocks]]
    return out + [k for k in GLOBAL if getattr(base, k) != getattr(other, k)]
