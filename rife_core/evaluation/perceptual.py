"""LPIPS (the ``lpips`` package, genuine backbones) and VGG16 features for the perceptual loss."""

from __future__ import annotations

import logging
import warnings
from functools import cache

import torch
from torch import nn

from rife_core.evaluation.backbone_weights import backbone_convs, load_into

log = logging.getLogger(__name__)


def build_lpips(net: str = "alex") -> nn.Module:
    """``lpips.LPIPS`` v0.1 with genuine ImageNet backbone weights, frozen, in eval mode.

    Expects images in [-1, 1] (``normalize=True`` in its forward accepts [0, 1]).
    """
    import lpips

    convs = backbone_convs(net)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchvision's `pretrained=` deprecation inside lpips
        # pnet_rand=True builds the backbone without downloading; the weights are loaded next.
        model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=convs is not None, verbose=False)
    if convs is not None:
        load_into(model.net, convs)
    model.eval().requires_grad_(False)
    return model


@cache
def _shared_lpips(net: str, device: str) -> nn.Module:
    return build_lpips(net).to(device)


def lpips_distance(pred: torch.Tensor, target: torch.Tensor, net: str = "alex") -> torch.Tensor:
    """Per-image LPIPS distance for batches in [0, 1]; shape (B,)."""
    model = _shared_lpips(net, str(pred.device))
    with torch.no_grad():
        return model(pred, target, normalize=True).flatten()


# VGG16 layers whose ReLU outputs the perceptual loss compares (relu1_2, relu2_2, relu3_3, relu4_3, relu5_3).
VGG_CFG = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512)
VGG_TAPS = (1, 3, 6, 9, 12)  # indices of the convolutions after which features are taken
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class VGGFeatures(nn.Module):
    """VGG16's convolutional trunk with the genuine ImageNet weights; returns five ReLU feature maps."""

    def __init__(self, taps: tuple[int, ...] = VGG_TAPS) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch = 3
        for v in VGG_CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(in_ch, int(v), 3, 1, 1), nn.ReLU(inplace=False)]
                in_ch = int(v)
        self.layers = nn.Sequential(*layers)
        self.taps = taps
        convs = backbone_convs("vgg")
        if convs is None:  # torchvision's cached checkpoint
            import torchvision

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tv = torchvision.models.vgg16(weights="IMAGENET1K_V1").features
            convs = [{"weight": m.weight.data, "bias": m.bias.data} for m in tv if isinstance(m, nn.Conv2d)]
        load_into(self.layers, convs)
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)
        self.requires_grad_(False).eval()
        self._last = max(taps)

    def train(self, mode: bool = True) -> VGGFeatures:
        return super().train(False)  # frozen feature extractor: always eval

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = (x - self.mean) / self.std
        feats, conv_index = [], -1
        for layer in self.layers:
            x = layer(x)
            if isinstance(layer, nn.Conv2d):
                conv_index += 1
            elif isinstance(layer, nn.ReLU) and conv_index in self.taps:
                feats.append(x)
                if conv_index == self._last:
                    break
        return feats
